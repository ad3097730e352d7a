"""The plugin host: discovery, manifests, and the loaders for commands, skills, agents and hooks."""

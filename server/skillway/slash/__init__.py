"""Slash commands: resolve a name, render its body, run it."""

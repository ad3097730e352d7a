"""The hook engine: which handlers match an event, running them, and reading their output."""

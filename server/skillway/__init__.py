"""skillway: Claude-Code-style plugins and the code API in any LSP editor."""

__version__ = "0.1.0"

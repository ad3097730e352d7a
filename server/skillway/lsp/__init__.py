"""The language server: pygls wiring only. Handlers translate LSP to the plain asyncio packages and back."""

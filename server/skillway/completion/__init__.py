"""Inline completion: context around the cursor, the prompt, debounce and cancel, cache, cleanup."""

"""The leaf layer: problems, paths, secrets, placeholders, processes, reports. It imports nothing else
of skillway, so every layer above may use it."""

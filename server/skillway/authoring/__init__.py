"""Editor features for plugin files, as plain Python: the language server translates them to LSP.

- `kinds.document_kind(path)`: which plugin file a path is (manifest, marketplace, hooks, settings,
  skill, command, agent) or None.
- `diagnostics.diagnose(path, text)`: the validator's problems for an editor's current (unsaved) text.
- `completion.complete(path, text, line, character)`: keys and values the schemas allow at the cursor.
- `hover.hover(path, text, line, character)`: markdown describing the key under the cursor.

Positions given to `complete` and `hover` are 0-based, the character counted in Python `str` indices
(the caller converts from UTF-16); problems are 1-based like every `Problem`. Nothing here imports
pygls or lsprotocol.
"""

"""The editor features are plain Python: only the language server speaks LSP."""

import subprocess
import sys


def test_authoring_imports_neither_pygls_nor_lsprotocol():
    code = ("import sys, skillway.authoring.kinds, skillway.authoring.diagnostics, skillway.authoring.completion, "
            "skillway.authoring.hover; print(sorted(m for m in sys.modules if m.startswith(('pygls', 'lsprotocol'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

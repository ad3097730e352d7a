"""The bundled plugin's `hooks/ship_rules.py`, loaded as a module.

The hook scripts that judge /ship must run with only the standard library (also under Claude Code),
so the rules live there, beside them; skillway uses that same file rather than a copy of it.
"""

from __future__ import annotations

import importlib.util
import sys

from skillway.plugins.bundled import bundled_plugin_root

_NAME = "skillway._ship_rules"


def _load():
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    path = bundled_plugin_root() / "hooks" / "ship_rules.py"
    spec = importlib.util.spec_from_file_location(_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


rules = _load()
Change = rules.Change
ChangeError = rules.ChangeError

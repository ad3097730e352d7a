"""Where the bundled plugin "skillway" lives: inside the installed package (a wheel) or at the root
of a source checkout (an editable install), where the repository is itself the plugin."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def bundled_plugin_root() -> Path:
    for candidate in (_PACKAGE / "_bundled", _PACKAGE.parent.parent):
        if (candidate / "manifest" / "plugin.json").is_file():
            return candidate
    raise RuntimeError(f"the bundled plugin is missing from this installation of skillway ({_PACKAGE})")


def schema_dir() -> Path:
    return bundled_plugin_root() / "manifest" / "schema"

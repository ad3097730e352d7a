"""The user's folders: settings (`SKILLWAY_CONFIG_DIR`) and data (`SKILLWAY_DATA_DIR`), per platform;
and the user's Claude Code folder (`~/.claude`, or `CLAUDE_CONFIG_DIR` as Claude Code reads it)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "skillway"


def config_dir() -> Path:
    return Path(os.environ.get("SKILLWAY_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("SKILLWAY_DATA_DIR") or platformdirs.user_data_dir(APP))


def home_dir() -> Path | None:
    """The user's home folder, or None when there is none to find (no HOME, no passwd entry)."""
    try:
        return Path.home()
    except (RuntimeError, KeyError, OSError):
        return None


def claude_user_dir() -> Path | None:
    """The user's own Claude Code folder: CLAUDE.md, commands/, skills/, agents/, settings.json.
    Claude Code reads `CLAUDE_CONFIG_DIR` instead of `~/.claude` when it is set, and so does skillway."""
    if os.environ.get("CLAUDE_CONFIG_DIR"):
        return Path(os.environ["CLAUDE_CONFIG_DIR"]).expanduser()
    home = home_dir()
    return home / ".claude" if home is not None else None

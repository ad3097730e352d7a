"""The user's folders: settings (`SKILLWAY_CONFIG_DIR`) and data (`SKILLWAY_DATA_DIR`), per platform."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "skillway"


def config_dir() -> Path:
    return Path(os.environ.get("SKILLWAY_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("SKILLWAY_DATA_DIR") or platformdirs.user_data_dir(APP))

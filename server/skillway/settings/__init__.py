"""Settings: typed sections (camelCase on the wire), the layered loader, the user's folders, trust.

`sections` holds the attrs classes (`Settings`, `Purpose`, the per-purpose sections), `converter`
the one cattrs converter that structures and checks them, `loader` the layers, `dirs` the user's
settings and data folders and `trust` the store of trusted workspaces.
"""

from skillway.settings.converter import Invalid, parse_duration
from skillway.settings.dirs import config_dir, data_dir
from skillway.settings.loader import WAITS_FOR_TRUST, WORKSPACE_SETTINGS, load_settings
from skillway.settings.sections import (
    PURPOSES,
    HookOutputs,
    MaxTokens,
    ModelPrice,
    Models,
    Purpose,
    QuotaSetting,
    Retries,
    Settings,
    Timeouts,
)

__all__ = [
    "PURPOSES",
    "WAITS_FOR_TRUST",
    "WORKSPACE_SETTINGS",
    "HookOutputs",
    "Invalid",
    "MaxTokens",
    "ModelPrice",
    "Models",
    "Purpose",
    "QuotaSetting",
    "Retries",
    "Settings",
    "Timeouts",
    "config_dir",
    "data_dir",
    "load_settings",
    "parse_duration",
]

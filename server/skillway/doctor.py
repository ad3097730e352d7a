"""`skillway doctor`: what a person needs to see when something does not load or behave."""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from pathlib import Path

from skillway import __version__
from skillway.config import config_dir, data_dir
from skillway.plugins.bundled import bundled_plugin_root
from skillway.plugins.discovery import load_for_workspace
from skillway.plugins.report import listing_text


def doctor_report(workspace: Path, plugin_dirs: list[Path]) -> str:
    plugins = load_for_workspace(workspace, plugin_dirs)
    has_key = bool(os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"))
    lines = [
        f"skillway {__version__} on Python {platform.python_version()} ({sys.executable})",
        f"workspace:       {workspace}",
        f"bundled plugin:  {bundled_plugin_root()}",
        f"settings folder: {config_dir()}",
        f"data folder:     {data_dir()}",
        f"anthropic SDK:   {'installed' if importlib.util.find_spec('anthropic') else 'MISSING'}",
        f"API credentials: {'set' if has_key else 'not set (ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN)'}",
        f"API base URL:    {os.environ.get('ANTHROPIC_BASE_URL') or 'default'}",
        "",
        listing_text(plugins),
    ]
    return "\n".join(lines)

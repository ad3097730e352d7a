"""`skillway acp`: the Agent Client Protocol agent an editor starts (Zed, JetBrains, CodeCompanion,
avante, agent-shell), over stdio."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    from skillway.acp.main import run as serve  # the SDK is loaded by this command only

    return serve(plugin_dirs)

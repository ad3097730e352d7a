"""What the reliability suites share: the CLI run as a user would run it, with their own settings file."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cli_runner import run_skillway

KEY = "sk-reliability-secret-0123456789"


def user_settings(home: Path, data: dict) -> Path:
    path = home / "config" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with an API key and their own settings and data folders (no
    ANTHROPIC_BASE_URL: where requests go comes from the settings files)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SKILLWAY_")) or k == "SKILLWAY_NO_DAEMON"}
    env.update(ANTHROPIC_API_KEY=KEY, SKILLWAY_CONFIG_DIR=str(home / "config"), SKILLWAY_DATA_DIR=str(home / "data"))
    env.update(extra)
    return env


def run_cli(workspace: Path, home: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return run_skillway(args, cwd=workspace, env=cli_env(home, **env), input=stdin)

"""Settings files skillway changes for a person: a JSON object read, changed and written whole, at
once, keeping everything else in it. The workspace's `.claude/settings.local.json` is where Claude
Code keeps a person's answers (the rules allowed "always", the `.mcp.json` servers approved)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def local_settings(workspace: Path) -> Path:
    return workspace / ".claude" / "settings.local.json"


def read_object(path: Path) -> dict[str, Any]:
    """A JSON settings file to change (none yet: empty); ValueError when it is not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object; it is left as it is")
    return data


def write_object(path: Path, data: dict[str, Any]) -> None:
    """Written whole, at once: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.skillway-{os.getpid()}")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def allow_always(workspace: Path, rule: str) -> None:
    """Keep `rule` (`Bash(npm:*)`) among the workspace's allow rules, as Claude Code keeps an "always"
    answer (`permissions.allow` of its local settings). ValueError when that file cannot be kept."""
    path = local_settings(workspace)
    data = read_object(path)
    permissions = data.get("permissions")
    if permissions is None:
        permissions = data["permissions"] = {}
    if not isinstance(permissions, dict):
        raise ValueError(f"{path}: `permissions` is not an object; it is left as it is")
    rules = permissions.get("allow")
    rules = [r for r in rules if isinstance(r, str)] if isinstance(rules, list) else []
    if rule not in rules:
        permissions["allow"] = [*rules, rule]
        write_object(path, data)

"""Which plugin file a document is, told by its name and place (the rules of `skillway plugins validate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from skillway.plugins import agents, commands, hooks_config, manifest, marketplace, skills
from skillway.plugins.validate import file_kind

Kind = Literal["manifest", "marketplace", "hooks", "settings", "skill", "command", "agent"]

JSON_KINDS = frozenset({"manifest", "marketplace", "hooks", "settings"})
MARKDOWN_KINDS = frozenset({"skill", "command", "agent"})

# The JSON Schema each kind is checked against ("settings": only its `hooks`, see schemas.SETTINGS).
SCHEMAS: dict[str, str] = {
    "manifest": manifest.SCHEMA,
    "marketplace": marketplace.SCHEMA,
    "hooks": hooks_config.SCHEMA,
    "settings": "settings",
    "skill": skills.SCHEMA,
    "command": commands.SCHEMA,
    "agent": agents.SCHEMA,
}


def document_kind(path: Path) -> Kind | None:
    """"manifest" (a plugin.json anywhere), "marketplace", "hooks", "settings" (`.claude/settings*.json`),
    "skill", "command", "agent", or None for a file that is not a plugin file."""
    return file_kind(Path(path))  # type: ignore[return-value]

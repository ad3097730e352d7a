"""plugin.json: found at `.claude-plugin/plugin.json` or `manifest/plugin.json`, checked against its schema."""

from __future__ import annotations

from pathlib import Path

from skillway.core.located_json import LocatedJson
from skillway.core.problems import Problem, error
from skillway.plugins import files, schema

SCHEMA = "plugin.schema.json"
MANIFEST_LOCATIONS = (Path(".claude-plugin", "plugin.json"), Path("manifest", "plugin.json"))


def find_manifest(root: Path) -> Path | None:
    for relative in MANIFEST_LOCATIONS:
        if (root / relative).is_file():
            return root / relative
    return None


def load_manifest(path: Path, text: str | None = None) -> tuple[LocatedJson | None, list[Problem]]:
    """The manifest, or None when it cannot be used (the plugin then fails to load).

    With `text`, that text is checked instead of the file's content (an editor's unsaved buffer).
    """
    located, problems = files.read_json(path, text)
    if located is None:
        return None, problems
    if not isinstance(located.value, dict):
        return None, problems + [error(path, "plugin.json must be a JSON object")]
    problems += schema.check(located.value, SCHEMA, path, located.position)
    return located, problems

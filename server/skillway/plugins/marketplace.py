"""marketplace.json: a catalogue of plugins. Local `./` sources load; remote ones are only listed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from skillway.core.paths import resolve_declared
from skillway.core.problems import Problem, error, has_error
from skillway.plugins import files, schema
from skillway.plugins.model import MarketplaceEntry

SCHEMA = "marketplace.schema.json"
MARKETPLACE_FILE = Path(".claude-plugin", "marketplace.json")


@dataclass
class Marketplace:
    name: str
    path: Path
    entries: list[MarketplaceEntry] = field(default_factory=list)
    # install id -> (plugin root, the entry when it is the whole definition (strict: false))
    local: dict[str, tuple[Path, dict | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_marketplace(path: Path, text: str | None = None) -> Marketplace:
    """With `text`, that text is read instead of the file's content (an editor's unsaved buffer)."""
    root = path.parent.parent  # the folder holding .claude-plugin/
    located, problems = files.read_json(path, text)
    market = Marketplace(name=root.name, path=path, problems=problems)
    if located is None:
        return market
    if not isinstance(located.value, dict):
        problems.append(error(path, "marketplace.json must be a JSON object"))
        return market
    problems += schema.check(located.value, SCHEMA, path, located.position)
    if has_error(problems):
        return market
    data = located.value
    market.name = data["name"]
    plugin_root = (data.get("metadata") or {}).get("pluginRoot")
    for index, raw in enumerate(data["plugins"]):
        source = raw["source"]
        entry = MarketplaceEntry(
            name=raw["name"],
            marketplace=market.name,
            source=source,
            description=raw.get("description"),
            version=raw.get("version"),
            installed=isinstance(source, str),
            definition=raw if raw.get("strict") is False else None,
        )
        if isinstance(source, str):
            relative = source if source.startswith(".") or not isinstance(plugin_root, str) else f"{plugin_root}/{source}"
            folder, refused = resolve_declared(root, relative)
            if folder is None or not folder.is_dir():
                why = refused or f'plugin source "{source}" is not a folder'
                problems.append(error(path, why, *located.position(("plugins", index, "source"))))
                entry = replace(entry, installed=False)
            else:
                market.local[entry.install_id] = (folder, entry.definition)
        market.entries.append(entry)
    return market

"""`skillway plugins validate`: every problem in plugin folders, marketplaces or single plugin files."""

from __future__ import annotations

from pathlib import Path

from skillway.plugins import hooks_config
from skillway.plugins.agents import load_agent
from skillway.plugins.commands import load_command
from skillway.plugins.discovery import load_for_validation
from skillway.plugins.loader import PROJECT_SETTINGS, load_plugin
from skillway.plugins.manifest import load_manifest
from skillway.plugins.marketplace import load_marketplace
from skillway.plugins.model import Source
from skillway.plugins.problems import Problem, error
from skillway.plugins.skills import SKILL_FILE, load_skill


def validate(paths: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    folders = []
    for path in paths:
        if path.is_dir():
            folders.append(path)
        elif path.exists():
            problems += validate_file(path)
        else:
            problems.append(error(path, "no such file or folder"))
    if folders:
        problems += load_for_validation(folders).all_problems()
    return problems


def validate_file(path: Path) -> list[Problem]:
    """The problems of one plugin file, its kind told by its name and place."""
    name, parents = path.name, {p.name for p in path.parents}
    if name == "plugin.json":
        if path.parent.name not in (".claude-plugin", "manifest"):
            return load_manifest(path)[1]  # not in a plugin: the file alone, without its paths
        plugin = load_plugin(path.parent.parent, Source.PLUGIN_DIR)
        return [p for p in plugin.problems if p.path == path.resolve()]
    if name == "marketplace.json":
        return load_marketplace(path).problems
    if name in PROJECT_SETTINGS and path.parent.name == ".claude":
        return hooks_config.load_settings_hooks(path)[1]
    if name == "hooks.json" or (path.suffix == ".json" and path.parent.name == "hooks"):
        return hooks_config.load_hooks_file(path)[1]
    if name == SKILL_FILE:
        return load_skill(path, head_only=False)[1]
    if path.suffix == ".md" and "agents" in parents:
        return load_agent(path)[1]
    if path.suffix == ".md" and "commands" in parents:
        relative = path.stem
        return load_command(path, relative)[1]
    return [error(path, "not a plugin file skillway knows (plugin.json, marketplace.json, hooks.json, "
                        "SKILL.md, or a .md file under commands/ or agents/)")]

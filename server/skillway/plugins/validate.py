"""`skillway plugins validate`: every problem in plugin folders, marketplaces or single plugin files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skillway.core.paths import exists, is_dir
from skillway.core.problems import Problem, error
from skillway.plugins import hooks_config
from skillway.plugins.agents import load_agent
from skillway.plugins.commands import load_command
from skillway.plugins.discovery import load_for_validation
from skillway.plugins.loader import PROJECT_SETTINGS, load_plugin
from skillway.plugins.manifest import load_manifest
from skillway.plugins.marketplace import load_marketplace
from skillway.plugins.model import Source
from skillway.plugins.skills import SKILL_FILE, load_skill


@dataclass(frozen=True)
class Validation:
    plugins: int  # plugins found in the folders given
    files: int  # single files given
    problems: list[Problem]

    def strict(self) -> Validation:
        """For authors who publish: the publishing rules Claude Code does not enforce when it loads
        (the Agent Skills spec's names, a list as an argument hint) count as errors."""
        return Validation(self.plugins, self.files, [problem.strict() for problem in self.problems])

    def summary(self) -> str:
        """One line: "3 plugins, 0 errors, 2 warnings" (and the single files, when there were some)."""
        errors = sum(p.is_error for p in self.problems)
        parts = [_count(self.plugins, "plugin")] if self.plugins or not self.files else []
        parts += [_count(self.files, "file")] if self.files else []
        return ", ".join([*parts, _count(errors, "error"), _count(len(self.problems) - errors, "warning")])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def validate(paths: list[Path]) -> Validation:
    problems: list[Problem] = []
    folders, files = [], 0
    for path in paths:
        if is_dir(path):
            folders.append(path)
        elif exists(path):
            files += 1
            problems += validate_file(path)
        else:
            problems.append(error(path, "no such file or folder"))
    plugins = 0
    if folders:
        found = load_for_validation(folders)
        plugins = len(found.plugins)
        problems += found.all_problems()
    return Validation(plugins, files, problems)


def file_kind(path: Path) -> str | None:
    """The kind of plugin file `path` is, told by its name and place: "manifest", "marketplace",
    "settings", "hooks", "skill", "agent" or "command"; None for a file that is none of these."""
    name = path.name
    if name == "plugin.json":
        return "manifest"
    if name == "marketplace.json":
        return "marketplace"
    if name in PROJECT_SETTINGS and path.parent.name == ".claude":
        return "settings"
    if name == "hooks.json" or (path.suffix == ".json" and path.parent.name == "hooks"):
        return "hooks"
    if name == SKILL_FILE:
        return "skill"
    if path.suffix == ".md":
        parents = {p.name for p in path.parents}
        if "agents" in parents:
            return "agent"
        if "commands" in parents:
            return "command"
    return None


def in_plugin_manifest_folder(path: Path) -> bool:
    """A plugin.json where a plugin keeps its manifest (its declared paths are then checked too)."""
    return path.parent.name in (".claude-plugin", "manifest")


def validate_file(path: Path) -> list[Problem]:
    """The problems of one plugin file, its kind told by its name and place."""
    kind = file_kind(path)
    if kind == "manifest":
        if not in_plugin_manifest_folder(path):
            return load_manifest(path)[1]  # not in a plugin: the file alone, without its paths
        plugin = load_plugin(path.parent.parent, Source.PLUGIN_DIR)
        return [p for p in plugin.problems if p.path == path.resolve()]
    if kind == "marketplace":
        return load_marketplace(path).problems
    if kind == "settings":
        return hooks_config.load_settings_hooks(path)[1]
    if kind == "hooks":
        return hooks_config.load_hooks_file(path)[1]
    if kind == "skill":
        return load_skill(path, head_only=False)[1]
    if kind == "agent":
        return load_agent(path)[1]
    if kind == "command":
        relative = path.stem
        return load_command(path, relative)[1]
    return [error(path, "not a plugin file skillway knows (plugin.json, marketplace.json, hooks.json, "
                        "SKILL.md, or a .md file under commands/ or agents/)")]

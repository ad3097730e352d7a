"""Finds every plugin a session uses: the bundled one, the user's (their plugin folders and what they
installed from marketplaces), `--plugin-dir`s, the user's own `~/.claude/` folder and the workspace's.

A folder given as a plugin source is a marketplace (it has `.claude-plugin/marketplace.json`), a
plugin (a manifest, a component folder or a root SKILL.md) or, failing both, a folder of plugins.
The same folder reached twice loads once, under the first (most trusted) source. A plugin that
`enabledPlugins` switches off is left out (see `enabled`).

The user's `~/.claude/` items and the workspace's `.claude/` ones both have bare names; the user's
come first, and the catalog lets them win for commands and skills and the workspace's for agents,
as Claude Code 2.1.328 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillway.core.paths import Walk, is_dir
from skillway.core.problems import Problem, error, warning
from skillway.plugins.bundled import bundled_plugin_root
from skillway.plugins.enabled import EnabledPlugins, held_back_warning, plugin_id
from skillway.plugins.loader import load_plugin, load_project, load_user_scope
from skillway.plugins.manifest import find_manifest
from skillway.plugins.marketplace import MARKETPLACE_FILE, Marketplace, load_marketplace
from skillway.plugins.mcp_config import MCP_FILE, plugin_servers
from skillway.plugins.model import Plugin, Source
from skillway.plugins.registry import PluginsHome
from skillway.plugins.skills import SKILL_FILE
from skillway.plugins.user_config import StoredOptions
from skillway.settings import Settings
from skillway.settings.dirs import claude_user_dir, home_dir

_COMPONENT_FOLDERS = ("commands", "skills", "agents", "hooks")


@dataclass
class PluginSet:
    plugins: list[Plugin] = field(default_factory=list)
    marketplaces: list[Marketplace] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # not tied to one plugin (a missing folder)
    disabled: list[Plugin] = field(default_factory=list)  # switched off by enabledPlugins: not used
    held_back: list[str] = field(default_factory=list)  # plugins the workspace's enabledPlugins would switch, once trusted

    def all_problems(self) -> list[Problem]:
        found = list(self.problems)
        for market in self.marketplaces:
            found += market.problems
        for plugin in self.plugins:
            found += plugin.problems
        return found

    def find(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name or f"{p.name}@{p.marketplace}" == name), None)


def is_plugin(folder: Path) -> bool:
    return (
        find_manifest(folder) is not None
        or (folder / SKILL_FILE).is_file()
        or (folder / MCP_FILE).is_file()  # a plugin that is only MCP servers
        or any((folder / name).is_dir() for name in _COMPONENT_FOLDERS)
    )


def is_marketplace(folder: Path) -> bool:
    return (folder / MARKETPLACE_FILE).is_file()


class _Discovery:
    def __init__(self, full_check: bool, enabled: EnabledPlugins | None = None, trusted: bool = False) -> None:
        self.result = PluginSet()
        self.seen: set[Path] = set()
        self.full_check = full_check
        self.enabled = enabled or EnabledPlugins()
        self.trusted = trusted  # whether the workspace's enabledPlugins may switch the user's plugins too

    def add_plugin(self, root: Path, source: Source, *, install_id: str | None = None, **options) -> Plugin | None:
        """Load the plugin at `root` (None when that folder was loaded already). It joins the set
        unless enabledPlugins switches it off by `install_id` (default: its name@marketplace)."""
        key = root.resolve()
        if key in self.seen:
            return None
        self.seen.add(key)
        plugin = load_plugin(root, source, full_check=self.full_check, **options)
        name = install_id or plugin_id(plugin)
        enabled, held = self.enabled.decide(name, source, self.trusted) if name else (True, None)
        if name and held is not None:
            self.result.held_back.append(name)
            self.result.problems.append(held_back_warning(name, held))
        (self.result.plugins if enabled else self.result.disabled).append(plugin)
        return plugin

    def add_installed(self, home: PluginsHome) -> None:
        """The plugins installed from marketplaces: the user's, named by their marketplace entry."""
        installed, problems = home.read_installed()
        self.result.problems += problems
        for record in installed.values():
            if not is_dir(record.path):
                self.result.problems.append(error(record.path, f"installed plugin {record.install_id} has lost its folder; "
                                                               f"uninstall it and install it again"))
                continue
            plugin = self.add_plugin(record.path, Source.USER, definition=record.definition, marketplace=record.marketplace,
                                     install_id=f"{record.plugin}@{record.marketplace}")
            if plugin is not None:
                plugin.name, plugin.commit = record.plugin, record.commit

    def add_marketplace(self, folder: Path, source: Source) -> None:
        market = load_marketplace(folder / MARKETPLACE_FILE)
        self.result.marketplaces.append(market)
        for install_id, (root, definition) in market.local.items():
            self.add_plugin(root, source, definition=definition, marketplace=market.name, install_id=install_id)

    def add_folder(self, folder: Path, source: Source, *, nested: bool = True) -> None:
        # A plugin folder is the user's (or a trusted workspace's) choice, so its links to plugins
        # elsewhere are followed; the scan is one level deep and bounded, and never raises.
        try:
            if not folder.is_dir():
                self.result.problems.append(error(folder, "plugin folder does not exist"))
                return
            marketplace, plugin = is_marketplace(folder), is_plugin(folder)
        except OSError as exc:
            self.result.problems.append(warning(folder, f"cannot read plugin folder: {exc.strerror or exc}; it is skipped"))
            return
        if marketplace:
            self.add_marketplace(folder, source)
        if plugin:
            self.add_plugin(folder, source)
        elif nested and not marketplace:
            walk = Walk(folder)
            children = [folder / entry.name for entry, is_folder in walk.listing(folder)
                        if is_folder and not entry.name.startswith(".")]
            self.result.problems += walk.problems
            for child in children:
                try:
                    found = is_plugin(child) or is_marketplace(child)
                except OSError as exc:
                    self.result.problems.append(
                        warning(child, f"cannot read plugin folder: {exc.strerror or exc}; it is skipped"))
                    continue
                if found:
                    self.add_folder(child, source, nested=False)


def discover(
    workspace: Path | None,
    settings: Settings,
    plugin_dirs: Sequence[Path] = (),
    *,
    include_bundled: bool = True,
    full_check: bool = False,
    workspace_trusted: bool = False,
    include_user_scope: bool = True,
) -> PluginSet:
    """Every plugin of a session in `workspace`. `workspace_trusted`: the workspace's enabledPlugins
    may switch the user's own plugins too. `include_user_scope`: load `~/.claude/` (its commands,
    skills, agents and the hooks of its settings.json)."""
    user_dir = claude_user_dir()
    enabled = EnabledPlugins.read(user_dir, workspace)
    discovery = _Discovery(full_check, enabled, workspace_trusted)
    discovery.result.problems += enabled.problems
    if include_bundled:
        discovery.add_plugin(bundled_plugin_root(), Source.BUNDLED)
    for folder in settings.plugin_dirs:
        discovery.add_folder(folder, Source.USER)
    discovery.add_installed(PluginsHome())
    for folder in plugin_dirs:
        discovery.add_folder(folder, Source.PLUGIN_DIR)
    if include_user_scope and user_dir is not None and is_dir(user_dir) and user_dir.resolve() not in discovery.seen:
        discovery.seen.add(user_dir.resolve())
        user = load_user_scope(user_dir, home_dir(), full_check=full_check)
        if user.commands or user.skills or user.agents or user.hooks or user.problems:  # ~/.claude holds more than this
            discovery.result.plugins.append(user)
    if workspace is not None:
        # Only `.claude-plugin/` makes the workspace itself a plugin or a marketplace: an ordinary
        # project may well have a `hooks/` or `commands/` folder of its own.
        if is_marketplace(workspace):
            discovery.add_marketplace(workspace, Source.WORKSPACE)
        if (workspace / ".claude-plugin" / "plugin.json").is_file():
            discovery.add_plugin(workspace, Source.WORKSPACE)
        for folder in settings.workspace_plugin_dirs:
            discovery.add_folder(folder, Source.WORKSPACE)
        claude_dir = workspace / ".claude"
        if claude_dir.is_dir() and claude_dir.resolve() not in discovery.seen:
            discovery.seen.add(claude_dir.resolve())
            discovery.result.plugins.append(load_project(claude_dir, full_check=full_check))
    discovery.result.problems += settings.problems
    stored = StoredOptions.read(user_dir)
    for plugin in discovery.result.plugins:
        declared = plugin.manifest.get("userConfig")
        if isinstance(declared, dict) and declared:
            plugin.options = stored.for_plugin(plugin.name, plugin.marketplace, declared)
        if plugin.loaded and plugin.namespaced:
            plugin.mcp_servers, problems = plugin_servers(plugin.root, plugin.manifest, plugin.name, plugin.options.values)
            plugin.problems += problems
    return discovery.result


def load_for_validation(paths: list[Path]) -> PluginSet:
    """Each path as a plugin, a marketplace or a folder of plugins, with every file read in full."""
    discovery = _Discovery(full_check=True)
    for path in paths:
        discovery.add_folder(path, Source.PLUGIN_DIR)
    return discovery.result

"""Loads one plugin folder: manifest, then commands, skills, agents and hooks as the manifest says.

Component paths follow Claude Code: `skills` adds to the default `skills/` folder while `commands`
and `agents` replace theirs; each is a string or an array; a file or a folder. A component file with
an error is left out; an error in the manifest leaves the whole plugin out. Either way the problem
is recorded on the plugin, and other plugins are not affected.

No folder shape stops loading: component folders are walked by `paths.Walk` (symlinks stay inside
the root, loops and bounds are problems), and a folder that cannot be read is a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from skillway.core.located_json import LocatedJson
from skillway.core.paths import (
    Found,
    Walk,
    exists,
    is_dir,
    is_file,
    real_path,
    resolve_declared,
)
from skillway.core.problems import Problem, error, has_error, warning
from skillway.plugins import hooks_config
from skillway.plugins.agents import agent_files, load_agent
from skillway.plugins.commands import command_files, load_command
from skillway.plugins.manifest import find_manifest, load_manifest
from skillway.plugins.model import Plugin, Source
from skillway.plugins.skills import SKILL_FILE, load_skill, skill_files

DEFAULT_HOOKS = Path("hooks", "hooks.json")


def load_plugin(
    root: Path,
    source: Source,
    *,
    definition: dict | None = None,
    marketplace: str | None = None,
    full_check: bool = False,
) -> Plugin:
    """Load the plugin at `root`.

    `definition` is a marketplace entry that is the whole plugin definition (`strict: false`).
    `full_check` reads skill bodies too (validation), instead of only their frontmatter.
    """
    root = real_path(root) or root
    plugin = Plugin(name=root.name, root=root, source=source, marketplace=marketplace)
    located: LocatedJson | None = None
    try:
        manifest_path = find_manifest(root)
    except OSError as exc:
        plugin.problems.append(warning(root, f"cannot read plugin folder: {exc.strerror or exc}; it is skipped"))
        plugin.loaded = False
        return plugin
    if definition is not None:
        plugin.manifest = {k: v for k, v in definition.items() if k not in ("source", "strict", "category", "tags")}
    elif manifest_path is not None:
        plugin.manifest_path = manifest_path
        located, problems = load_manifest(manifest_path)
        plugin.problems += problems
        if located is None or has_error(problems):
            name = located.value.get("name") if located and isinstance(located.value, dict) else None
            plugin.name = name if isinstance(name, str) and name else plugin.name
            plugin.loaded = False
            return plugin
        assert isinstance(located.value, dict)  # load_manifest refuses anything but an object
        plugin.manifest = located.value
    plugin.name = plugin.manifest.get("name") or plugin.name
    components = _Components(plugin, located, full_check)
    components.load()
    components.load_hooks()
    return plugin


PROJECT_SETTINGS = ("settings.json", "settings.local.json")
USER_SETTINGS = ("settings.json",)  # Claude Code reads no settings.local.json in the user's folder


def load_project(claude_dir: Path, *, full_check: bool = False) -> Plugin:
    """A workspace's own `.claude/` folder: commands, skills and agents with bare names, and the
    hooks of its settings files. It has no manifest."""
    root = real_path(claude_dir) or claude_dir
    plugin = Plugin(name="project", root=root, source=Source.WORKSPACE, namespaced=False)
    _Components(plugin, None, full_check, boundary=".claude folder").load()
    _settings_hooks(plugin, PROJECT_SETTINGS)
    return plugin


def load_user_scope(claude_dir: Path, home: Path | None, *, full_check: bool = False) -> Plugin:
    """The user's own `~/.claude/` folder, as Claude Code loads it: commands, skills and agents with
    bare names, and the hooks of its `settings.json`; the user's, so trusted. Its folders may be
    links (to a dotfiles repository, say) anywhere in the home folder."""
    root = real_path(claude_dir) or claude_dir
    plugin = Plugin(name="user", root=root, source=Source.USER, namespaced=False)
    home = real_path(home) if home is not None else None
    inside_home = home is not None and root.is_relative_to(home)
    _Components(plugin, None, full_check, boundary="home folder" if inside_home else "Claude Code user folder",
                limit=home if inside_home else None).load()
    _settings_hooks(plugin, USER_SETTINGS)
    return plugin


def _settings_hooks(plugin: Plugin, names: tuple[str, ...]) -> None:
    root = plugin.root
    for name in names:
        if is_file(root / name):
            groups, problems = hooks_config.load_settings_hooks(root / name)
            plugin.problems += problems
            plugin.hooks += groups


Locate = Callable[[tuple], tuple[int, int]]


def declared_paths(root: Path, manifest: dict, key: str, where: Path, locate: Locate) -> tuple[list[Path] | None, list[Problem]]:
    """The paths a manifest declares under `key`, checked; None when it declares none."""
    value = manifest.get(key)
    if value is None:
        return None, []
    found, problems = [], []
    for index, text in enumerate([value] if isinstance(value, str) else value):
        at = locate((key,) if isinstance(value, str) else (key, index))
        path, refused = resolve_declared(root, text)
        if path is None:
            assert refused is not None  # resolve_declared says why whenever it gives no path
            problems.append(error(where, refused, *at))
        elif not exists(path):
            problems.append(error(where, f'path "{text}" does not exist', *at))
        else:
            if not (text.startswith("./") or text == "."):
                problems.append(warning(where, f'path "{text}" should start with "./"', *at))
            found.append(path)
    return found, problems


def manifest_hooks(root: Path, manifest: dict, where: Path, locate: Locate) -> tuple[list, list[Path], list[Problem]]:
    """(inline hook groups, hooks files to load, problems): `hooks/hooks.json` always loads, and the
    manifest's `hooks` is an inline object or more files."""
    files, problems = [], []
    default = root / DEFAULT_HOOKS
    if is_file(default):
        real = real_path(default)
        if real is not None and real.is_relative_to(root):
            files.append(default)
        else:
            problems.append(error(default, "file leaves the plugin root through a symlink; it is ignored"))
    declared = manifest.get("hooks")
    if isinstance(declared, dict):
        groups, more = hooks_config.hook_groups(declared, where, locate, ("hooks",))
        return groups, files, problems + more
    paths, more = declared_paths(root, manifest, "hooks", where, locate)
    problems += more
    for path in paths or []:
        if real_path(path) in {real_path(f) for f in files}:
            problems.append(warning(where, f'"{path.relative_to(root)}" is loaded by default; '
                                    "listing it again makes Claude Code report a duplicate", *locate(("hooks",))))
        else:
            files.append(path)
    return [], files, problems


class _Components:
    def __init__(self, plugin: Plugin, located: LocatedJson | None, full_check: bool,
                 boundary: str = "plugin root", limit: Path | None = None) -> None:
        self.plugin = plugin
        self.root = plugin.root
        self.limit = limit or plugin.root  # no component file is read from outside it
        self.boundary = boundary  # what the limit is called in problems
        self.located = located
        self.full_check = full_check
        self.where = plugin.manifest_path or plugin.root
        self.seen: set[Path] = set()

    def report(self, problems: list[Problem]) -> None:
        self.plugin.problems.extend(problems)

    def locate(self, pointer: tuple) -> tuple[int, int]:
        return self.located.position(pointer) if self.located else (1, 1)

    def declared(self, key: str) -> list[Path] | None:
        """The paths the manifest declares under `key`, checked; None when it declares none."""
        paths, problems = declared_paths(self.root, self.plugin.manifest, key, self.where, self.locate)
        self.report(problems)
        return paths

    def files_below(self, targets: list[Path], list_files: Callable[[Path, Walk], list[Found]]) -> list[Found]:
        """Component files under `targets`, each once, refusing any that a symlink takes outside the root."""
        found = []
        for target in targets:
            resolved = real_path(target)
            if resolved is None:
                self.report([warning(target, "cannot follow this path; it is skipped")])
                continue
            if not resolved.is_relative_to(self.limit):
                self.report([error(target, f"folder leaves the {self.boundary} through a symlink "
                                           f"(to {resolved}); it is not followed")])
                continue
            walk = Walk(self.limit, self.boundary)
            items = list_files(resolved, walk)  # resolved paths below are real unless linked
            self.report(walk.problems)
            for item in items:
                real = real_path(item.path) if item.linked else item.path
                if real is None or not real.is_relative_to(self.limit):
                    self.report([error(item.path, f"file leaves the {self.boundary} through a symlink; it is ignored")])
                elif real not in self.seen:
                    self.seen.add(real)
                    found.append(item)
        return found

    def defaults(self, folder: str) -> list[Path]:
        path = self.root / folder
        return [path] if is_dir(path) else []

    def load(self) -> None:
        plugin = self.plugin
        commands = self.declared("commands")
        for path, _, name in self.files_below(self.defaults("commands") if commands is None else commands, command_files):
            command, problems = load_command(path, name)
            self.report(problems)
            if command is not None:
                self.add_unique(plugin.commands, command)

        skills = self.defaults("skills") + (self.declared("skills") or [])
        if not skills and is_file(self.root / SKILL_FILE):
            skills = [self.root]  # a single-skill plugin
        for path, _, _ in self.files_below(skills, skill_files):
            skill, problems = load_skill(path, head_only=not self.full_check)
            self.report(problems)
            if skill is not None:
                self.add_unique(plugin.skills, skill)

        agents = self.declared("agents")
        for path, _, _ in self.files_below(self.defaults("agents") if agents is None else agents, agent_files):
            agent, problems = load_agent(path)
            if agent is not None and plugin.namespaced and (agent.hooks or agent.permission_mode):
                # As Claude Code does: only the user's and the workspace's own agents get that much control.
                ignored = " and ".join(key for key, value in (("hooks", agent.hooks), ("permissionMode", agent.permission_mode))
                                       if value)
                problems.append(warning(path, f"a plugin's agent may not set {ignored}: ignored (an agent in "
                                              ".claude/agents/ may)"))
                agent = replace(agent, hooks=(), permission_mode=None)
            self.report(problems)
            if agent is not None:
                self.add_unique(plugin.agents, agent)


    def add_unique(self, items: list, item) -> None:
        twin = next((other for other in items if other.name == item.name), None)
        if twin is not None:
            self.report([warning(item.path, f'"{item.name}" is already defined by {twin.path}; this one is ignored')])
        else:
            items.append(item)

    def load_hooks(self) -> None:
        groups, files, problems = manifest_hooks(self.root, self.plugin.manifest, self.where, self.locate)
        self.report(problems)
        self.plugin.hooks += groups
        for path in files:
            groups, problems = hooks_config.load_hooks_file(path)
            self.report(problems)
            self.plugin.hooks += groups

"""`enabledPlugins` in Claude Code's settings files: `{"plugin@marketplace": true | false}`.

The files, a later one winning as in Claude Code: the user's `~/.claude/settings.json`, then the
workspace's `.claude/settings.json` and `.claude/settings.local.json`. `false` leaves the plugin out
(no commands, skills, agents or hooks); `true` keeps it. A plugin of a marketplace is named
`plugin@marketplace`; one given with `--plugin-dir` is `plugin@inline`, as Claude Code names it.

The workspace's files decide at once about the plugins the workspace brings itself. About the user's
own plugins (their plugin folders, `--plugin-dir`, installed plugins) they decide only once the
workspace is trusted: switching one off can silence a guard hook of the user's, and switching one
back on runs code the user switched off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillway.core import located_json
from skillway.core.problems import Problem, warning
from skillway.plugins.model import Plugin, Source

WORKSPACE_FILES = (Path(".claude", "settings.json"), Path(".claude", "settings.local.json"))
INLINE = "inline"  # the marketplace Claude Code names a --plugin-dir plugin after


@dataclass(frozen=True)
class Choice:
    enabled: bool
    path: Path  # the settings file that says so
    line: int = 1
    column: int = 1


@dataclass
class EnabledPlugins:
    user: dict[str, Choice] = field(default_factory=dict)
    workspace: dict[str, Choice] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def read(cls, user_dir: Path | None, workspace: Path | None) -> EnabledPlugins:
        found = cls()
        if user_dir is not None:
            found.user = _read(user_dir / "settings.json", found.problems)
        for relative in WORKSPACE_FILES if workspace is not None else ():
            assert workspace is not None
            found.workspace |= _read(workspace / relative, found.problems)
        return found

    def requests(self) -> dict[str, bool]:
        """What the workspace's files ask for (part of what trusting it covers)."""
        return {plugin_id: choice.enabled for plugin_id, choice in self.workspace.items()}

    def decide(self, plugin_id: str, source: Source, trusted: bool) -> tuple[bool, Choice | None]:
        """(whether the plugin loads, the workspace's choice held back until trust, if one is)."""
        user = self.user.get(plugin_id)
        enabled = user.enabled if user is not None else True
        choice = self.workspace.get(plugin_id)
        if choice is None or choice.enabled == enabled:
            return enabled, None
        if source is Source.WORKSPACE or trusted:
            return choice.enabled, None
        return enabled, choice


def plugin_id(plugin: Plugin) -> str | None:
    """The name enabledPlugins knows `plugin` by, or None (the bundled plugin, the .claude folders)."""
    if plugin.marketplace:
        return f"{plugin.name}@{plugin.marketplace}"
    return f"{plugin.name}@{INLINE}" if plugin.source is Source.PLUGIN_DIR else None


def held_back_warning(plugin_id: str, choice: Choice) -> Problem:
    state = "enable" if choice.enabled else "disable"
    return warning(choice.path, f'workspace not trusted, so its enabledPlugins cannot {state} "{plugin_id}", '
                   "a plugin of yours, until you run `skillway trust`", choice.line, choice.column)


def _read(path: Path, problems: list[Problem]) -> dict[str, Choice]:
    """The enabledPlugins of one settings file. A file that does not parse is the hooks loader's to
    report (it reads the same file); a wrong entry is left out with a warning."""
    try:
        located = located_json.parse(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, located_json.JsonSyntaxError, RecursionError):
        return {}
    value = located.value.get("enabledPlugins") if isinstance(located.value, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(warning(path, '"enabledPlugins" must be an object of "plugin@marketplace": true or false; '
                                "it is ignored", *located.position(("enabledPlugins",))))
        return {}
    found = {}
    for name, enabled in value.items():
        at = located.position(("enabledPlugins", name))
        if not isinstance(enabled, bool):
            problems.append(warning(path, f'enabledPlugins "{name}" must be true or false; it is ignored', *at))
        else:
            found[name] = Choice(enabled, path, *at)
    return found

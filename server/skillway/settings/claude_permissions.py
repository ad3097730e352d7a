"""The `permissions` of a workspace's Claude Code settings files (`.claude/settings.json`,
`.claude/settings.local.json`): allow, ask and deny rules, as Claude Code reads them.

Deny and ask rules only ever refuse or ask, so they apply at once; allow rules let tools run unasked,
so they wait for the workspace to be trusted (where they are used, as skillway's own allowedTools).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillway.core import located_json
from skillway.core.permission_rules import Rule
from skillway.core.problems import Problem, warning

CLAUDE_SETTINGS = (Path(".claude", "settings.json"), Path(".claude", "settings.local.json"))
RULE_LISTS = ("allow", "ask", "deny")


@dataclass(frozen=True)
class ToolPermissions:
    allow: tuple[str, ...] = ()  # from the workspace: used once it is trusted
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=(), compare=False)
    allow_origin: Path | None = field(default=None, compare=False)  # the first file with allow rules

    def __add__(self, other: ToolPermissions) -> ToolPermissions:
        return ToolPermissions(self.allow + other.allow, self.ask + other.ask, self.deny + other.deny,
                               self.problems + other.problems, self.allow_origin or other.allow_origin)

    def held_back_warning(self) -> Problem:
        """What the user is told while the workspace, and so its allow rules, is not trusted."""
        return warning(self.allow_origin or Path(CLAUDE_SETTINGS[0]), "workspace not trusted, so its "
                       "permissions.allow rules are ignored until you run `skillway trust`")


def workspace_permissions(workspace: Path) -> ToolPermissions:
    """The rules of the workspace's Claude Code settings files (a file that is not there adds none)."""
    found = ToolPermissions()
    for relative in CLAUDE_SETTINGS:
        found += read_permissions(workspace / relative)
    return found


def read_permissions(path: Path, text: str | None = None) -> ToolPermissions:
    """The rules of one settings file (with `text`: that text, named `path`). A wrong entry is left out
    with a warning naming the file and its place; the file's other keys are not ours (its hooks load
    with the plugins) and a file that does not parse is reported by the hooks loader, so it is
    skipped here quietly."""
    try:
        located = located_json.parse(path.read_text(encoding="utf-8-sig") if text is None else text)
    except (OSError, UnicodeDecodeError, located_json.JsonSyntaxError, RecursionError):
        return ToolPermissions()
    permissions = located.value.get("permissions") if isinstance(located.value, dict) else None
    if permissions is None:
        return ToolPermissions()
    if not isinstance(permissions, dict):
        return ToolPermissions(problems=(warning(path, '"permissions" must be an object; it is ignored',
                                                 *located.position(("permissions",))),))
    lists: dict[str, list[str]] = {name: [] for name in RULE_LISTS}
    problems: list[Problem] = []
    for name in RULE_LISTS:
        entries = permissions.get(name, [])
        if not isinstance(entries, list):
            problems.append(warning(path, f'"permissions.{name}" must be a list of rules; it is ignored',
                                    *located.position(("permissions", name))))
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, str) and Rule.parse(entry) is not None:
                lists[name].append(entry)
            else:
                problems.append(warning(path, f'"permissions.{name}[{index}]" is not a permission rule such as '
                                        f'"Bash(npm test:*)": {entry!r} is ignored',
                                        *located.position(("permissions", name, index))))
    return ToolPermissions(tuple(lists["allow"]), tuple(lists["ask"]), tuple(lists["deny"]), tuple(problems),
                           path if lists["allow"] else None)

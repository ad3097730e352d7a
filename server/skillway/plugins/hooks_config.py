"""Hook configuration: hooks.json files, inline `hooks` in plugin.json, `hooks` in settings files.

A file with an error contributes no hooks at all: half a hook configuration (a guard missing, its
sibling present) is worse than none, and the problem says why.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from skillway.core.located_json import LocatedJson, Pointer
from skillway.core.matchers import compile_matcher
from skillway.core.permission_rules import Rule
from skillway.core.problems import Problem, error, has_error, warning
from skillway.plugins import files, schema
from skillway.plugins.frontmatter import Frontmatter
from skillway.plugins.model import HookEvent, HookGroup, HookHandler

SCHEMA = "hooks.schema.json"
_RUNNABLE = {"command", "http", "prompt", "agent", "mcp_tool"}
# A handler of these that cannot run may be a guard: as Claude Code does, its whole file is refused.
_GUARD_EVENTS = frozenset({HookEvent.PRE_TOOL_USE, HookEvent.PERMISSION_REQUEST})
# The field each type runs.
_NEEDS = {"command": "command", "http": "url", "prompt": "prompt", "agent": "prompt", "mcp_tool": "tool"}


def load_hooks_file(path: Path, text: str | None = None) -> tuple[list[HookGroup], list[Problem]]:
    """With `text`, that text is read instead of the file's content (an editor's unsaved buffer)."""
    located, problems = files.read_json(path, text)
    if located is None:
        return [], problems
    value = located.value
    if isinstance(value, dict) and "hooks" not in value and value and all(isinstance(v, list) for v in value.values()):
        problems.append(warning(path, 'legacy form: events at the top level; wrap them as {"hooks": {...}}'))
        located = LocatedJson({"hooks": value}, {("hooks",) + k: v for k, v in located.positions.items()})
    problems += schema.check(located.value, SCHEMA, path, located.position)
    if has_error(problems):
        return [], problems
    assert isinstance(located.value, dict)  # the schema wants an object
    groups, more = hook_groups(located.value["hooks"], path, located.position, ("hooks",))
    return groups, problems + more


def load_settings_hooks(path: Path, text: str | None = None) -> tuple[list[HookGroup], list[Problem]]:
    """The `hooks` of a Claude Code settings file (`.claude/settings.json`); other keys are not ours.

    With `text`, that text is read instead of the file's content (an editor's unsaved buffer).
    """
    located, problems = files.read_json(path, text)
    if located is None or not isinstance(located.value, dict) or "hooks" not in located.value:
        return [], problems
    problems += schema.check(located.value["hooks"], SCHEMA + "#/$defs/hooksObject", path, located.position, ("hooks",))
    if has_error(problems):
        return [], problems
    groups, more = hook_groups(located.value["hooks"], path, located.position, ("hooks",))
    return groups, problems + more


def hook_groups(events: dict, path: Path, locate, pointer: Pointer) -> tuple[list[HookGroup], list[Problem]]:
    """Build the groups of a schema-checked hooks object found at `pointer` in `path`."""
    groups: list[HookGroup] = []
    problems: list[Problem] = []
    for event, entries in events.items():
        for index, entry in enumerate(entries):
            where = pointer + (event, index)
            matcher = entry.get("matcher")
            try:
                compile_matcher(matcher)
            except ValueError as exc:
                problems.append(error(path, str(exc), *locate(where + ("matcher",))))
                continue
            handlers = []
            for number, raw in enumerate(entry["hooks"]):
                at = locate(where + ("hooks", number))
                kind = raw["type"]
                if kind not in _RUNNABLE and event in _GUARD_EVENTS:
                    problems.append(error(path, f'hook type "{kind}" is not supported by skillway; a {event} hook may '
                                                'be what guards the others, so none of this file\'s hooks load', *at))
                    continue
                if kind not in _RUNNABLE:
                    problems.append(warning(path, f'hook type "{kind}" is not supported by skillway; it is skipped', *at))
                    continue
                if kind == "mcp_tool" and not raw.get("server"):
                    problems.append(error(path, 'a "mcp_tool" hook needs a "server"', *at))
                    continue
                if not raw.get(_NEEDS[kind]):
                    problems.append(error(path, f'a "{kind}" hook needs a "{_NEEDS[kind]}"', *at))
                    continue
                condition = Rule.parse(raw["if"]) if isinstance(raw.get("if"), str) else None
                if "if" in raw and condition is None:
                    problems.append(warning(path, f'"if" must be a permission rule such as "Bash(git commit:*)", '
                                                  f'got {json.dumps(raw["if"])}; this hook is skipped', *at))
                    continue
                handlers.append(replace(_handler(raw), condition=condition))
            if handlers:
                groups.append(HookGroup(HookEvent.named(event), matcher, tuple(handlers), path, locate(where)[0]))
    if has_error(problems):
        return [], problems
    return groups, problems


def _handler(raw: dict) -> HookHandler:
    args = raw.get("args")
    return HookHandler(
        type=raw["type"],
        command=raw.get("command"),
        args=tuple(args) if args is not None else None,
        timeout=raw.get("timeout"),
        run_async=bool(raw.get("async", False)),  # asyncRewake alone runs in the foreground, as in Claude Code
        async_rewake=bool(raw.get("asyncRewake", False)),
        shell=raw.get("shell"),
        status_message=raw.get("statusMessage"),
        once=bool(raw.get("once", False)),
        prompt=raw.get("prompt"),
        model=raw.get("model"),
        url=raw.get("url"),
        headers=tuple((name, str(value)) for name, value in (raw.get("headers") or {}).items()),
        allowed_env_vars=tuple(raw.get("allowedEnvVars") or ()),
        server=raw.get("server"),
        tool=raw.get("tool"),
        input_json=json.dumps(raw["input"]) if isinstance(raw.get("input"), dict) else None,
        on_failure_blocks=raw.get("onFailure", "continue") != "continue",
    )


def frontmatter_hooks(path: Path, parsed: Frontmatter) -> tuple[tuple[HookGroup, ...], list[Problem]]:
    """The `hooks` a skill's or agent's frontmatter declares (already checked against the schema)."""
    declared = parsed.values.get("hooks")
    if not isinstance(declared, dict):
        return (), []
    groups, problems = hook_groups(declared, path, lambda pointer: (parsed.line_of("hooks"), 1), ("hooks",))
    return tuple(groups), problems

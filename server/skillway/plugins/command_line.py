"""What print mode's `--settings` and `--agents` add to a run, read as Claude Code 2.1.328 reads them.

`--settings FILE|JSON` is read as the user's own settings file (the person typed it, so it is
trusted): its `permissions` rules and its `hooks`. `--agents JSON` defines sub-agent types
`{"name": {"description", "prompt", "tools"?, "model"?}}`. Both become one plugin of the run, with bare
names, whose agents win over any other of the same name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skillway.core.problems import Problem
from skillway.plugins import hooks_config
from skillway.plugins.model import Agent, Plugin, Source
from skillway.settings.claude_permissions import ToolPermissions, read_permissions

NAME = "command-line"


class FlagError(ValueError):
    """The value of --settings or --agents cannot be used: the message says why, in Claude Code's words."""


def _json_or_file(value: str, cwd: Path, flag: str) -> tuple[Path, str, bool]:
    """(where it is from, its text, whether it was given inline): a value that is not JSON is a path."""
    try:
        json.loads(value)
    except ValueError:
        path = (cwd / value).resolve() if not Path(value).expanduser().is_absolute() else Path(value).expanduser()
        try:
            return path, path.read_text(encoding="utf-8-sig"), False
        except (OSError, UnicodeDecodeError):
            raise FlagError(f"Settings file not found: {path}" if flag == "--settings" else
                            f"--agents file not found: {path} (a value that is not a JSON object is read as a "
                            "file path)") from None
    return Path(flag), value, True


class CommandLineSettings:
    """The permissions and hooks of `--settings`, with the problems found reading them."""

    def __init__(self, value: str | None, cwd: Path) -> None:
        self.permissions = ToolPermissions()
        self.hooks: list = []
        self.problems: list[Problem] = []
        if value is None:
            return
        path, text, _ = _json_or_file(value, cwd, "--settings")
        self.permissions = read_permissions(path, text)
        self.hooks, problems = hooks_config.load_settings_hooks(path, text)
        self.problems = [*self.permissions.problems, *problems]


def read_agents(value: str, cwd: Path) -> list[Agent]:
    """The agent types of `--agents`; FlagError with every problem, in Claude Code's words."""
    path, text, _ = _json_or_file(value, cwd, "--agents")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FlagError(f"Invalid --agents configuration:\n{exc}") from None
    if not isinstance(data, dict):
        raise FlagError(f"Invalid --agents configuration:\nInvalid input: expected record, received {_kind(data)}")
    problems: list[str] = []
    agents: list[Agent] = []
    for name, entry in data.items():
        if not isinstance(entry, dict):
            problems.append(f"{name}: Invalid input: expected object, received {_kind(entry)}")
            continue
        wrong = [f"{name}.{key}: Invalid input: expected string, received {_kind(entry.get(key, _MISSING))}"
                 for key in ("description", "prompt") if not isinstance(entry.get(key), str)]
        tools = entry.get("tools")
        if tools is not None and not (isinstance(tools, list) and all(isinstance(t, str) for t in tools)):
            wrong.append(f"{name}.tools: Invalid input: expected array, received {_kind(tools)}" if not isinstance(
                tools, list) else f"{name}.tools: Invalid input: expected an array of strings")
        model = entry.get("model")
        if model is not None and not isinstance(model, str):
            wrong.append(f"{name}.model: Invalid input: expected string, received {_kind(model)}")
        problems += wrong
        if not wrong:
            agents.append(Agent(name=name, path=path, description=entry["description"], body=entry["prompt"].strip(),
                                tools=tuple(tools) if tools is not None else None, model=model or "inherit"))
    if problems:
        raise FlagError("Invalid --agents configuration:\n" + "\n".join(problems))
    return agents


_MISSING = object()


def _kind(value: Any) -> str:
    """A JSON value's type as Claude Code's validation names it (a key that is not there: undefined)."""
    if value is _MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def command_line_plugin(workspace: Path, settings: CommandLineSettings, agents: list[Agent]) -> Plugin:
    """The run's plugin of what the command line added (trusted: the user typed it)."""
    return Plugin(name=NAME, root=workspace, source=Source.COMMAND_LINE, namespaced=False,
                  hooks=list(settings.hooks), agents=agents)

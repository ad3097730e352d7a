"""The agent's tools: their definitions for the model and what running them does.

Read, Glob and Grep never leave the workspace and never read files that look like secrets; Skill
loads a skill's instructions on demand (progressive disclosure).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from skillway.core import processes
from skillway.core.secrets import child_environment, is_secret_file
from skillway.plugins.catalog import Catalog, Entry, UnknownName
from skillway.plugins.model import Skill
from skillway.plugins.render import Invocation, RenderError, render_item

MAX_READ_LINES = 2000
MAX_RESULTS = 200


class ToolError(Exception):
    """The tool could not do it; the message goes back to the model as an error result."""


class Editor(Protocol):
    """Files as the editor has them: its unsaved text, and changes it makes itself (so they land in
    its undo history)."""

    async def text_of(self, path: Path) -> str | None:
        """The editor's text of `path`; None when it has none of its own (the disk's is read)."""
        ...

    async def replace(self, path: Path, text: str) -> bool: ...


@dataclass(frozen=True)
class ShellResult:
    exit_code: int | None  # None: it was killed (the timeout)
    output: str  # stdout and stderr as they came
    timed_out: bool = False


class Shell(Protocol):
    """Where the Bash tool's commands run when not here: the editor's own terminal."""

    async def run(self, command: str, cwd: Path, env: dict[str, str], timeout: float, call_id: str) -> ShellResult:
        """Run `command` for the tool call `call_id` (the editor shows its terminal with that call)."""
        ...


@dataclass(frozen=True)
class ToolContext:
    workspace: Path
    catalog: Catalog
    invocation: Invocation  # what a skill's or command's body is rendered with
    bash_timeout: float = 120.0
    editor: Editor | None = None  # in the editor, files change through it; None: the disk
    shell: Shell | None = None  # the editor's terminal runs Bash; None: a subprocess here


async def _current_text(context: ToolContext, path: Path) -> str:
    text = await context.editor.text_of(path) if context.editor is not None else None
    return text if text is not None else _disk_text(path)


def _disk_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read {path.name}: {exc}") from None


async def _store(context: ToolContext, path: Path, text: str) -> None:
    if context.editor is not None:
        if not await context.editor.replace(path, text):
            raise ToolError(f"the editor did not apply the change to {path.name}")
        return
    await asyncio.to_thread(_write, path, text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


DEFINITIONS = {
    "Skill": {"description": "Load the full instructions of a skill by name, when its description says it fits the task "
                             "(a skill that runs on its own returns its report instead).",
              "input_schema": {"type": "object", "properties": {"skill": {"type": "string"}, "args": {"type": "string"}},
                               "required": ["skill"]}},
    "Read": {"description": "Read a text file of the workspace (lines numbered from 1).",
             "input_schema": {"type": "object", "properties": {
                 "file_path": {"type": "string"}, "offset": {"type": "integer"}, "limit": {"type": "integer"}},
                 "required": ["file_path"]}},
    "Glob": {"description": "List workspace files matching a glob pattern such as src/**/*.py.",
             "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}, "path": {"type": "string"}},
                              "required": ["pattern"]}},
    "Agent": {"description": "Start a sub-agent (one of the listed agent types) on a task; it returns its final report. "
                       "Several Agent calls in one message run at the same time.",
              "input_schema": {"type": "object", "properties": {
                  "description": {"type": "string"}, "prompt": {"type": "string"}, "subagent_type": {"type": "string"}},
                  "required": ["prompt", "subagent_type"]}},
    "Write": {"description": "Write a whole file of the workspace (created or replaced).",
              "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}},
                               "required": ["file_path", "content"]}},
    "Edit": {"description": "Replace an exact piece of text in a workspace file (it must occur once unless replace_all).",
             "input_schema": {"type": "object", "properties": {
                 "file_path": {"type": "string"}, "old_string": {"type": "string"}, "new_string": {"type": "string"},
                 "replace_all": {"type": "boolean"}}, "required": ["file_path", "old_string", "new_string"]}},
    "Bash": {"description": "Run a shell command in the workspace (only commands the user allowed).",
             "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}},
    "Grep": {"description": "Search workspace files for a regular expression; returns path:line: text.",
             "input_schema": {"type": "object", "properties": {
                 "pattern": {"type": "string"}, "path": {"type": "string"}, "glob": {"type": "string"}},
                 "required": ["pattern"]}},
}


async def invoked_text(context: ToolContext, entry: Entry, tool_input: dict) -> str:
    """The body of the skill or command a Skill call names, rendered with its `args` as a typed
    `/name args` would be."""
    args = tool_input.get("args")
    try:
        return await render_item(entry.plugin, entry.item, args if isinstance(args, str) else "", context.invocation)
    except RenderError as exc:
        raise ToolError(f"{entry.qualified}: {exc}") from None


def definitions(names: list[str], catalog: Catalog | None = None) -> list[dict]:
    """The tools called `names`, for the model; the Agent tool lists the catalog's agents, as Claude
    Code's does, so that the model knows which `subagent_type` to ask for."""
    found: list[dict[str, Any]] = [{"name": name, **DEFINITIONS[name]} for name in names if name in DEFINITIONS]
    for tool in found:
        if tool["name"] == "Agent" and catalog is not None and catalog.agents:
            tool["description"] += "\n\nAvailable agent types:\n" + "\n".join(
                f"- {entry.qualified}: {entry.item.description}"
                + (f" (Tools: {', '.join(entry.item.tools)})" if entry.item.tools is not None else "")
                for entry in catalog.agents)
    return found


def canonical(name: str) -> str:
    return "Agent" if name == "Task" else name  # Task is the older name of Agent


def inside(workspace: Path, relative: str) -> Path:
    root = workspace.resolve()
    path = (root / relative).resolve() if not Path(relative).is_absolute() else Path(relative).resolve()
    if not path.is_relative_to(root):
        raise ToolError(f"{relative} is outside the workspace")
    if is_secret_file(path):
        raise ToolError(f"{relative} looks like a secrets file; it is not read")
    return path


async def _run_bash(context: ToolContext, command: str, call_id: str) -> ShellResult:
    if context.shell is not None:
        return await context.shell.run(command, context.workspace, {"CLAUDE_PROJECT_DIR": str(context.workspace)},
                                       context.bash_timeout, call_id)
    done = await processes.run(["sh", "-c", command], cwd=context.workspace,
                               env=child_environment({"CLAUDE_PROJECT_DIR": str(context.workspace)}),
                               timeout=context.bash_timeout)
    return ShellResult(done.exit_code, done.stdout + done.stderr, done.timed_out)


async def run_tool(context: ToolContext, name: str, tool_input: dict, call_id: str = "") -> str:
    """Run one built-in tool call (`call_id`: its tool_use id) to its text result; ToolError when it
    cannot."""
    if name == "Skill":
        try:
            entry = context.catalog.resolve_for_model(str(tool_input.get("skill", "")))
        except UnknownName as exc:
            raise ToolError(str(exc)) from None
        text = await invoked_text(context, entry, tool_input)
        if isinstance(entry.item, Skill):
            return f"Skill {entry.qualified} (base folder {entry.item.directory}):\n\n{text}"
        return f"Command {entry.qualified}:\n\n{text}"
    if name == "Read":
        path = inside(context.workspace, str(tool_input.get("file_path", "")))
        unsaved = await context.editor.text_of(path) if context.editor is not None else None
        if unsaved is None and not path.is_file():
            raise ToolError(f"{tool_input.get('file_path')} is not a file")
        try:
            lines = (path.read_text(encoding="utf-8") if unsaved is None else unsaved).splitlines()
        except UnicodeDecodeError:
            raise ToolError(f"{tool_input.get('file_path')} is not a text file") from None
        start = max(1, int(tool_input.get("offset") or 1))
        count = min(MAX_READ_LINES, int(tool_input.get("limit") or MAX_READ_LINES))
        return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines[start - 1:start - 1 + count], start))
    if name == "Glob":
        base = inside(context.workspace, str(tool_input.get("path") or "."))
        root = context.workspace.resolve()
        found = sorted(str(p.relative_to(root)) for p in base.glob(str(tool_input.get("pattern", "")))
                       if p.is_file() and p.resolve().is_relative_to(root) and not is_secret_file(p))
        return "\n".join(found[:MAX_RESULTS]) or "no files match"
    if name == "Grep":
        try:
            pattern = re.compile(str(tool_input.get("pattern", "")))
        except re.error as exc:
            raise ToolError(f"invalid regular expression: {exc}") from None
        base = inside(context.workspace, str(tool_input.get("path") or "."))
        root = context.workspace.resolve()
        files = [base] if base.is_file() else sorted(base.rglob(str(tool_input.get("glob") or "*")))
        hits = []
        for path in files:
            if not path.is_file() or is_secret_file(path) or ".git" in path.parts:
                continue
            try:
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if pattern.search(line):
                        hits.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
            except (UnicodeDecodeError, OSError):
                continue
            if len(hits) >= MAX_RESULTS:
                break
        return "\n".join(hits[:MAX_RESULTS]) or "no matches"
    if name == "Write":
        path = inside(context.workspace, str(tool_input.get("file_path", "")))
        await _store(context, path, str(tool_input.get("content", "")))
        return f"wrote {path.relative_to(context.workspace.resolve())}"
    if name == "Edit":
        path = inside(context.workspace, str(tool_input.get("file_path", "")))
        old, new = str(tool_input.get("old_string", "")), str(tool_input.get("new_string", ""))
        text = await _current_text(context, path)
        count = text.count(old) if old else 0
        if count == 0:
            raise ToolError("old_string was not found in the file")
        if count > 1 and not tool_input.get("replace_all"):
            raise ToolError(f"old_string occurs {count} times; make it unique or set replace_all")
        await _store(context, path, text.replace(old, new) if tool_input.get("replace_all") else text.replace(old, new, 1))
        return f"edited {path.relative_to(context.workspace.resolve())}"
    if name == "Bash":
        ran = await _run_bash(context, str(tool_input.get("command", "")), call_id)
        if ran.timed_out:
            raise ToolError(f"the command timed out after {context.bash_timeout:g} s")
        output = ran.output[-30_000:]
        if ran.exit_code != 0:
            raise ToolError(f"exit code {ran.exit_code}\n{output}")
        return output or "(no output)"
    raise ToolError(f"unknown tool {name}")

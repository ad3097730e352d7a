"""Rendering a command's or skill's body before it is sent: arguments, `${CLAUDE_*}`, `!` shell
commands and `@file` references, in Claude Code's way, whether a person typed it or the model
invoked it (the Skill tool).

Arguments are 0-based (`$0` is the first) unless the legacy 1-based setting is on; an unmatched
`$N` stays as written and `\\$1` is a literal `$1`. Shell commands run once, before the prompt is
sent, only in a trusted workspace and only when `allowed-tools` permits them; a failure stops the
command with its output shown.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skillway.core import processes
from skillway.core.permission_rules import allowed, parse_rules
from skillway.core.placeholders import plugin_data_id, substitute
from skillway.core.secrets import child_environment, is_secret_file
from skillway.plugins import files, frontmatter
from skillway.plugins.model import Command, Plugin, Skill

SHELL_TIMEOUT = 120.0
_ARGUMENT = re.compile(r"(\\?)\$(?:ARGUMENTS\[(\d+)\]|(\d+)|(ARGUMENTS)\b)")
_INLINE_SHELL = re.compile(r"(?:(?<=\s)|^)!`([^`\n]+)`", re.MULTILINE)
_BLOCK_SHELL = re.compile(r"^```!\s*\n(.*?)\n```[ \t]*$", re.MULTILINE | re.DOTALL)
_FILE_REFERENCE = re.compile(r"(?:(?<=\s)|^)@([\w./~-][\w./-]*)", re.MULTILINE)
MAX_INLINED_FILE = 256 * 1024


class RenderError(Exception):
    """The command cannot be sent: the message says why (a shell command failed or is refused)."""


@dataclass(frozen=True)
class RenderContext:
    workspace: Path
    arguments: str
    allowed_tools: tuple[str, ...] = ()
    trusted: bool = False  # may shell commands from this command's plugin run?
    placeholders: Mapping[str, str] | None = None  # ${CLAUDE_*} values
    argument_base: int = 0  # 1 for legacy plugins that meant $1 as the first argument
    argument_names: tuple[str, ...] = ()  # the frontmatter's `arguments`: `$name` is the Nth argument


def split_arguments(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: split on blanks rather than refuse
        return text.split()


def substitute_arguments(body: str, arguments: str, base: int = 0, names: tuple[str, ...] = ()) -> str:
    """`$ARGUMENTS`, `$ARGUMENTS[N]`, `$N` and the frontmatter's named `$name`s filled from `arguments`,
    as Claude Code fills them: an unmatched `$N` stays as written, a named one with no value is
    empty; a body with none of them gets the arguments appended."""
    words = split_arguments(arguments)
    placed = False

    def replace(match: re.Match) -> str:
        nonlocal placed
        escaped, indexed, numbered, whole = match.groups()
        if escaped:
            return match.group(0)[1:]  # `\$1` is a literal `$1`
        placed = True
        if whole:
            return arguments
        position = int(indexed if indexed is not None else numbered) - base
        if 0 <= position < len(words):
            return words[position]
        return match.group(0)  # no such argument: left as written

    def replace_name(match: re.Match) -> str:
        nonlocal placed
        if match.group(1):
            return match.group(0)[1:]
        placed = True
        position = names.index(match.group(2))
        return words[position] if position < len(words) else ""

    rendered = _ARGUMENT.sub(replace, body)
    if names:
        pattern = r"(\\?)\$(" + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) + r")(?![\w])"
        rendered = re.sub(pattern, replace_name, rendered)
    if not placed and arguments.strip():
        rendered = rendered.rstrip("\n") + f"\n\nARGUMENTS: {arguments}"
    return rendered


async def render(body: str, context: RenderContext) -> str:
    text = substitute(body, context.placeholders or {})
    text = substitute_arguments(text, context.arguments, context.argument_base, context.argument_names)
    text = await _run_shell(text, context)
    return _inline_files(text, context.workspace)


async def _run_shell(text: str, context: RenderContext) -> str:
    commands = [(m.span(), m.group(1)) for m in _BLOCK_SHELL.finditer(text)]
    commands += [(m.span(), m.group(1)) for m in _INLINE_SHELL.finditer(text)
                 if not any(start <= m.start() < end for (start, end), _ in commands)]
    if not commands:
        return text
    if not context.trusted:
        raise RenderError("this command runs shell commands, and its workspace is not trusted "
                          "(run `skillway trust` to allow them)")
    rules = parse_rules(context.allowed_tools)
    outputs = {}
    for span, command in sorted(commands):
        if not allowed(rules, "Bash", command.strip()):
            raise RenderError(f"shell command not permitted by allowed-tools: {command.strip()}")
        done = await processes.run(["sh", "-c", command], cwd=context.workspace,
                                   env=child_environment({"CLAUDE_PROJECT_DIR": str(context.workspace)}),
                                   timeout=SHELL_TIMEOUT)
        if done.timed_out:
            raise RenderError(f"shell command timed out after {SHELL_TIMEOUT:g} s: {command.strip()}")
        if done.exit_code != 0:
            output = (done.stdout + done.stderr).strip()
            raise RenderError(f"shell command failed (exit {done.exit_code}): {command.strip()}\n{output}")
        outputs[span] = done.stdout.rstrip("\n")
    pieces, last = [], 0  # one pass: output is not searched for more commands
    for (start, end), output in sorted(outputs.items()):
        pieces += [text[last:start], output]
        last = end
    return "".join(pieces) + text[last:]


def _inline_files(text: str, workspace: Path) -> str:
    root = workspace.resolve()

    def replace(match: re.Match) -> str:
        reference = match.group(1).rstrip(".,;:")
        path = (root / reference).resolve()
        if not path.is_relative_to(root) or not path.is_file() or is_secret_file(path):
            return match.group(0)  # outside the workspace, missing or secret: left as written
        try:
            if path.stat().st_size > MAX_INLINED_FILE:
                return match.group(0)
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return match.group(0)
        trailing = match.group(1)[len(reference):]
        return f"\n<file path=\"{reference}\">\n{content}\n</file>\n{trailing}"

    return _FILE_REFERENCE.sub(replace, text)


@dataclass(frozen=True)
class Invocation:
    """Where an item is run: what its `${CLAUDE_*}` placeholders and shell commands need."""

    workspace: Path
    session_id: str
    data_dir: Path  # the user's data folder, holding each plugin's ${CLAUDE_PLUGIN_DATA}
    workspace_trusted: bool
    argument_base: int = 0


async def render_item(plugin: Plugin, item: Command | Skill, arguments: str, where: Invocation) -> str:
    """`item`'s body with `arguments`, ready to send; RenderError when it cannot be."""
    placeholders = {"CLAUDE_PROJECT_DIR": str(where.workspace), "CLAUDE_SESSION_ID": where.session_id}
    if plugin.namespaced:
        plugin_id = f"{plugin.name}@{plugin.marketplace}" if plugin.marketplace else plugin.name
        placeholders |= {"CLAUDE_PLUGIN_ROOT": str(plugin.root),
                         "CLAUDE_PLUGIN_DATA": str(where.data_dir / "plugins" / plugin_data_id(plugin_id))}
    if isinstance(item, Skill):
        placeholders["CLAUDE_SKILL_DIR"] = str(item.directory)
        try:
            body = item.read_body()
        except OSError as exc:
            raise RenderError(f"cannot read {item.path}: {exc}") from None
    else:
        text, problems = files.read_text(item.path)
        if text is None:
            raise RenderError(f"cannot read {item.path}: {problems[0].message}")
        body = frontmatter.parse(item.path, text)[0].body
    body = plugin.options.in_text(body)
    context = RenderContext(where.workspace, arguments.strip(), item.allowed_tools,
                            trusted=plugin.source.trusted_by_default or where.workspace_trusted,
                            placeholders=placeholders, argument_base=where.argument_base,
                            argument_names=item.arguments)
    return (await render(body, context)).strip()

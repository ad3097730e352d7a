"""`skillway -p`: prompts (or `/command args`) through a whole session, printed as text, JSON or a
stream of JSON lines, in the shapes `claude -p` uses. One prompt from the command line, or, with
`--input-format stream-json`, one turn per user message read from stdin, each following the ones
before. A session can go on from a stored one (`--resume ID`, `--continue`), or a copy of it
(`--fork-session`); SessionStart hooks do run here."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import attrs

from skillway.agent import structured
from skillway.agent.loop import ALL_TOOLS
from skillway.agent.tools import canonical
from skillway.app import stored
from skillway.app.run import QuietInterface, RunOptions, Status, run_prompt
from skillway.app.session import Session
from skillway.cli.printresult import result_event
from skillway.cli.printstream import PartialMessages, init_line, message_lines, system_line
from skillway.plugins.command_line import CommandLineSettings, FlagError, command_line_plugin, read_agents
from skillway.plugins.frontmatter import as_list
from skillway.plugins.mcp_config import config_servers
from skillway.settings import data_dir
from skillway.settings.claude_permissions import ToolPermissions


@dataclass(frozen=True)
class PrintOptions:
    prompt: str
    workspace: Path
    plugin_dirs: tuple[Path, ...] = ()
    output_format: str = "text"  # text | json | stream-json
    input_format: str = "text"  # text | stream-json (the turns come from stdin)
    max_turns: int = 20
    model: str | None = None
    allowed_tools: tuple[str, ...] = ()
    disallowed_tools: tuple[str, ...] = ()
    permission_mode: str = "default"
    append_system_prompt: str | None = None
    bare: bool = False
    max_budget_usd: float | None = None
    mcp_config: tuple[str, ...] = ()  # files or JSON strings
    strict_mcp_config: bool = False
    resume: str | None = None  # a session's id
    continue_latest: bool = False  # the workspace's latest session
    session_id: str | None = None  # the new session's id
    fork_session: bool = False  # go on from a copy of the resumed session, under a new id
    system_prompt: str | None = None  # replaces skillway's own system prompt
    tools: tuple[str, ...] | None = None  # the built-in tools offered (None: all)
    fallback_model: str | None = None
    json_schema: dict | None = None  # checked already: a JSON Schema object
    settings: str | None = None  # --settings: a file or JSON text
    agents: str | None = None  # --agents: JSON text (or a file)
    include_partial_messages: bool = False


class PrintError(Exception):
    """The run cannot go on (a stdin line that is not a turn): said on stderr, exit code 1."""


class _PrintInterface(QuietInterface):
    """Print mode: stream-json prints each message of the conversation, and what happens on the way
    (a fallback; with partial messages each request and streaming event); nobody can be asked."""

    def __init__(self, emit=None, session_id: str = "", partial: bool = False) -> None:
        self.emit, self.session_id = emit, session_id
        self.partial = PartialMessages(session_id) if partial else None

    def message(self, message: dict) -> None:
        if self.emit is None or (self.partial is not None and message.get("role") == "assistant"):
            return  # with partial messages, an answer's blocks were printed as they completed
        for line in message_lines(message, self.session_id):
            self.emit(line)

    def event(self, event: dict) -> None:
        if self.emit is None:
            return
        if event["type"] == "stream_event":
            for line in self.partial.lines(event["event"]) if self.partial is not None else []:
                self.emit(line)
            return
        shown = system_line(event, self.session_id)
        if shown is not None and (event["type"] != "requesting" or self.partial is not None):
            self.emit(shown)


def stdin_turns(stream: TextIO) -> Iterator[str]:
    """The prompts of `--input-format stream-json`: one per `{"type": "user", "message": {...}}` line;
    other types and blank lines are passed over, as Claude Code passes them; a line that is not JSON,
    or a message that is not the user's, ends the run (PrintError)."""
    for line in stream:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise PrintError(f"Error parsing streaming input line ({len(line.rstrip())} chars): not JSON") from None
        if not isinstance(data, dict) or data.get("type") != "user":
            continue
        message = data.get("message")
        role = message.get("role") if isinstance(message, dict) else None
        if role != "user":
            raise PrintError(f"Expected message role 'user', got '{role}'")
        assert isinstance(message, dict)
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
        if isinstance(content, str) and content.strip():
            yield content.strip()


async def run_print(options: PrintOptions, out=sys.stdout, err=sys.stderr, stdin: TextIO | None = None) -> int:
    try:
        session_id, transcript, resumed = stored.choose(data_dir(), options.workspace, resume=options.resume,
                                                        continue_latest=options.continue_latest,
                                                        session_id=options.session_id, fork_session=options.fork_session)
        flags = CommandLineSettings(options.settings, options.workspace)
        agents = read_agents(options.agents, options.workspace) if options.agents is not None else []
    except (stored.SessionRefused, FlagError) as refused:
        print(f"skillway: {refused}", file=err)
        return 1
    extra = [command_line_plugin(options.workspace, flags, agents)] if flags.hooks or agents else []
    session = Session.open(options.workspace, list(options.plugin_dirs), bare=options.bare,
                           permission_mode=options.permission_mode, session_id=session_id, transcript_path=transcript,
                           extra_plugins=extra)
    _add_permissions(session, flags.permissions)
    for problem in [*session.settings.problems, *flags.problems]:
        print(f"skillway: {problem.format()}", file=err)
    for value in options.mcp_config:
        servers, problems = config_servers(value)
        session.mcp_config += tuple(servers)
        for problem in problems:
            print(f"skillway: {problem.format()}", file=err)
    session.strict_mcp = options.strict_mcp_config
    stream = options.output_format == "stream-json"

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    start = await session.start("resume" if resumed else "startup", model=options.model)
    for message in start.system_messages + start.warnings:
        print(f"skillway: {message}", file=err)
    ui = _PrintInterface(emit if stream else None, session.session_id, options.include_partial_messages)
    run = RunOptions(instructions=options.append_system_prompt, allowed_tools=options.allowed_tools,
                     disallowed_tools=options.disallowed_tools,
                     max_turns=options.max_turns, model=options.model, max_cost_usd=options.max_budget_usd,
                     system_prompt=options.system_prompt, tools=options.tools, fallback_model=options.fallback_model,
                     json_schema=options.json_schema, partial_messages=stream and options.include_partial_messages,
                     follow_session=True)
    tool_names = list(options.tools) if options.tools is not None else ALL_TOOLS
    code, spent = 0, 0.0
    turns = stdin_turns(stdin or sys.stdin) if options.input_format == "stream-json" else iter([options.prompt])
    try:
        for index, prompt in enumerate(turns):
            started = time.monotonic()
            if stream:
                emit(init_line(session, options.model or session.settings.models.agent, tool_names, options.permission_mode))
            outcome = await run_prompt(session, prompt, ui, run)
            for notice in outcome.notices:
                print(f"skillway: {notice}", file=err)
            spent += outcome.result.cost_usd if outcome.result is not None else 0.0
            code, event = result_event(outcome, session.session_id, time.monotonic() - started, index, spent)
            if outcome.status is not Status.ANSWERED:
                print(f"skillway: {outcome.text}", file=err)
            for error in outcome.result.errors if outcome.result is not None else []:
                print(f"skillway: {error}", file=err)
            if options.output_format == "text":
                if outcome.result is not None and not outcome.result.errors:
                    out.write(outcome.result.text + "\n")
            elif stream:
                emit(event)
            else:
                out.write(json.dumps(event, indent=2) + "\n")
    except PrintError as refused:
        print(f"skillway: {refused}", file=err)
        code = 1
    finally:
        await session.end("other")
    return code


def _add_permissions(session: Session, permissions: ToolPermissions) -> None:
    """--settings rules, as the user's own: its allow rules run unasked (the person typed them), its
    ask and deny rules join the others."""
    if not (permissions.allow or permissions.ask or permissions.deny):
        return
    settings = session.settings
    session.settings = attrs.evolve(
        settings, allowed_tools=(*settings.allowed_tools, *permissions.allow),
        tool_permissions=settings.tool_permissions + ToolPermissions(ask=permissions.ask, deny=permissions.deny))


def read_file_flag(path: str | None, flag: str, workspace: Path) -> str | None:
    """The text of the file a flag names (verbatim), or PrintError naming it."""
    if path is None:
        return None
    target = Path(path).expanduser()
    target = target if target.is_absolute() else workspace / target
    try:
        return target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        missing = isinstance(exc, FileNotFoundError)
        raise PrintError(f"{flag}: {'file not found' if missing else 'cannot read the file'}: {target}") from None


def json_schema(text: str | None) -> dict | None:
    """--json-schema, checked before any request: JSON, an object, a valid JSON Schema."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise PrintError(f"--json-schema is not valid JSON: {exc}") from None
    try:
        return structured.check_schema(value)
    except structured.SchemaProblem as problem:
        raise PrintError(f"--json-schema {problem}") from None


def chosen_tools(text: str | None) -> tuple[str, ...] | None:
    """--tools: the built-in tools named (commas or spaces between them; Task is Agent), in skillway's
    order; "" none; "default" (or no flag) all. A name that is no built-in tool is left out, as
    Claude Code leaves it out."""
    if text is None or text.strip() == "default":
        return None
    named = {canonical(name) for name in as_list(text.replace(",", " "))}
    return tuple(name for name in ALL_TOOLS if name in named)


def prompt_flags(args: argparse.Namespace, workspace: Path) -> dict:
    """The PrintOptions of the flags that change the system prompt, the tools and the answer's shape."""
    system = args.system_prompt
    if system is None:
        system = read_file_flag(args.system_prompt_file, "--system-prompt-file", workspace)
    appended = [text for text in (args.append_system_prompt,
                                  read_file_flag(args.append_system_prompt_file, "--append-system-prompt-file",
                                                 workspace)) if text]
    return {"system_prompt": system, "append_system_prompt": "\n\n".join(appended) or None,
            "tools": chosen_tools(args.tools), "json_schema": json_schema(args.json_schema)}


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    if args.input_format == "stream-json" and args.output_format != "stream-json":
        print("skillway: --input-format=stream-json requires output-format=stream-json.", file=sys.stderr)
        return 1
    try:
        flags = prompt_flags(args, workspace)
    except PrintError as refused:
        print(f"skillway: {refused}", file=sys.stderr)
        return 1
    prompt = ""
    if args.input_format != "stream-json":
        prompt = sys.stdin.read() if args.print_prompt in ("-", "") else args.print_prompt
        if not prompt.strip():
            print("skillway: -p needs a prompt (or - to read it from stdin)", file=sys.stderr)
            return 1
    options = PrintOptions(
        prompt=prompt.strip(), workspace=workspace, plugin_dirs=tuple(plugin_dirs), output_format=args.output_format,
        input_format=args.input_format, max_turns=args.max_turns, model=args.model,
        allowed_tools=tuple(rule for text in args.allowed_tools for rule in as_list(text)),
        disallowed_tools=tuple(rule for text in args.disallowed_tools for rule in as_list(text)),
        permission_mode=args.permission_mode, bare=args.bare, **flags,
        max_budget_usd=args.max_budget_usd, mcp_config=tuple(args.mcp_config), strict_mcp_config=args.strict_mcp_config,
        resume=args.resume, continue_latest=args.continue_latest, session_id=args.session_id,
        fork_session=args.fork_session, fallback_model=args.fallback_model, settings=args.settings, agents=args.agents,
        include_partial_messages=args.include_partial_messages)
    return asyncio.run(run_print(options, sys.stdout, sys.stderr))

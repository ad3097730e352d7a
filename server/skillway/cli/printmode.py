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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from skillway.agent.loop import ALL_TOOLS
from skillway.app import stored
from skillway.app.run import QuietInterface, RunOptions, Status, run_prompt
from skillway.app.session import Session, project_slug
from skillway.cli.printresult import result_event
from skillway.cli.printstream import init_line, message_lines
from skillway.plugins.frontmatter import as_list
from skillway.plugins.mcp_config import config_servers
from skillway.settings import data_dir


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


class PrintError(Exception):
    """The run cannot start: said on stderr, exit code 1, nothing on stdout."""


class _PrintInterface(QuietInterface):
    """Print mode: stream-json prints each message of the conversation; nobody can be asked."""

    def __init__(self, on_message) -> None:
        self.on_message = on_message

    def message(self, message: dict) -> None:
        if self.on_message is not None:
            self.on_message(message)


def choose_session(options: PrintOptions, data: Path) -> tuple[str | None, Path | None, bool]:
    """(the session's id, the transcript it goes on writing, whether it resumes one), as Claude Code
    decides them from --resume, --continue, --session-id and --fork-session; PrintError with its words."""
    if options.session_id is not None and not stored.is_session_id(options.session_id):
        raise PrintError("Invalid session ID. Must be a valid UUID.")
    resuming = options.resume is not None or options.continue_latest
    if resuming and options.session_id and not options.fork_session:
        raise PrintError("--session-id with --continue or --resume also needs --fork-session.")
    source: Path | None = None
    if options.resume is not None:
        source = stored.find(data, options.resume)
        if source is None:
            raise PrintError(f"No conversation found with session ID: {options.resume}" if stored.is_session_id(options.resume)
                             else f'--resume needs a session ID: "{options.resume}" is not a UUID')
    elif options.continue_latest:
        latest = stored.latest(data, project_slug(options.workspace.resolve()))
        source = stored.find(data, latest) if latest else None  # none yet: a new session, as Claude Code starts one
    if options.session_id and stored.find(data, options.session_id) is not None:
        raise PrintError(f"Session ID {options.session_id} is already in use.")
    if source is None:
        return options.session_id, None, False
    if options.fork_session:
        new_id = options.session_id or stored.new_session_id()
        return new_id, stored.fork(source, new_id), True
    return source.stem, source, True


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
        session_id, transcript, resumed = choose_session(options, data_dir())
    except PrintError as refused:
        print(f"skillway: {refused}", file=err)
        return 1
    session = Session.open(options.workspace, list(options.plugin_dirs), bare=options.bare,
                           permission_mode=options.permission_mode, session_id=session_id, transcript_path=transcript)
    for problem in session.settings.problems:
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
    def emit_message(message: dict) -> None:
        for line in message_lines(message, session.session_id):
            emit(line)

    ui = _PrintInterface(emit_message if stream else None)
    run = RunOptions(instructions=options.append_system_prompt, allowed_tools=options.allowed_tools,
                     disallowed_tools=options.disallowed_tools,
                     max_turns=options.max_turns, model=options.model, max_cost_usd=options.max_budget_usd)
    code, spent = 0, 0.0
    turns = stdin_turns(stdin or sys.stdin) if options.input_format == "stream-json" else iter([options.prompt])
    try:
        for index, prompt in enumerate(turns):
            started = time.monotonic()
            if stream:
                emit(init_line(session, options.model or session.settings.models.agent, ALL_TOOLS, options.permission_mode))
            history = tuple(session.transcript.conversation())  # every turn follows the ones before
            outcome = await run_prompt(session, prompt, ui, replace(run, history=history))
            for notice in outcome.notices:
                print(f"skillway: {notice}", file=err)
            spent += outcome.result.cost_usd if outcome.result is not None else 0.0
            code, event = result_event(outcome, session.session_id, time.monotonic() - started, index, spent)
            if outcome.status is not Status.ANSWERED:
                print(f"skillway: {outcome.text}", file=err)
            if options.output_format == "text":
                if outcome.result is not None:
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


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    if args.input_format == "stream-json" and args.output_format != "stream-json":
        print("skillway: --input-format=stream-json requires output-format=stream-json.", file=sys.stderr)
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
        permission_mode=args.permission_mode, append_system_prompt=args.append_system_prompt, bare=args.bare,
        max_budget_usd=args.max_budget_usd, mcp_config=tuple(args.mcp_config), strict_mcp_config=args.strict_mcp_config,
        resume=args.resume, continue_latest=args.continue_latest, session_id=args.session_id,
        fork_session=args.fork_session)
    return asyncio.run(run_print(options, sys.stdout, sys.stderr))

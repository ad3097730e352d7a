"""`skillway -p`: one prompt (or `/command args`) through a whole session, printed as text, JSON or a
stream of JSON events, in the shapes `claude -p` uses. SessionStart hooks do run here."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from skillway.agent.loop import ALL_TOOLS
from skillway.app.run import QuietInterface, RunOptions, Status, run_prompt
from skillway.app.session import Session
from skillway.cli.printresult import result_event
from skillway.plugins.frontmatter import as_list
from skillway.plugins.mcp_config import config_servers


@dataclass(frozen=True)
class PrintOptions:
    prompt: str
    workspace: Path
    plugin_dirs: tuple[Path, ...] = ()
    output_format: str = "text"  # text | json | stream-json
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


class _PrintInterface(QuietInterface):
    """Print mode: stream-json prints each message of the conversation; nobody can be asked."""

    def __init__(self, on_message) -> None:
        self.on_message = on_message

    def message(self, message: dict) -> None:
        if self.on_message is not None:
            self.on_message(message)


async def run_print(options: PrintOptions, out=sys.stdout, err=sys.stderr) -> int:
    started = time.monotonic()
    session = Session.open(options.workspace, list(options.plugin_dirs), bare=options.bare,
                           permission_mode=options.permission_mode)
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

    start = await session.start("startup", model=options.model)
    for message in start.system_messages + start.warnings:
        print(f"skillway: {message}", file=err)
    if stream:
        emit({"type": "system", "subtype": "init", "session_id": session.session_id, "cwd": str(session.workspace),
              "model": options.model or session.settings.models.agent,
              "tools": ALL_TOOLS, "permission_mode": options.permission_mode,
              "transcript_path": str(session.transcript.path)})
    ui = _PrintInterface((lambda m: emit({"type": m.get("role", "user"), "message": m, "session_id": session.session_id})
                          ) if stream else None)
    run = RunOptions(instructions=options.append_system_prompt, allowed_tools=options.allowed_tools,
                     disallowed_tools=options.disallowed_tools,
                     max_turns=options.max_turns, model=options.model, max_cost_usd=options.max_budget_usd)
    try:
        outcome = await run_prompt(session, options.prompt, ui, run)
    finally:
        await session.end("other")
    for notice in outcome.notices:
        print(f"skillway: {notice}", file=err)
    code, event = result_event(outcome, session.session_id, time.monotonic() - started)
    if outcome.status is not Status.ANSWERED:
        print(f"skillway: {outcome.text}", file=err)
    if options.output_format == "text":
        if outcome.result is not None:
            out.write(outcome.result.text + "\n")
    else:
        emit(event) if stream else out.write(json.dumps(event, indent=2) + "\n")
    return code


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    prompt = sys.stdin.read() if args.print_prompt == "-" else args.print_prompt
    if not prompt.strip():
        print("skillway: -p needs a prompt (or - to read it from stdin)", file=sys.stderr)
        return 1
    options = PrintOptions(
        prompt=prompt.strip(), workspace=workspace, plugin_dirs=tuple(plugin_dirs), output_format=args.output_format,
        max_turns=args.max_turns, model=args.model,
        allowed_tools=tuple(rule for text in args.allowed_tools for rule in as_list(text)),
        disallowed_tools=tuple(rule for text in args.disallowed_tools for rule in as_list(text)),
        permission_mode=args.permission_mode, append_system_prompt=args.append_system_prompt, bare=args.bare,
        max_budget_usd=args.max_budget_usd, mcp_config=tuple(args.mcp_config), strict_mcp_config=args.strict_mcp_config)
    return asyncio.run(run_print(options, sys.stdout, sys.stderr))

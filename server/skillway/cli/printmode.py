"""`skillway -p`: one prompt (or `/command args`) through a whole session, printed as text, JSON or a
stream of JSON events, in the shapes `claude -p` uses. SessionStart hooks do run here."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from skillway.agent.loop import ALL_TOOLS
from skillway.app.run import QuietInterface, RunOptions, Status, run_prompt
from skillway.app.session import Session
from skillway.ship.summary import summary as ship_summary

EXIT_OK, EXIT_ERROR, EXIT_BLOCKED = 0, 1, 2


@dataclass(frozen=True)
class PrintOptions:
    prompt: str
    workspace: Path
    plugin_dirs: tuple[Path, ...] = ()
    output_format: str = "text"  # text | json | stream-json
    max_turns: int = 20
    model: str | None = None
    allowed_tools: tuple[str, ...] = ()
    permission_mode: str = "default"
    append_system_prompt: str | None = None
    bare: bool = False
    max_budget_usd: float | None = None


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
                     max_turns=options.max_turns, model=options.model, max_cost_usd=options.max_budget_usd)
    try:
        outcome = await run_prompt(session, options.prompt, ui, run)
    finally:
        await session.end("other")
    result = outcome.result
    for notice in outcome.notices:
        print(f"skillway: {notice}", file=err)
    code, subtype = EXIT_OK, "success"
    if outcome.status is not Status.ANSWERED:
        code, subtype = (EXIT_BLOCKED if outcome.blocked else EXIT_ERROR), "error_during_execution"
        print(f"skillway: {outcome.text}", file=err)
    elif result is not None and result.stop_reason in ("max_turns", "budget"):
        code, subtype = EXIT_ERROR, "error_max_turns" if result.stop_reason == "max_turns" else "error_max_budget_usd"
    summary = {
        "type": "result",
        "subtype": subtype,
        "is_error": code != EXIT_OK,
        "result": outcome.text,
        "session_id": session.session_id,
        "num_turns": result.turns if result else 0,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "duration_api_ms": round(result.api_ms) if result else 0,
        "total_cost_usd": round(result.cost_usd, 6) if result else 0.0,
        "usage": {"input_tokens": result.input_tokens if result else 0,
                  "output_tokens": result.output_tokens if result else 0,
                  "cache_creation_input_tokens": result.cache_write_tokens if result else 0,
                  "cache_read_input_tokens": result.cache_read_tokens if result else 0},
    }
    if outcome.ship is not None:
        summary["ship"] = ship_summary(outcome.ship)
    if options.output_format == "text":
        if result is not None:
            out.write(result.text + "\n")
    else:
        emit(summary) if stream else out.write(json.dumps(summary, indent=2) + "\n")
    return code

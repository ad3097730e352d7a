"""`skillway -p`: one prompt (or `/command args`) through a whole session, printed as text, JSON or a
stream of JSON events, in the shapes `claude -p` uses. SessionStart hooks do run here."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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


async def run_print(options: PrintOptions, out=sys.stdout, err=sys.stderr) -> int:
    from skillway.agent.loop import ALL_TOOLS, AgentLoop
    from skillway.model.errors import ModelError
    from skillway.session import Session
    from skillway.ship.orchestrator import ShipError, fan_out_command
    from skillway.slash.prepare import PromptRefused, prepare

    started = time.monotonic()
    session = Session.open(options.workspace, list(options.plugin_dirs), bare=options.bare)
    for problem in session.settings.problems:
        print(f"skillway: {problem.format()}", file=err)
    session.hooks.context.permission_mode = options.permission_mode
    stream = options.output_format == "stream-json"

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    start = await session.start("startup", model=options.model)
    for message in start.system_messages + start.warnings:
        print(f"skillway: {message}", file=err)
    if stream:
        emit({"type": "system", "subtype": "init", "session_id": session.session_id, "cwd": str(session.workspace),
              "model": options.model or session.settings.models["agent"],
              "tools": ALL_TOOLS, "permission_mode": options.permission_mode,
              "transcript_path": str(session.transcript.path)})
    code, result, subtype, error_text, ship = EXIT_OK, None, "success", None, None
    on_message = (lambda m: emit({"type": m.get("role", "user"), "message": m, "session_id": session.session_id})
                  ) if stream else None
    try:
        if fan_out_command(session, options.prompt) is not None:  # /ship: skillway runs the reviewers itself
            result, ship = await _ship(session, options.prompt, on_message)
        else:
            prepared = await prepare(session, options.prompt)
            loop = AgentLoop(session, instructions=options.append_system_prompt,
                             allowed_tools=prepared.allowed_tools + options.allowed_tools, max_turns=options.max_turns,
                             model=options.model or prepared.model, max_cost_usd=options.max_budget_usd,
                             on_message=on_message)
            result = await loop.run(prepared.text)
        for notice in result.notices:
            print(f"skillway: {notice}", file=err)
        if result.stop_reason in ("max_turns", "budget"):
            code, subtype = EXIT_ERROR, "error_max_turns" if result.stop_reason == "max_turns" else "error_max_budget_usd"
    except ShipError as error:
        code, subtype, error_text = EXIT_ERROR, "error_during_execution", str(error)
    except PromptRefused as refused:
        code, subtype, error_text = (EXIT_BLOCKED if refused.blocked else EXIT_ERROR), "error_during_execution", str(refused)
    except ModelError as error:
        code, subtype, error_text = EXIT_ERROR, "error_during_execution", error.message
    finally:
        await session.end("other")
    if error_text:
        print(f"skillway: {error_text}", file=err)
    summary = {
        "type": "result",
        "subtype": subtype,
        "is_error": code != EXIT_OK,
        "result": result.text if result else (error_text or ""),
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
    if ship is not None:
        summary["ship"] = ship
    if options.output_format == "text":
        if result is not None and code != EXIT_BLOCKED:
            out.write(result.text + "\n")
    else:
        emit(summary) if stream else out.write(json.dumps(summary, indent=2) + "\n")
    return code



async def _ship(session, typed: str, on_message):
    """A /ship run as the rest of print mode reports a run (its usage, the decision as its text), and
    the decision as data."""
    from dataclasses import replace

    from skillway.ship.orchestrator import run_ship
    from skillway.ship.terminal import summary

    shipped = await run_ship(session, typed, on_message=on_message)
    return replace(shipped.usage, text=shipped.document, turns=1, notices=shipped.notices), summary(shipped)

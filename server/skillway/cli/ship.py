"""`skillway ship` in a terminal or CI, an adapter over run_prompt: the whole /ship flow with progress
on stderr and the decision on stdout (markdown, or JSON with `--json`). `--check` and the git
pre-push hook are the gate's (cli/gate.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from pathlib import Path
from typing import TextIO

from skillway.app.run import QuietInterface, RunOptions, run_prompt
from skillway.app.session import Session
from skillway.cli.gate import EXIT_GO, EXIT_NO_GO
from skillway.ship.orchestrator import REVIEWER_TIMEOUT, ShipEvent
from skillway.ship.summary import command_name, summary


class _TerminalInterface(QuietInterface):
    """Each reviewer's start, retry and end on stderr (nothing with --json: CI reads stdout)."""

    def __init__(self, err: TextIO, shown: bool) -> None:
        self.err, self.shown = err, shown

    def progress(self, event: ShipEvent) -> None:
        if self.shown:
            said = {"start": "started", "retry": f"failed ({event.detail}); retrying once", "done": event.detail}[event.kind]
            print(f"skillway ship: {event.reviewer}: {said}", file=self.err, flush=True)


async def ship(workspace: Path, plugin_dirs: list[Path], base: str | None, accept_risks: list[str], *,
               as_json: bool = False, reviewer_timeout: float = REVIEWER_TIMEOUT, out: TextIO = sys.stdout,
               err: TextIO = sys.stderr) -> int:
    session = Session.open(workspace, plugin_dirs)
    for problem in session.settings.problems:
        print(f"skillway: {problem.format()}", file=err)
    start = await session.start("startup")
    for message in start.system_messages + start.warnings:
        print(f"skillway: {message}", file=err)
    words = ([base] if base else []) + [w for risk in accept_risks for w in ("--accept-risk", risk)]
    typed = f"/{command_name(session)} {shlex.join(words)}".strip()
    try:
        outcome = await run_prompt(session, typed, _TerminalInterface(err, not as_json),
                                   RunOptions(reviewer_timeout=reviewer_timeout))
    finally:
        await session.end("other")
    if outcome.ship is None:  # it could not run, or the API cannot serve the reviewers
        print(f"skillway ship: {outcome.text}", file=err)
        return EXIT_NO_GO
    for notice in outcome.notices:
        print(f"skillway ship: {notice}", file=err)
    out.write(json.dumps(summary(outcome.ship), indent=2) + "\n" if as_json else outcome.ship.document)
    return EXIT_GO if outcome.ship.verdict in ("GO", "NOTHING") else EXIT_NO_GO


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    if args.reviewer_timeout is not None and args.reviewer_timeout <= 0:
        print("skillway ship: --reviewer-timeout must be a number of seconds > 0", file=sys.stderr)
        return 1
    options = {"reviewer_timeout": args.reviewer_timeout} if args.reviewer_timeout else {}
    return asyncio.run(ship(workspace, plugin_dirs, args.base, args.accept_risk, as_json=args.json, out=sys.stdout,
                            err=sys.stderr, **options))

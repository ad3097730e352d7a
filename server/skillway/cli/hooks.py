"""`skillway hooks list|run`: the hooks a workspace has, or one event fired and its merged outcome."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from skillway.app.session import Session
from skillway.hooks import report


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    session = Session.open(workspace, plugin_dirs)
    if args.hooks_command == "list":
        rows = report.hook_rows(session.registry.hooks, session.may_run)
        print(json.dumps(rows, indent=2) if args.json else report.hook_rows_text(rows))
        return 0
    fields: dict[str, Any] = dict(report.DEFAULT_FIELDS.get(args.event, {}))  # the hook input: JSON as given
    if args.input:
        try:
            given = json.loads(sys.stdin.read() if args.input == "-" else args.input)
        except json.JSONDecodeError as exc:
            print(f"skillway: --input is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", file=sys.stderr)
            return 1
        if not isinstance(given, dict):
            print("skillway: --input must be a JSON object", file=sys.stderr)
            return 1
        fields.update(given)
    match = args.matcher_value if args.matcher_value is not None else fields.get(report.MATCH_FIELDS.get(args.event, ""))
    outcome = asyncio.run(session.hooks.fire(args.event, fields, match=match))
    print(json.dumps(outcome.to_json(), indent=2) if args.json else report.outcome_text(outcome))
    return 2 if outcome.blocked else 0

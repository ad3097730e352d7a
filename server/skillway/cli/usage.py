"""`skillway usage`: tokens, cost, latency and quotas from the usage ledger, as text, JSON or a page."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from skillway.app.session import Session
from skillway.model.ledger import LedgerError, open_ledger
from skillway.model.quotas import parse_window
from skillway.model.usage_report import report_html, report_text, usage_report


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    try:
        window = parse_window(args.window)
    except ValueError as exc:
        print(f"skillway: --window: {exc}", file=sys.stderr)
        return 1
    settings = Session.open(workspace).settings
    for problem in settings.problems:
        print(f"skillway: {problem.format()}", file=sys.stderr)
    try:
        with open_ledger(settings) as ledger:
            data, records, states = usage_report(ledger, settings, window, args.by, time.time())
    except LedgerError as exc:
        print(f"skillway: {exc}", file=sys.stderr)
        return 1
    for problem in data["problems"]:
        print(f"skillway: quotas setting: {problem}", file=sys.stderr)
    if args.html:
        args.html.write_text(report_html(records, states, window, time.time()), encoding="utf-8")
        print(f"wrote {args.html}")
        return 0
    print(json.dumps(data, indent=2) if args.json else report_text(data))
    return 0

"""`skillway sessions list [--json] [--all]`: the stored sessions, this workspace's (or every one's),
the one written to last first, each with what `--resume` needs (its id) and what it cost."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from skillway.app import stored
from skillway.app.session import project_slug
from skillway.settings import data_dir


def run(args: argparse.Namespace, workspace: Path) -> int:
    sessions = stored.list_sessions(data_dir(), None if args.all else project_slug(workspace.resolve()))
    if args.json:
        print(json.dumps({"sessions": [s.as_json() for s in sessions]}, indent=2))
        return 0
    if not sessions:
        print("no stored sessions" + ("" if args.all else " in this workspace (--all: every workspace's)"))
        return 0
    for s in sessions:
        print(f"{s.id}  {s.updated[:16].replace('T', ' ')}  {s.turns:3d} turns  "
              f"{s.input_tokens + s.output_tokens:8,d} tokens  ${s.cost_usd:.4f}  {s.title}")
        if args.all:
            print(f"    {s.workspace}")
    return 0

"""`skillway trust [PATH] [--revoke | --list]`: let a workspace's own hooks, commands and settings apply."""

from __future__ import annotations

import argparse
from pathlib import Path

from skillway.app.session import Session
from skillway.hooks.report import hook_rows, hook_rows_text
from skillway.settings import data_dir
from skillway.settings.trust import TrustStore


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    workspace = args.path.resolve() if args.path else workspace
    store = TrustStore(data_dir())
    if args.list:
        for path, entry in sorted(store.entries().items()):
            print(f"{path}  (trusted {entry.get('trusted_at', '?')})")
        return 0
    if args.revoke:
        removed = store.revoke(workspace)
        print(f"{workspace}: {'no longer trusted' if removed else 'was not trusted'}")
        return 0
    session = Session.open(workspace, plugin_dirs, as_trusted=True)
    own = [h for h in session.registry.hooks if not h.plugin.source.trusted_by_default]
    session.trust_workspace()
    print(f"{workspace}: trusted; its {len(own)} hook(s) may run" + (":" if own else "."))
    if session.settings.workspace_requests:
        print(f"its settings now apply: {', '.join(session.settings.workspace_requests)}")
    if own:
        print(hook_rows_text(hook_rows(own, lambda hook: True)))
    return 0

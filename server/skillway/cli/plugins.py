"""`skillway plugins list|show|validate`: what a workspace loads, one plugin in detail, or a check of plugin files.
Installing from marketplaces is in plugin_installs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from skillway.app.session import Session
from skillway.plugins import report
from skillway.plugins.validate import validate


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    if args.plugins_command in ("install", "update", "uninstall", "marketplace"):
        from skillway.cli import plugin_installs  # lazy, as every command's module is
        return plugin_installs.run(args, workspace)
    if args.plugins_command == "validate":
        validation = validate([p if p.is_absolute() else workspace / p for p in args.paths])
        if args.strict:
            validation = validation.strict()
        problems = validation.problems
        if args.json:
            print(json.dumps([p.to_json() for p in problems], indent=2))
        else:
            if problems:
                print(report.problem_lines(problems))
            print(validation.summary())
        return 1 if any(p.is_error for p in problems) else 0

    plugins = Session.open(workspace, plugin_dirs).plugins
    if args.plugins_command == "list":
        print(json.dumps(report.listing(plugins), indent=2) if args.json else report.listing_text(plugins))
        return 0
    plugin = plugins.find(args.name)
    if plugin is None:
        names = ", ".join(p.name for p in plugins.plugins)
        print(f"skillway: no plugin named {args.name!r} (loaded: {names})", file=sys.stderr)
        return 1
    print(json.dumps(report.details(plugin), indent=2) if args.json else report.details_text(plugin))
    return 0

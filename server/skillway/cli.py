"""Every command-line entry of skillway. Parses argv, calls the package, prints, returns an exit code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from skillway import __version__


def _common_options(scope: str) -> argparse.ArgumentParser:
    # Options given before the subcommand and after it land in different places (argparse lets a
    # subcommand's values overwrite the top level's), and main() joins them.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plugin-dir", action="append", type=Path, default=[], dest=f"{scope}_plugin_dirs",
                        metavar="DIR", help="load the plugin (or marketplace, or folder of plugins) in DIR; repeatable")
    common.add_argument("--cwd", type=Path, default=None, dest=f"{scope}_cwd", metavar="DIR",
                        help="the workspace folder (default: the current directory)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options("command")
    parser = argparse.ArgumentParser(prog="skillway", parents=[_common_options("top")],
                                     description="Claude-Code-style plugins and the code API in any LSP editor.")
    parser.add_argument("--version", action="version", version=f"skillway {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("serve", parents=[common], help="run the language server (what an editor starts)")
    commands.add_parser("doctor", parents=[common], help="show what skillway loaded and what is wrong")

    plugins = commands.add_parser("plugins", parents=[_common_options("group")], help="list, show or validate plugins")
    plugin_commands = plugins.add_subparsers(dest="plugins_command", metavar="ACTION", required=True)
    listing = plugin_commands.add_parser("list", parents=[common], help="every plugin this workspace loads")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = plugin_commands.add_parser("show", parents=[common], help="one plugin's commands, skills, agents and hooks")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON")
    check = plugin_commands.add_parser("validate", parents=[common], help="check plugin folders or files")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    check.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    scopes = ("top", "group", "command")
    cwd = next((c for c in (getattr(args, f"{s}_cwd", None) for s in reversed(scopes)) if c), Path.cwd())
    workspace = cwd.resolve()
    plugin_dirs = [p.resolve() for s in scopes for p in getattr(args, f"{s}_plugin_dirs", [])]
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "serve":
        print("skillway serve: the language server arrives with a later release of this repository.", file=sys.stderr)
        return 1
    if args.command == "doctor":
        from skillway.doctor import doctor_report

        print(doctor_report(workspace, plugin_dirs))
        return 0
    return _plugins(args, workspace, plugin_dirs)


def _plugins(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    from skillway.plugins import report

    if args.plugins_command == "validate":
        from skillway.plugins.validate import validate

        problems = validate([p if p.is_absolute() else workspace / p for p in args.paths])
        if args.json:
            print(json.dumps([p.to_json() for p in problems], indent=2))
        elif problems:
            print(report.problem_lines(problems))
        return 1 if any(p.is_error for p in problems) else 0

    from skillway.plugins.discovery import load_for_workspace

    plugins = load_for_workspace(workspace, plugin_dirs)
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

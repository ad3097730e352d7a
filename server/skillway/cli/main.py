"""Every command-line entry of skillway. Parses argv, calls the package, prints, returns an exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

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
    printing = parser.add_argument_group("print mode (like claude -p)")
    printing.add_argument("-p", "--print", dest="print_prompt", metavar="PROMPT",
                          help="run one prompt or /command and print the answer (- reads it from stdin)")
    printing.add_argument("--output-format", choices=["text", "json", "stream-json"], default="text")
    printing.add_argument("--max-turns", type=int, default=20, metavar="N")
    printing.add_argument("--model", metavar="MODEL", help="a model id or sonnet / opus / haiku")
    printing.add_argument("--allowedTools", "--allowed-tools", dest="allowed_tools", action="append", default=[],
                          metavar="RULES", help='tools allowed without asking, e.g. "Bash(git diff:*) Read"')
    printing.add_argument("--permission-mode", default="default",
                          choices=["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"])
    printing.add_argument("--append-system-prompt", metavar="TEXT")
    printing.add_argument("--bare", action="store_true", help="no plugins and no hooks")
    printing.add_argument("--max-budget-usd", type=float, metavar="USD", help="stop the run once it has cost this much")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the language server (what an editor starts)")
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP address instead")
    transport.add_argument("--ws", metavar="HOST:PORT", help="listen for WebSocket clients instead")
    commands.add_parser("doctor", parents=[common], help="show what skillway loaded and what is wrong")

    hooks = commands.add_parser("hooks", parents=[_common_options("group")], help="list hooks or fire an event")
    hook_commands = hooks.add_subparsers(dest="hooks_command", metavar="ACTION", required=True)
    hook_list = hook_commands.add_parser("list", parents=[common], help="every hook this workspace has")
    hook_list.add_argument("--json", action="store_true", help="print JSON")
    hook_run = hook_commands.add_parser("run", parents=[common], help="fire one event and print the merged outcome")
    hook_run.add_argument("event", metavar="EVENT")
    hook_run.add_argument("--input", metavar="JSON", help="extra input fields as a JSON object, or - to read them from stdin")
    hook_run.add_argument("--matcher-value", metavar="V", help="the value matchers are tested against (default: from the input)")
    hook_run.add_argument("--json", action="store_true", help="print JSON")

    usage = commands.add_parser("usage", parents=[common], help="tokens, cost, latency and quotas from the usage ledger")
    usage.add_argument("--window", default="5h", metavar="WINDOW", help="how far back: 5h (default), 24h, 7d, ...")
    usage.add_argument("--by", choices=["project", "purpose", "model"], help="one row per project, purpose or model")
    usage.add_argument("--json", action="store_true", help="print JSON")
    usage.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained page with a chart to FILE")

    ship = commands.add_parser("ship", parents=[common],
                               help="run the /ship reviewers on the change and decide GO or NO-GO (exit 1 on NO-GO)")
    ship.add_argument("base", nargs="?", metavar="BASE_REF", help="judge the change since this ref "
                      "(default: the branch's upstream, else main, else master)")
    ship.add_argument("--accept-risk", action="append", default=[], metavar="TEXT",
                      help="accept the critical finding this names (file, file:line or words of it); repeatable")
    ship.add_argument("--json", action="store_true", help="print the decision as JSON")
    ship.add_argument("--reviewer-timeout", type=float, default=None, metavar="SECONDS",
                      help="how long one reviewer may take (default 900)")
    ship_mode = ship.add_mutually_exclusive_group()
    ship_mode.add_argument("--check", action="store_true",
                           help="only check: exit 0 if the current change has a complete GO (or may skip review)")
    ship.add_argument("--pre-push", action="store_true",
                      help="with --check: judge the commits git's pre-push hook sends on stdin, not the working tree")
    ship.add_argument("--remote", metavar="NAME", help="with --pre-push: the remote pushed to (the hook's first argument)")
    ship_mode.add_argument("--install-git-hook", action="store_true",
                           help="install a git pre-push hook that runs skillway ship --check")

    trust = commands.add_parser("trust", parents=[common], help="let a workspace's own hooks and commands run")
    trust.add_argument("path", nargs="?", type=Path, metavar="PATH",
                       help="the workspace (default: --cwd or the current directory)")
    trust.add_argument("--revoke", action="store_true", help="stop trusting the workspace")
    trust.add_argument("--list", action="store_true", help="list trusted workspaces")

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


EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`skillway ... | head`): stop quietly. Later writes, and the flush at
        # exit, go to /dev/null instead of raising again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    scopes = ("top", "group", "command")
    cwd = next((c for c in (getattr(args, f"{s}_cwd", None) for s in reversed(scopes)) if c), Path.cwd())
    workspace = cwd.resolve()
    plugin_dirs = [p.resolve() for s in scopes for p in getattr(args, f"{s}_plugin_dirs", [])]
    if args.print_prompt is not None:
        return _print_mode(args, workspace, plugin_dirs)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "serve":
        return _serve(args, plugin_dirs)
    if args.command == "doctor":
        from skillway.cli.doctor import doctor_report

        report, has_error = doctor_report(workspace, plugin_dirs)
        print(report)
        return 1 if has_error else 0
    if args.command == "hooks":
        return _hooks(args, workspace, plugin_dirs)
    if args.command == "usage":
        return _usage(args, workspace)
    if args.command == "ship":
        return _ship(args, workspace, plugin_dirs)
    if args.command == "trust":
        return _trust(args, args.path.resolve() if args.path else workspace, plugin_dirs)
    return _plugins(args, workspace, plugin_dirs)


def _print_mode(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    import asyncio

    from skillway.cli.printmode import PrintOptions, run_print
    from skillway.plugins.frontmatter import as_list

    prompt = sys.stdin.read() if args.print_prompt == "-" else args.print_prompt
    if not prompt.strip():
        print("skillway: -p needs a prompt (or - to read it from stdin)", file=sys.stderr)
        return 1
    options = PrintOptions(
        prompt=prompt.strip(), workspace=workspace, plugin_dirs=tuple(plugin_dirs), output_format=args.output_format,
        max_turns=args.max_turns, model=args.model,
        allowed_tools=tuple(rule for text in args.allowed_tools for rule in as_list(text)),
        permission_mode=args.permission_mode, append_system_prompt=args.append_system_prompt, bare=args.bare,
        max_budget_usd=args.max_budget_usd)
    return asyncio.run(run_print(options))


def _serve(args: argparse.Namespace, plugin_dirs: list[Path]) -> int:
    address = args.tcp or args.ws
    host, port = "127.0.0.1", 2087
    if address:
        host, _, port_text = address.rpartition(":")
        if not port_text.isdigit():
            print(f"skillway: expected HOST:PORT, got {address!r}", file=sys.stderr)
            return 1
        host, port = host or "127.0.0.1", int(port_text)
    from skillway.lsp.main import run

    run("tcp" if args.tcp else "ws" if args.ws else "stdio", host, port, plugin_dirs)
    return 0


def _hooks(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    import asyncio

    from skillway.app.session import Session
    from skillway.hooks import report

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


def _usage(args: argparse.Namespace, workspace: Path) -> int:
    import time

    from skillway.model.ledger import LedgerError, UsageLedger
    from skillway.model.quotas import parse_window
    from skillway.model.usage_report import report_html, report_text, usage_report

    try:
        window = parse_window(args.window)
    except ValueError as exc:
        print(f"skillway: --window: {exc}", file=sys.stderr)
        return 1
    from skillway.app.session import Session

    settings = Session.open(workspace).settings
    for problem in settings.problems:
        print(f"skillway: {problem.format()}", file=sys.stderr)
    try:
        with UsageLedger.default() as ledger:
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


def _ship(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    from skillway.cli import ship as terminal

    if args.pre_push and not args.check:
        print("skillway ship: --pre-push goes with --check", file=sys.stderr)
        return 1
    if args.check:
        if args.pre_push:
            return terminal.check_push(workspace, args.base, sys.stdin.read(), args.remote)
        return terminal.check(workspace, args.base)
    if args.install_git_hook:
        return terminal.install_git_hook(workspace)
    if args.reviewer_timeout is not None and args.reviewer_timeout <= 0:
        print("skillway ship: --reviewer-timeout must be a number of seconds > 0", file=sys.stderr)
        return 1
    import asyncio

    options = {"reviewer_timeout": args.reviewer_timeout} if args.reviewer_timeout else {}
    return asyncio.run(terminal.ship(workspace, plugin_dirs, args.base, args.accept_risk, as_json=args.json, **options))


def _trust(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    from skillway.settings import data_dir
    from skillway.settings.trust import TrustStore

    store = TrustStore(data_dir())
    if args.list:
        for path, entry in sorted(store.entries().items()):
            print(f"{path}  (trusted {entry.get('trusted_at', '?')})")
        return 0
    if args.revoke:
        removed = store.revoke(workspace)
        print(f"{workspace}: {'no longer trusted' if removed else 'was not trusted'}")
        return 0
    from skillway.app.session import Session
    from skillway.hooks.report import hook_rows, hook_rows_text

    session = Session.open(workspace, plugin_dirs, as_trusted=True)
    own = [h for h in session.registry.hooks if not h.plugin.source.trusted_by_default]
    session.trust_workspace()
    print(f"{workspace}: trusted; its {len(own)} hook(s) may run" + (":" if own else "."))
    if session.settings.workspace_requests:
        print(f"its settings now apply: {', '.join(session.settings.workspace_requests)}")
    if own:
        print(hook_rows_text(hook_rows(own, lambda hook: True)))
    return 0


def _plugins(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    from skillway.plugins import report

    if args.plugins_command == "validate":
        from skillway.plugins.validate import validate

        validation = validate([p if p.is_absolute() else workspace / p for p in args.paths])
        problems = validation.problems
        if args.json:
            print(json.dumps([p.to_json() for p in problems], indent=2))
        else:
            if problems:
                print(report.problem_lines(problems))
            print(validation.summary())
        return 1 if any(p.is_error for p in problems) else 0

    from skillway.app.session import Session

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

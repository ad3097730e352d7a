"""Every command-line entry of skillway. Parses argv, calls the package, prints, returns an exit code."""

from __future__ import annotations

import argparse
import functools
import os
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


@functools.cache  # built once a process: the warm process builds it, and its runs find it built
def build_parser() -> argparse.ArgumentParser:
    common = _common_options("command")
    parser = argparse.ArgumentParser(prog="skillway", parents=[_common_options("top")],
                                     description="Claude-Code-style plugins and the code API in any LSP editor.")
    parser.add_argument("--version", action="version", version=f"skillway {__version__}")
    printing = parser.add_argument_group("print mode (like claude -p)")
    printing.add_argument("-p", "--print", dest="print_prompt", metavar="PROMPT", nargs="?", const="",
                          help="run one prompt or /command and print the answer (- reads it from stdin)")
    printing.add_argument("--output-format", choices=["text", "json", "stream-json"], default="text")
    printing.add_argument("--input-format", choices=["text", "stream-json"], default="text",
                          help="stream-json: the turns come from stdin, one user message a line")
    printing.add_argument("-r", "--resume", metavar="SESSION_ID", help="go on with a stored session")
    printing.add_argument("-c", "--continue", dest="continue_latest", action="store_true",
                          help="go on with this workspace's latest session")
    printing.add_argument("--session-id", metavar="UUID", help="the new session's id")
    printing.add_argument("--fork-session", action="store_true",
                          help="with --resume or --continue: go on from a copy, under a new id")
    printing.add_argument("--max-turns", type=int, default=20, metavar="N")
    printing.add_argument("--model", metavar="MODEL", help="a model id or sonnet / opus / haiku")
    printing.add_argument("--allowedTools", "--allowed-tools", dest="allowed_tools", action="append", default=[],
                          metavar="RULES", help='tools allowed without asking, e.g. "Bash(git diff:*) Read"')
    printing.add_argument("--disallowedTools", "--disallowed-tools", dest="disallowed_tools", action="append", default=[],
                          metavar="RULES", help='tools refused whatever else allows them, e.g. "Bash(rm:*) Write"')
    printing.add_argument("--mcp-config", dest="mcp_config", action="append", default=[], metavar="FILE|JSON",
                          help="MCP servers for this run, from a file or a JSON string (repeatable)")
    printing.add_argument("--strict-mcp-config", action="store_true", help="use only the --mcp-config servers")
    printing.add_argument("--permission-mode", default="default",
                          choices=["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"])
    printing.add_argument("--append-system-prompt", metavar="TEXT")
    printing.add_argument("--append-system-prompt-file", metavar="FILE", help="append FILE's text to the system prompt")
    printing.add_argument("--system-prompt", metavar="TEXT", help="replace skillway's system prompt with TEXT")
    printing.add_argument("--system-prompt-file", metavar="FILE", help="replace skillway's system prompt with FILE's text")
    printing.add_argument("--tools", metavar="TOOLS",
                          help='the built-in tools offered, e.g. "Bash,Read" ("" none, default all)')
    printing.add_argument("--fallback-model", metavar="MODEL",
                          help="answer on MODEL when the model is overloaded or not found")
    printing.add_argument("--json-schema", metavar="SCHEMA",
                          help="a JSON Schema the final answer must match (the result's structured_output)")
    printing.add_argument("--settings", metavar="FILE|JSON", help="more settings for this run: permissions and hooks")
    printing.add_argument("--agents", metavar="JSON",
                          help='more sub-agent types: {"name": {"description", "prompt", "tools", "model"}}')
    printing.add_argument("--include-partial-messages", action="store_true",
                          help="with stream-json: also print the streaming events of each answer")
    printing.add_argument("--bare", action="store_true", help="no plugins and no hooks")
    printing.add_argument("--max-budget-usd", type=float, metavar="USD", help="stop the run once it has cost this much")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the language server (what an editor starts)")
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP address instead")
    transport.add_argument("--ws", metavar="HOST:PORT", help="listen for WebSocket clients instead")
    commands.add_parser("acp", parents=[common], help="run the Agent Client Protocol agent (what an editor's agent panel starts)")
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

    mcp = commands.add_parser("mcp", parents=[_common_options("group")], help="the MCP servers this workspace starts")
    mcp_commands = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    mcp_list = mcp_commands.add_parser("list", parents=[common], help="each server, started and checked: status and tools")
    mcp_list.add_argument("--json", action="store_true", help="print JSON")
    mcp_add = mcp_commands.add_parser("add", parents=[common], help="add a server, where Claude Code keeps yours")
    mcp_add.add_argument("name", metavar="NAME")
    mcp_add.add_argument("target", metavar="COMMAND|URL")
    mcp_add.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the command's arguments")
    mcp_add.add_argument("-t", "--transport", choices=["stdio", "http", "sse"], default="stdio")
    mcp_add.add_argument("-s", "--scope", choices=["local", "user", "project"], default="local",
                         help="local: this workspace, yours (default); user: every workspace; project: its .mcp.json")
    mcp_add.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE")
    mcp_add.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'")
    mcp_remove = mcp_commands.add_parser("remove", parents=[common], help="remove a server you added")
    mcp_remove.add_argument("name", metavar="NAME")
    mcp_remove.add_argument("-s", "--scope", choices=["local", "user", "project"])
    mcp_get = mcp_commands.add_parser("get", parents=[common], help="one server and its tools")
    mcp_get.add_argument("name", metavar="NAME")
    mcp_get.add_argument("--json", action="store_true", help="print JSON")

    sessions = commands.add_parser("sessions", parents=[_common_options("group")], help="the stored sessions")
    session_commands = sessions.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    session_list = session_commands.add_parser("list", parents=[common], help="each session: id, workspace, turns, cost")
    session_list.add_argument("--json", action="store_true", help="print JSON")
    session_list.add_argument("--all", action="store_true", help="every workspace's, not only this one's")

    plugins = commands.add_parser("plugins", parents=[_common_options("group")], help="list, show, validate or install plugins")
    plugin_commands = plugins.add_subparsers(dest="plugins_command", metavar="ACTION", required=True)
    listing = plugin_commands.add_parser("list", parents=[common], help="every plugin this workspace loads")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = plugin_commands.add_parser("show", parents=[common], help="one plugin's commands, skills, agents and hooks")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON")
    check = plugin_commands.add_parser("validate", parents=[common], help="check plugin folders or files")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    check.add_argument("--strict", action="store_true",
                       help="also fail on publishing rules Claude Code does not enforce when loading (for authors who publish)")
    check.add_argument("--json", action="store_true", help="print JSON")
    for action, what in (("install", "install a marketplace's plugin, pinned at its newest commit"),
                         ("update", "move an installed plugin to the newest commit of its source"),
                         ("uninstall", "remove an installed plugin")):
        plugin_commands.add_parser(action, parents=[common], help=what).add_argument("install_id", metavar="PLUGIN@MARKETPLACE")
    market = plugin_commands.add_parser("marketplace", parents=[common], help="add, list, update or remove marketplaces")
    market_commands = market.add_subparsers(dest="marketplace_command", metavar="ACTION", required=True)
    market_commands.add_parser("add", parents=[common], help="add a marketplace").add_argument(
        "source", metavar="SOURCE", help="a git URL, a GitHub owner/repo, or a folder holding .claude-plugin/marketplace.json")
    market_list = market_commands.add_parser("list", parents=[common], help="the marketplaces added, and their plugins")
    market_list.add_argument("--json", action="store_true", help="print JSON")
    market_commands.add_parser("update", parents=[common], help="fetch the newest commit of one marketplace, or all"
                               ).add_argument("name", nargs="?", metavar="NAME")
    market_commands.add_parser("remove", parents=[common], help="forget a marketplace and uninstall its plugins").add_argument(
        "name", metavar="NAME")
    return parser


EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE


def main(argv: list[str] | None = None, *, warm: bool = True) -> int:
    """The command line. Print mode runs in the warm process when there is one (`warm`: may it; the
    warm process's own runs may not, they are its)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if warm and any(a in ("-p", "--print") for a in arguments):
        from skillway.cli.daemon import run_through_daemon

        code = run_through_daemon(arguments)
        if code is not None:
            return code
    arguments = [a for a in arguments if a != "--no-daemon"]
    try:
        return _main(arguments)
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
    if args.command is None and args.print_prompt is None:
        from skillway.cli import repl  # no prompt: the interactive terminal
        return repl.run(args, workspace, plugin_dirs)
    return _run(args, workspace, plugin_dirs)


def _run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    # A command's module is imported when that command runs: only `serve` loads the protocol types
    # (lsprotocol takes about a second), and the pre-push gate loads nothing but the ship rules.
    if args.print_prompt is not None:
        from skillway.cli import printmode
        return printmode.run(args, workspace, plugin_dirs)
    if args.command == "serve":
        from skillway.cli import serve
        return serve.run(args, workspace, plugin_dirs)
    if args.command == "acp":
        from skillway.cli import acp
        return acp.run(args, workspace, plugin_dirs)
    if args.command == "doctor":
        from skillway.cli import doctor
        return doctor.run(args, workspace, plugin_dirs)
    if args.command == "hooks":
        from skillway.cli import hooks
        return hooks.run(args, workspace, plugin_dirs)
    if args.command == "usage":
        from skillway.cli import usage
        return usage.run(args, workspace, plugin_dirs)
    if args.command == "ship" and (args.check or args.install_git_hook or args.pre_push):
        from skillway.cli import gate
        return gate.run(args, workspace, plugin_dirs)
    if args.command == "ship":
        from skillway.cli import ship
        return ship.run(args, workspace, plugin_dirs)
    if args.command == "trust":
        from skillway.cli import trust
        return trust.run(args, workspace, plugin_dirs)
    if args.command == "mcp":
        from skillway.cli import mcp
        return mcp.run(args, workspace, plugin_dirs)
    if args.command == "sessions":
        from skillway.cli import sessions
        return sessions.run(args, workspace)
    from skillway.cli import plugins
    return plugins.run(args, workspace, plugin_dirs)

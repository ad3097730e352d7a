"""`skillway mcp list|get`: the MCP servers this workspace would start, started and asked for their
tools (as `claude mcp list` checks them), then stopped; `skillway mcp add|remove`: yours, kept where
and as Claude Code keeps them (`~/.claude.json`, or the workspace's `.mcp.json`)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from skillway.app.session import Session
from skillway.plugins.mcp_config import MCP_FILE, save_server
from skillway.settings.dirs import home_dir


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    if args.mcp_command in ("add", "remove"):
        return _edit(args, workspace)
    return asyncio.run(_run(args, workspace, plugin_dirs))


SCOPES = ("local", "project", "user")  # where `remove` looks, in Claude Code's precedence


def _where(scope: str, workspace: Path) -> tuple[Path, Path | None]:
    """The file a scope's servers live in, and the project key inside it (local scope)."""
    if scope == "project":
        return workspace / MCP_FILE, None
    home = home_dir()
    if home is None:
        raise ValueError("there is no home folder to keep your servers in")
    return home / ".claude.json", workspace if scope == "local" else None


def _edit(args: argparse.Namespace, workspace: Path) -> int:
    """`mcp add` / `mcp remove`, in the files and shape Claude Code uses (`claude mcp add`)."""
    try:
        if args.mcp_command == "remove":
            for scope in [args.scope] if args.scope else SCOPES:
                path, project = _where(scope, workspace)
                if save_server(path, args.name, None, project=project):
                    print(f"removed MCP server {args.name} ({scope}: {path})")
                    return 0
            print(f'skillway: no MCP server named "{args.name}" to remove')
            return 1
        path, project = _where(args.scope, workspace)
        save_server(path, args.name, _entry(args), project=project)
    except ValueError as exc:
        print(f"skillway: {exc}")
        return 1
    print(f"added MCP server {args.name} ({args.scope}: {path})")
    return 0


def _entry(args: argparse.Namespace) -> dict:
    if args.transport == "stdio":
        env = dict(item.split("=", 1) for item in args.env if "=" in item)
        return {"type": "stdio", "command": args.target, "args": list(args.args), "env": env}
    headers = dict((name.strip(), value.strip()) for name, _, value in (h.partition(":") for h in args.header))
    return {"type": args.transport, "url": args.target, "headers": headers}


async def _run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    session = Session.open(workspace, plugin_dirs)
    hub = session.mcp
    try:
        await hub.tools()  # starts them
        rows = hub.status()
        problems = list(hub.problems)
    finally:
        await hub.close()
    if args.mcp_command == "get":
        rows = [row for row in rows if args.name in (row["name"], f"plugin:{row['plugin']}:{row['name']}")]
        if not rows:
            print(f'skillway: no MCP server named "{args.name}"')
            return 1
    working = 0 if all(row["status"] == "connected" for row in rows) else 1
    if args.json:
        print(json.dumps({"servers": rows, "problems": problems}, indent=2))
        return working
    if not rows:
        print("no MCP servers")
    for row in rows:
        source = f"plugin {row['plugin']}" if row["plugin"] else "yours or the workspace's"
        print(f"{row['name']:<20} {row['transport']:<6} {row['status']:<10} {row['tools']:>3} tools  ({source})")
        if row["error"]:
            print(f"    {row['error']}  (log: {row['log']})")
        for name in row["tool_names"] if args.mcp_command == "get" else []:
            print(f"    {name}")
    for problem in problems:
        print(f"skillway: {problem}")
    return working


"""`skillway mcp list [--json]` and `skillway mcp get NAME [--json]`: the MCP servers this workspace
would start, started and asked for their tools (as `claude mcp list` checks them), then stopped."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from skillway.app.session import Session


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    return asyncio.run(_run(args, workspace, plugin_dirs))


async def _run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    session = Session.open(workspace, plugin_dirs)
    hub = session.mcp
    try:
        tools = await hub.tools()
        rows = hub.status()
        problems = list(hub.problems)
    finally:
        await hub.close()
    if args.mcp_command == "get":
        rows = [row for row in rows if args.name in (row["name"], f"plugin:{row['plugin']}:{row['name']}")]
        if not rows:
            print(f'skillway: no MCP server named "{args.name}"')
            return 1
        for row in rows:
            row["tool_names"] = [t.name for t in tools if t.name.startswith(_prefix(row))]
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
        for name in row.get("tool_names", []):
            print(f"    {name}")
    for problem in problems:
        print(f"skillway: {problem}")
    return working


def _prefix(row: dict) -> str:
    base = f"plugin_{row['plugin']}_{row['name']}" if row["plugin"] else row["name"]
    return f"mcp__{base}__"

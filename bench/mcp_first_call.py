"""Benchmark: from a session's start to its first MCP tool call, with N stdio servers.

Cold: a new session (what print mode pays), whose first need starts every server at once, then the
call. Warm: the next call in the same session (what the language server pays once its servers run).
Baseline, side by side: the bare `mcp` SDK starting the same servers at once and making the call.
Median of several runs, and the ratios.

    python bench/mcp_first_call.py [--servers 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer("bench")

@server.tool()
def echo(text: str) -> str:
    \"\"\"Echo the text.\"\"\"
    return text

server.run()
"""


def make_plugin(root: Path, servers: int) -> Path:
    (root / "server.py").write_text(SERVER)
    config = {"mcpServers": {f"s{i}": {"command": sys.executable, "args": [str(root / "server.py")]} for i in range(servers)}}
    plugin = root / "bench-plugin"
    plugin.mkdir()
    (plugin / ".mcp.json").write_text(json.dumps(config))
    return plugin


async def skillway_run(plugin: Path, workspace: Path) -> tuple[float, float]:
    from skillway.app.session import Session
    from skillway.plugins.discovery import discover
    from skillway.settings import Settings

    started = time.perf_counter()
    settings = Settings()
    session = Session(workspace, discover(workspace, settings, [plugin], include_bundled=False), settings)
    await session.start()
    tools = await session.mcp.tools()
    await session.mcp.call(tools[0].name, {"text": "cold"})
    cold = time.perf_counter() - started
    started = time.perf_counter()
    await session.mcp.call(tools[0].name, {"text": "warm"})
    warm = time.perf_counter() - started
    await session.end()
    return cold, warm


async def bare_sdk(script: Path, servers: int) -> float:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        async def connect() -> ClientSession:
            params = StdioServerParameters(command=sys.executable, args=[str(script)])
            read, write = await stack.enter_async_context(stdio_client(params))
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            await session.list_tools()
            return session
        sessions = [await connect() for _ in range(servers)]  # one exit stack: one task, in turn
        await sessions[0].call_tool("echo", {"text": "bare"})
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        plugin = make_plugin(root, args.servers)
        workspace = root / "ws"
        workspace.mkdir()
        colds, warms, bares = [], [], []
        for _ in range(args.runs):
            cold, warm = asyncio.run(skillway_run(plugin, workspace))
            colds.append(cold)
            warms.append(warm)
            bares.append(asyncio.run(bare_sdk(root / "server.py", args.servers)))
    cold, warm, bare = (statistics.median(v) * 1000 for v in (colds, warms, bares))
    print(f"{args.servers} stdio servers, median of {args.runs} runs")
    print(f"  skillway, session start to first MCP call (cold): {cold:8.1f} ms")
    print(f"  skillway, next call in the same session (warm):   {warm:8.1f} ms")
    print(f"  bare mcp SDK, {args.servers} servers one after another, one call: {bare:8.1f} ms")
    print(f"  cold / bare: {cold / bare:.2f}   warm / cold: {warm / cold:.3f}")


if __name__ == "__main__":
    main()

"""Benchmark: from a session's start to its first MCP tool call, with N stdio servers.

Cold: a new session (what print mode pays), whose first need starts every server at once, then the
call. Warm: the next call in the same session. Second session: in the language server, a session of
the same workspace opened after the first one ended, from its start to its first call: it finds the
servers the first one started still running in the editor's pool (and the figure says how many it
had to start: none), while a session of another workspace starts its own (they run in their
workspace). Baseline, side by side: the bare `mcp` SDK starting the same servers and making the
call. Median of several runs, and the ratios.

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


async def language_server_run(plugin: Path, workspace: Path, other: Path) -> tuple[float, int, int]:
    """(the second session's start to first call, servers it started, servers another workspace's started)."""
    from skillway.app.session import Session
    from skillway.mcpclient.pool import IDLE_SECONDS, McpPool
    from skillway.plugins.discovery import discover
    from skillway.settings import Settings

    pool = McpPool(workspace.parent / "editor-logs", linger=IDLE_SECONDS)  # as the language server's Sessions make it

    async def first_call(folder: Path) -> float:
        started = time.perf_counter()
        settings = Settings()
        session = Session(folder, discover(folder, settings, [plugin], include_bundled=False), settings)
        session.mcp_pool = pool
        await session.start()
        tools = await session.mcp.tools()
        await session.mcp.call(tools[0].name, {"text": "call"})
        took = time.perf_counter() - started
        await session.end()
        return took

    try:
        await first_call(workspace)
        before = pool.started
        second = await first_call(workspace)
        reused = pool.started - before
        await first_call(other)
        return second, reused, pool.started - before - reused
    finally:
        await pool.close()


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
        workspace, other = root / "ws", root / "other"
        workspace.mkdir()
        other.mkdir()
        colds, warms, seconds, bares = [], [], [], []
        for _ in range(args.runs):
            cold, warm = asyncio.run(skillway_run(plugin, workspace))
            colds.append(cold)
            warms.append(warm)
            second, started_again, started_elsewhere = asyncio.run(language_server_run(plugin, workspace, other))
            seconds.append(second)
            bares.append(asyncio.run(bare_sdk(root / "server.py", args.servers)))
    cold, warm, second, bare = (statistics.median(v) * 1000 for v in (colds, warms, seconds, bares))
    print(f"{args.servers} stdio servers, median of {args.runs} runs")
    print(f"  skillway, session start to first MCP call (cold): {cold:8.1f} ms")
    print(f"  skillway, next call in the same session (warm):   {warm:8.1f} ms")
    print(f"  language server, second session to first call:   {second:8.1f} ms "
          f"(servers it started: {started_again}; another workspace's session started {started_elsewhere})")
    print(f"  bare mcp SDK, {args.servers} servers one after another, one call: {bare:8.1f} ms")
    print(f"  cold / bare: {cold / bare:.2f}   warm / cold: {warm / cold:.3f}   second session / cold: {second / cold:.3f}")


if __name__ == "__main__":
    main()

"""The language server's MCP servers: sessions that declare a server alike share one running server,
kept warm between them; a server that differs in anything that makes it what it is (here, the
workspace it runs in) starts on its own; closing the pool leaves no server running."""

from __future__ import annotations

import os

import pytest

from skillway.app.session import Session
from skillway.mcpclient.pool import McpPool
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.hooks.hookkit import running as alive
from tests.mcp.servers import mcp_plugin, stdio

pytestmark = pytest.mark.usefixtures("api_key")

WHERE_SERVER = """
import os, sys
from mcp.server.mcpserver import MCPServer

open(sys.argv[1], "a").write(f"{os.getpid()}\\n")
server = MCPServer("where")

@server.tool()
def where() -> str:
    \"\"\"Where the server runs, and which process it is.\"\"\"
    return f"{os.getcwd()} {os.getpid()}"

server.run()
"""


@pytest.fixture
def where(tmp_path):
    script = write_tree(tmp_path / "servers", {"where.py": WHERE_SERVER}) / "where.py"
    return mcp_plugin(tmp_path, {"where": stdio(script, tmp_path / "pids")}), tmp_path / "pids"


def workspace_session(tmp_path, fake, plugin, folder: str, pool: McpPool) -> Session:
    workspace = write_tree(tmp_path / folder, {"a.txt": "x\n"})
    settings = Settings(base_url=fake.base_url)
    session = Session(workspace, discover(workspace, settings, [plugin], include_bundled=False), settings)
    session.mcp_pool = pool
    return session


async def answer(session: Session) -> str:
    await session.mcp.tools()
    return str((await session.mcp.call("mcp__plugin_kit_where__where", {})).content)


def pids_of(path) -> list[int]:
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


async def test_a_second_session_of_a_workspace_uses_the_server_the_first_one_started(tmp_path, fake, where):
    plugin, pids = where
    pool = McpPool(tmp_path / "logs", linger=300)
    try:
        first = workspace_session(tmp_path, fake, plugin, "ws", pool)
        before = await answer(first)
        await first.end()
        second = workspace_session(tmp_path, fake, plugin, "ws", pool)
        after = await answer(second)
        await second.end()
    finally:
        await pool.close()
    (pid,) = pids_of(pids)  # one server started, for both
    assert before == after == f"{tmp_path / 'ws'} {pid}"
    assert pool.started == 1


async def test_a_server_declared_alike_in_another_workspace_starts_on_its_own_there(tmp_path, fake, where):
    plugin, pids = where
    pool = McpPool(tmp_path / "logs", linger=300)
    try:
        here = await answer(workspace_session(tmp_path, fake, plugin, "one", pool))
        there = await answer(workspace_session(tmp_path, fake, plugin, "two", pool))
    finally:
        await pool.close()
    assert (here.split()[0], there.split()[0], pool.started) == (str(tmp_path / "one"), str(tmp_path / "two"), 2)
    assert [pid for pid in pids_of(pids) if alive(pid)] == []


async def test_a_server_nobody_holds_stops_at_once_in_a_pool_that_keeps_none_warm(tmp_path, fake, where):
    plugin, pids = where
    pool = McpPool(tmp_path / "logs")
    session = workspace_session(tmp_path, fake, plugin, "ws", pool)
    await answer(session)
    await session.end()
    assert [pid for pid in pids_of(pids) if alive(pid)] == []


async def test_a_session_s_own_servers_run_in_its_workspace(tmp_path, fake, where):
    plugin, _ = where
    workspace = write_tree(tmp_path / "elsewhere", {"a.txt": ""})
    settings = Settings(base_url=fake.base_url)
    session = Session(workspace, discover(workspace, settings, [plugin], include_bundled=False), settings)
    try:
        got = await answer(session)
    finally:
        await session.end()
    assert got.split()[0] == str(workspace) != os.getcwd()

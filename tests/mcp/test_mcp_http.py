"""MCP servers over HTTP: headers a `headersHelper` command prints, over the declared ones, as Claude
Code sends them; a helper that fails; a server that asks for an OAuth sign-in."""

from __future__ import annotations

import json
import sys
import threading

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import write_tree
from tests.lsp.test_transports import free_port
from tests.mcp.servers import http_server_at, mcp_plugin, session_for, wait_listening

pytestmark = pytest.mark.usefixtures("api_key")

HEADERS_SERVER = """
import json, sys
from mcp.server.mcpserver import Context, MCPServer
server = MCPServer("headers")

@server.tool()
def headers(ctx: Context) -> str:
    \"\"\"The request's headers that matter here, as JSON.\"\"\"
    got = ctx.headers or {}
    return json.dumps({key: got.get(key) for key in ("authorization", "x-team")})

server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""


@pytest.fixture
def http_server(tmp_path):
    """A server over streamable HTTP on 127.0.0.1 whose one tool tells the headers it got: its URL."""
    script = write_tree(tmp_path / "servers", {"headers.py": HEADERS_SERVER}) / "headers.py"
    port = free_port()
    with http_server_at([sys.executable, str(script), str(port)], port) as url:
        yield url


async def headers_seen(tmp_path, fake, entry: dict) -> tuple[dict, list[str]]:
    """What the server saw of the headers, through its `headers` tool, and what the hub told."""
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"remote": entry}))
    try:
        await session.mcp.tools()
        output = await session.mcp.call("mcp__plugin_kit_remote__headers", {})
    finally:
        await session.end()
    return json.loads(str(output.content)), session.mcp.problems


async def test_a_headers_helper_s_headers_go_over_the_declared_ones(tmp_path, fake, http_server):
    helper = """printf '{"Authorization": "Bearer for-%s"}' "$CLAUDE_CODE_MCP_SERVER_NAME\""""
    seen, told = await headers_seen(tmp_path, fake, {"type": "http", "url": http_server, "headersHelper": helper,
                                                     "headers": {"Authorization": "Bearer old", "X-Team": "core"}})
    assert (seen, told) == ({"authorization": "Bearer for-remote", "x-team": "core"}, [])


async def test_a_headers_helper_that_prints_no_json_is_told_and_the_declared_headers_are_sent(tmp_path, fake, http_server):
    seen, told = await headers_seen(tmp_path, fake, {"type": "http", "url": http_server, "headersHelper": "echo nope",
                                                     "headers": {"X-Team": "core"}})
    assert (seen, told) == ({"authorization": None, "x-team": "core"},
                            ["headersHelper for MCP server 'remote' did not return valid JSON"])


async def test_a_headers_helper_never_sees_the_api_key(tmp_path, fake, http_server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret-never-shared")
    helper = """printf '{"Authorization": "%s"}' "${ANTHROPIC_API_KEY:-none}\""""
    seen, _ = await headers_seen(tmp_path, fake, {"type": "http", "url": http_server, "headersHelper": helper})
    assert seen["authorization"] == "none"


@pytest.fixture
def oauth_server():
    """A server that answers every request 401 with an OAuth challenge, as a protected MCP server does."""
    async def protected(request):
        return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer resource_metadata="http://x/.well-known"'})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/mcp", protected, methods=["GET", "POST", "DELETE"])]),
                                           host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_listening(port, thread.is_alive)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(10)


async def test_a_server_that_asks_for_oauth_is_listed_as_needing_sign_in(tmp_path, fake, oauth_server):
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"remote": {"type": "http", "url": oauth_server}}))
    try:
        tools = await session.mcp.tools()
        (status,) = session.mcp.status()
    finally:
        await session.end()
    assert (tools, status["status"]) == ([], "needs sign-in")
    assert status["error"].startswith("needs sign-in: the server asks for OAuth authorization")


def test_a_headers_helper_that_is_not_a_string_is_refused_naming_the_file(tmp_path):
    from skillway.plugins.mcp_config import read_servers

    path = write_tree(tmp_path, {"m.json": json.dumps({"mcpServers": {"r": {"url": "http://h", "headersHelper": ["x"]}}})}) / "m.json"
    servers, problems = read_servers(path, None, None, {}, {})
    assert (servers, [p.format() for p in problems]) == (
        [], [f'{path}:1:1: error: MCP server "r": "headersHelper" must be a command (a string)'])

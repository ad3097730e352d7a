"""MCP servers written with the `mcp` package's server API, as scripts the tests start, and the
plugin and session that carry them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree

DOCS_SERVER = """
import os, sys, time
from mcp.server.mcpserver import MCPServer

open(sys.argv[1], "a").write(f"{os.getpid()}\\n")  # who is running, for the process-table check
server = MCPServer("docs")

@server.tool()
def search(query: str) -> str:
    \"\"\"Search the docs.\"\"\"
    return f"found: {query}"

@server.tool()
def crash() -> str:
    \"\"\"Dies in the middle of the call.\"\"\"
    os._exit(3)

@server.tool()
def huge() -> str:
    \"\"\"Returns ten megabytes.\"\"\"
    return "x" * 10_000_000

@server.tool()
def guard(cmd: str) -> str:
    \"\"\"A hook's check: refuse rm.\"\"\"
    if cmd.startswith("rm"):
        return '{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "mcp says no"}}'
    return "{}"

@server.resource("docs://guide/intro", name="intro", description="The guide's introduction")
def intro() -> str:
    return "Welcome to the guide."

@server.prompt()
def review(file: str, focus: str) -> str:
    \"\"\"Review a file.\"\"\"
    return f"Review {file}, looking at {focus}."

if len(sys.argv) > 2:
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
else:
    server.run()
"""

ODD_SERVER = """
import os, sys
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

open(sys.argv[1], "a").write(f"{os.getpid()}\\n")
odd = Tool.from_function(lambda: "odd", name="odd", description="A tool whose schema is broken")
odd.parameters = {"type": "object", "properties": {"n": {"type": "nonsense"}}}
fine = Tool.from_function(lambda: "fine", name="fine", description="A tool that is fine")
long = Tool.from_function(lambda: "long", name="l" * 110, description="A tool whose full name is too long")
MCPServer("odd", tools=[odd, fine, long]).run()
"""

SILENT_SERVER = """
import os, sys, time
open(sys.argv[1], "a").write(f"{os.getpid()}\\n")
print("starting up, slowly", file=sys.stderr, flush=True)
time.sleep(600)  # never answers initialize
"""


def mcp_plugin(tmp_path: Path, servers: dict) -> Path:
    """A plugin that is only a `.mcp.json`."""
    return write_tree(tmp_path / "kit", {".mcp.json": json.dumps({"mcpServers": servers})})


def stdio(script: Path, pids: Path) -> dict:
    return {"command": sys.executable, "args": [str(script), str(pids)]}


def session_for(tmp_path, fake, plugin: Path, **settings) -> Session:
    workspace = write_tree(tmp_path / "ws", {"a.txt": "x\n"})
    chosen = Settings(base_url=fake.base_url, **settings)
    return Session(workspace, discover(workspace, chosen, [plugin], include_bundled=False), chosen)


@contextmanager
def http_server_at(argv: list[str], port: int):
    """A server started with `argv` that listens on 127.0.0.1:`port`: its MCP URL, until the block ends."""
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, lambda: server.poll() is None)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.kill()
        server.wait()


def wait_listening(port: int, alive) -> None:
    """Until something listens on 127.0.0.1:`port` (at most 30 s, and while `alive()`)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline and alive(), "the HTTP server never listened"
            time.sleep(0.1)

"""One MCP server's connection, from start to stop, in a task of its own (as the SDK's transports
want: a context entered and left in one task): what it offers once started (tools, prompts,
resources) and why it is not running when it is not. A stdio server is a child in its own session,
run in the workspace, with skillway's credentials removed from its environment and its stderr in a
log file of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from mcp import ClientSession, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from skillway.core.secrets import child_environment, redact
from skillway.mcpclient.headers import server_headers
from skillway.plugins.mcp_config import McpServerSpec

log = logging.getLogger(__name__)

LOG_TAIL = 5  # lines of a server's log shown when it fails
MAX_TOOL_NAME = 128  # the longest tool name the Messages API takes; Claude Code leaves longer ones out
NEEDS_SIGN_IN = ("needs sign-in: the server asks for OAuth authorization, and skillway cannot sign in to it; "
                 'give it a token in "headers" or a "headersHelper"')


@dataclass(frozen=True)
class McpTool:
    name: str  # what the model calls it: mcp__<server>__<tool>
    server: str
    tool: str  # the server's own name for it
    description: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True)
class McpPrompt:
    name: str  # what a person types: /mcp__<server>__<prompt>
    server: str
    prompt: str  # the server's own name for it
    description: str
    arguments: tuple[str, ...]  # in order: the words typed after the name fill them


@dataclass(frozen=True)
class McpResource:
    server: str  # the server's name as declared (what a person types after @)
    uri: str
    name: str
    description: str
    mime_type: str | None


@dataclass
class Connection:
    spec: McpServerSpec
    cwd: Path | None  # where a stdio server runs: its own `cwd`, else the workspace
    log_path: Path
    session: ClientSession | None = None
    tools: list[McpTool] = field(default_factory=list)
    prompts: list[McpPrompt] = field(default_factory=list)
    resources: list[McpResource] = field(default_factory=list)
    error: str | None = None
    needs_sign_in: bool = False
    notes: list[str] = field(default_factory=list)  # what its start found wrong (a tool left out): each holder tells it
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    restarts: int = 0

    def start(self) -> None:
        """Start (or, after it died, start again) the server, in a task of its own."""
        self.error, self.needs_sign_in, self.notes = None, False, []
        self.ready, self.stop = asyncio.Event(), asyncio.Event()
        self.task = asyncio.ensure_future(_serve(self))

    def failed(self, error: str) -> None:
        """It is given up on (it did not start in time): it stops, and says why."""
        self.error = self.error or error
        self.stop.set()

    async def stopped(self) -> None:
        """Stop the server (a stdio server's process with it) and wait for it to be gone."""
        self.stop.set()
        if self.task is None:
            return
        _, pending = await asyncio.wait([self.task], timeout=10)
        for task in pending:
            task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def tail(self) -> str:
        """The last lines of its log, to show with a failure."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL:]
        except OSError:
            return ""
        return ("\n" + redact("\n".join(lines))) if lines else ""


async def _serve(connection: Connection) -> None:
    """The connection from start to stop. (A restart runs another one: this one only ever touches
    its own session and events.)"""
    spec = connection.spec
    ready, stop = connection.ready, connection.stop
    session: ClientSession | None = None
    sign_in = _SignInWatch()
    try:
        headers: dict[str, str] = {}
        if spec.transport != "stdio":
            headers, left_out = await server_headers(spec)
            if left_out:
                connection.notes.append(left_out)
        connection.log_path.parent.mkdir(parents=True, exist_ok=True)
        with connection.log_path.open("a", encoding="utf-8") as errlog:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(_transport(connection, errlog, headers, sign_in))
                session = await stack.enter_async_context(ClientSession(read, write))
                assert session is not None
                await session.initialize()
                connection.tools = await _tools(session, connection)
                connection.prompts = await _prompts(session, spec)
                connection.resources = await _resources(session, spec)
                connection.session = session
                ready.set()
                await stop.wait()
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # a server may fail in any way; the session goes on
        if connection.ready is ready:
            connection.needs_sign_in = sign_in.asked
            connection.error = connection.error or (NEEDS_SIGN_IN if sign_in.asked else reason(exc))
        log.warning("MCP server %s stopped: %s", spec.name, reason(exc))
    finally:
        if session is None or connection.session is session:
            connection.session = None
        ready.set()


def _transport(connection: Connection, errlog, headers: dict[str, str], sign_in: httpx2.Auth):
    spec = connection.spec
    if spec.transport == "stdio":
        assert spec.command is not None  # the config reader requires it
        params = StdioServerParameters(command=spec.command, args=list(spec.args),
                                       env=child_environment(dict(spec.env)), cwd=connection.cwd)
        return stdio_client(params, errlog=errlog)
    if spec.transport == "sse":
        return sse_client(spec.url or "", headers=headers, auth=sign_in)
    return streamable_http_client(spec.url or "", http_client=create_mcp_http_client(headers=headers, auth=sign_in))


class _SignInWatch(httpx2.Auth):
    """Notes whether the server answered 401 with a WWW-Authenticate challenge: it wants an OAuth sign-in."""

    def __init__(self) -> None:
        self.asked = False

    def auth_flow(self, request: httpx2.Request):
        response = yield request
        if response.status_code == 401 and "www-authenticate" in response.headers:
            self.asked = True


async def _tools(session: ClientSession, connection: Connection) -> list[McpTool]:
    """The server's tools the API can take; the others are left out, each with a note saying why."""
    spec, tools = connection.spec, []
    for tool in (await session.list_tools()).tools:
        name = spec.tool_prefix + tool.name
        wrong = (f"its full name is longer than {MAX_TOOL_NAME} characters" if len(name) > MAX_TOOL_NAME
                 else schema_problem(tool.input_schema))
        if wrong:  # the API would refuse every request carrying it
            connection.notes.append(f"MCP server {spec.name}: tool {tool.name} is left out: {wrong}")
            continue
        tools.append(McpTool(name, spec.name, tool.name, tool.description or "", tool.input_schema))
    return tools


async def _prompts(session: ClientSession, spec: McpServerSpec) -> list[McpPrompt]:
    """A server's prompts; a server that has none, or will not list them, has none."""
    try:
        listed = await session.list_prompts()
    except Exception:  # prompts are optional in MCP: a server without them may answer with an error
        return []
    return [McpPrompt(spec.tool_prefix + p.name, spec.name, p.name, p.description or "",
                      tuple(argument.name for argument in p.arguments or ())) for p in listed.prompts]


async def _resources(session: ClientSession, spec: McpServerSpec) -> list[McpResource]:
    """A server's resources; one that has none, or will not list them, has none."""
    try:
        listed = await session.list_resources()
    except Exception:  # resources are optional in MCP too
        return []
    return [McpResource(spec.name, str(r.uri), r.name, r.description or "", r.mime_type) for r in listed.resources]


def schema_problem(schema: object) -> str | None:
    """Why a tool's input schema cannot go to the model (the Messages API wants an object schema), or None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return 'its input schema is not a JSON Schema of "type": "object"'
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"its input schema is not valid JSON Schema: {exc.message}"
    return None


def reason(exc: BaseException) -> str:
    """What an exception group from the transport comes down to, in one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return redact(str(exc)) or type(exc).__name__

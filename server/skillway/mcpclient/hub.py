"""A session's MCP servers: started on first need (all at once, each within a timeout), kept
connected until the session closes them, their tools listed and called by the names the model sees.

Each connection lives in a task of its own, as the SDK's transports want (a context entered and left
in one task); a server that fails to start is reported once, with its log's last lines, and the
others go on. A stdio server is a child in its own session, with skillway's credentials removed from
its environment and its stderr in a log file of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from mcp import ClientSession, MCPError, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.types import CONNECTION_CLOSED

from skillway.core.placeholders import plugin_data_id
from skillway.core.secrets import child_environment, redact
from skillway.mcpclient.headers import server_headers
from skillway.mcpclient.results import ToolOutput, resource_blocks, tool_output
from skillway.plugins.mcp_config import McpServerSpec

log = logging.getLogger(__name__)

# Milliseconds, as Claude Code reads them: how long a server may take to start, and a call to answer.
START_TIMEOUT_VARIABLE, START_TIMEOUT_MS = "MCP_TIMEOUT", 30_000
CALL_TIMEOUT_VARIABLE, CALL_TIMEOUT_MS = "MCP_TOOL_TIMEOUT", 600_000
LOG_TAIL = 5  # lines of a server's log shown when it fails
MAX_RESTARTS = 1  # a server that dies is started again once
MAX_TOOL_NAME = 128  # the longest tool name the Messages API takes; Claude Code leaves longer ones out
NEEDS_SIGN_IN = ("needs sign-in: the server asks for OAuth authorization, and skillway cannot sign in to it; "
                 "give it a token in \"headers\" or a \"headersHelper\"")


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
class _Connection:
    spec: McpServerSpec
    log_path: Path
    session: ClientSession | None = None
    tools: list[McpTool] = field(default_factory=list)
    prompts: list[McpPrompt] = field(default_factory=list)
    resources: list[McpResource] = field(default_factory=list)
    error: str | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    restarts: int = 0
    needs_sign_in: bool = False


class McpHub:
    def __init__(self, servers: list[McpServerSpec], log_dir: Path, *, start_timeout: float | None = None,
                 call_timeout: float | None = None) -> None:
        self.servers = servers
        self.log_dir = log_dir
        self.start_timeout = start_timeout or _seconds(START_TIMEOUT_VARIABLE, START_TIMEOUT_MS)
        self.call_timeout = call_timeout or _seconds(CALL_TIMEOUT_VARIABLE, CALL_TIMEOUT_MS)
        self._connections: dict[str, _Connection] = {}
        self._started: asyncio.Task | None = None
        self.problems: list[str] = []  # what failed, each told once (the front end drains it)

    async def tools(self) -> list[McpTool]:
        """Every tool of every server that started; the servers start on the first call."""
        if not self.servers:
            return []
        if self._started is None:
            self._started = asyncio.ensure_future(self._start_all())
        await asyncio.shield(self._started)
        return [tool for connection in self._connections.values() for tool in connection.tools]

    async def prompts(self) -> list[McpPrompt]:
        """Every prompt of every server that started (the servers start on the first need)."""
        await self.tools()
        return [prompt for connection in self._connections.values() for prompt in connection.prompts]

    async def prompt_text(self, name: str, words: list[str]) -> str:
        """The prompt a person typed as `/name words...`, its arguments filled in order; ValueError
        with the reason when there is none or the server fails."""
        await self.tools()  # the servers start on the first need
        for connection in self._connections.values():
            prompt = next((p for p in connection.prompts if p.name == name), None)
            if prompt is None:
                continue
            if connection.session is None:
                raise ValueError(f"the MCP server {connection.spec.name} is not running: {connection.error}")
            arguments = dict(zip(prompt.arguments, [*words[:len(prompt.arguments) - 1],
                                                    " ".join(words[len(prompt.arguments) - 1:])] if words else []))
            try:
                result = await asyncio.wait_for(connection.session.get_prompt(prompt.prompt, arguments), self.call_timeout)
            except Exception as exc:  # an error answer, a dead server, a timeout: the prompt is not sent
                raise ValueError(f"the MCP server {connection.spec.name} could not give the prompt: {_reason(exc)}") from None
            return "\n\n".join(text for message in getattr(result, "messages", [])
                               if (text := getattr(message.content, "text", None)))
        raise ValueError(f'no MCP prompt named "{name}"')

    async def resources(self) -> list[McpResource]:
        """Every resource the running servers list (the servers start on the first need)."""
        await self.tools()
        return [resource for c in self._connections.values() if c.session is not None for resource in c.resources]

    async def read_resource(self, server: str, uri: str) -> list[dict[str, Any]]:
        """A listed resource's contents as the content blocks a prompt mentioning it carries;
        ValueError saying why there are none."""
        await self.tools()
        connection = next((c for c in self._connections.values() if server in (c.spec.name, c.spec.registered_name)
                           and c.session is not None), None)
        if connection is None or connection.session is None:
            raise ValueError(f"no MCP server named {server} is running")
        if not any(resource.uri == uri for resource in connection.resources):
            raise ValueError(f"the MCP server {server} lists no resource {uri}")
        try:
            result = await asyncio.wait_for(connection.session.read_resource(uri), self.call_timeout)
        except Exception as exc:  # an error answer, a dead server, a timeout: nothing is attached
            raise ValueError(f"the MCP server {server} could not give {uri}: {_reason(exc)}") from None
        return resource_blocks(server, uri, result)

    async def call_for_hook(self, server: str, tool: str, arguments: dict, timeout: float) -> tuple[str | None, str]:
        """An mcp_tool hook's call: `server` as Claude Code registers it (`plugin:<plugin>:<name>` for
        a plugin's); (the result's text, or None and why the call gave no usable answer)."""
        await self.tools()
        connection = next((c for c in self._connections.values() if c.spec.registered_name == server), None)
        if connection is None or connection.session is None:
            return None, f"MCP server '{server}' not connected"
        try:
            result = await asyncio.wait_for(connection.session.call_tool(tool, arguments), timeout)
        except TimeoutError:
            return None, f"the MCP server did not answer within {timeout:g} s"
        except Exception as exc:  # an error answer or a dead server: no usable answer either way
            return None, f"the call to the MCP server failed: {_reason(exc)}"
        if getattr(result, "is_error", False):
            return None, "the MCP tool returned an error"
        output = tool_output(result)
        return (output.content if isinstance(output.content, str) else ""), ""

    async def call(self, name: str, arguments: dict) -> ToolOutput:
        """Call the tool the model knows as `name`; a failure is an error result, never an exception."""
        for connection in self._connections.values():
            tool = next((t for t in connection.tools if t.name == name), None)
            if tool is None:
                continue
            if connection.session is None and connection.restarts < MAX_RESTARTS and connection.tools:
                await self._restart(connection)  # it ran, then died: it gets one more start
            if connection.session is None:
                return ToolOutput(f"the MCP server {connection.spec.name} is not running: {connection.error}", True)
            try:
                result = await asyncio.wait_for(connection.session.call_tool(tool.tool, arguments), self.call_timeout)
            except TimeoutError:
                return ToolOutput(f"the MCP server {connection.spec.name} did not answer within {self.call_timeout:g} s", True)
            except MCPError as exc:
                if exc.code != CONNECTION_CLOSED:  # the server answered with an error: it is still there
                    return ToolOutput(f"the MCP server {connection.spec.name} refused the call: {redact(str(exc))}", True)
                return self._gone(connection, exc)
            except Exception as exc:  # the transport's: the server is gone
                return self._gone(connection, exc)
            return tool_output(result)
        return ToolOutput(f"no MCP tool named {name}", True)

    def _gone(self, connection: _Connection, exc: BaseException) -> ToolOutput:
        """The server died during a call: the call fails, and the next one starts it again."""
        connection.session, connection.error = None, _reason(exc)
        connection.stop.set()
        return ToolOutput(f"the MCP server {connection.spec.name} failed: {connection.error}{self._tail(connection)}", True)

    async def _restart(self, connection: _Connection) -> None:
        connection.restarts += 1
        connection.error = None
        connection.ready, connection.stop = asyncio.Event(), asyncio.Event()
        connection.task = asyncio.ensure_future(self._serve(connection))
        try:
            await asyncio.wait_for(connection.ready.wait(), self.start_timeout)
        except TimeoutError:
            connection.error = f"did not start again within {self.start_timeout:g} s"
            connection.stop.set()

    def status(self) -> list[dict[str, Any]]:
        """Each server as `skillway mcp list` shows it (after `tools()` has started them)."""
        return [{"name": c.spec.name, "plugin": c.spec.plugin, "transport": c.spec.transport,
                 "status": "connected" if c.session is not None else "needs sign-in" if c.needs_sign_in else "failed",
                 "tools": len(c.tools),
                 "tool_names": [tool.name for tool in c.tools],
                 "error": c.error, "log": str(c.log_path), "origin": str(c.spec.origin) if c.spec.origin else None}
                for c in self._connections.values()]

    async def close(self) -> None:
        """Stop every server (a stdio server's process with it) and wait for them to be gone."""
        if self._started is not None and not self._started.done():
            self._started.cancel()
        for connection in self._connections.values():
            connection.stop.set()
        tasks = [c.task for c in self._connections.values() if c.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _start_all(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.servers:
            key = spec.tool_prefix
            connection = _Connection(spec, self.log_dir / f"{plugin_data_id(key.strip('_'))}.log")
            self._connections[key] = connection
            connection.task = asyncio.ensure_future(self._serve(connection))
        waits = [asyncio.wait_for(c.ready.wait(), self.start_timeout) for c in self._connections.values()]
        for connection, done in zip(list(self._connections.values()),
                                    await asyncio.gather(*waits, return_exceptions=True), strict=True):
            if isinstance(done, BaseException) and connection.error is None:
                connection.error = f"did not start within {self.start_timeout:g} s"
                connection.stop.set()
            if connection.error:
                self.problems.append(f"MCP server {connection.spec.name} ({connection.spec.origin}): "
                                     f"{connection.error}{self._tail(connection)}")

    async def _serve(self, connection: _Connection) -> None:
        """One server's connection, from start to stop, in this task. (A restart runs another one: this
        one only ever touches its own session and events.)"""
        spec = connection.spec
        ready, stop = connection.ready, connection.stop
        session: ClientSession | None = None
        sign_in = _SignInWatch()
        try:
            headers: dict[str, str] = {}
            if spec.transport != "stdio":
                headers, left_out = await server_headers(spec)
                if left_out:
                    self.problems.append(left_out)
            with connection.log_path.open("a", encoding="utf-8") as errlog:
                async with contextlib.AsyncExitStack() as stack:
                    read, write = await stack.enter_async_context(self._transport(spec, errlog, headers, sign_in))
                    session = await stack.enter_async_context(ClientSession(read, write))
                    assert session is not None
                    await session.initialize()
                    listed = await session.list_tools()
                    connection.tools = []
                    for tool in listed.tools:
                        name = spec.tool_prefix + tool.name
                        wrong = (f"its full name is longer than {MAX_TOOL_NAME} characters" if len(name) > MAX_TOOL_NAME
                                 else schema_problem(tool.input_schema))
                        if wrong:  # the API would refuse every request carrying it: it is left out
                            self.problems.append(f"MCP server {spec.name}: tool {tool.name} is left out: {wrong}")
                            continue
                        connection.tools.append(McpTool(name, spec.name, tool.name,
                                                        tool.description or "", tool.input_schema))
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
                connection.error = connection.error or (NEEDS_SIGN_IN if sign_in.asked else _reason(exc))
            log.warning("MCP server %s stopped: %s", spec.name, _reason(exc))
        finally:
            if session is None or connection.session is session:
                connection.session = None
            ready.set()

    @staticmethod
    def _transport(spec: McpServerSpec, errlog, headers: dict[str, str], sign_in: httpx2.Auth):
        if spec.transport == "stdio":
            assert spec.command is not None  # the config reader requires it
            params = StdioServerParameters(command=spec.command, args=list(spec.args),
                                           env=child_environment(dict(spec.env)), cwd=spec.cwd)
            return stdio_client(params, errlog=errlog)
        if spec.transport == "sse":
            return sse_client(spec.url or "", headers=headers, auth=sign_in)
        return streamable_http_client(spec.url or "", http_client=create_mcp_http_client(headers=headers, auth=sign_in))

    @staticmethod
    def _tail(connection: _Connection) -> str:
        try:
            lines = connection.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL:]
        except OSError:
            return ""
        return ("\n" + redact("\n".join(lines))) if lines else ""


class _SignInWatch(httpx2.Auth):
    """Notes whether the server answered 401 with a WWW-Authenticate challenge: it wants an OAuth sign-in."""

    def __init__(self) -> None:
        self.asked = False

    def auth_flow(self, request: httpx2.Request):
        response = yield request
        if response.status_code == 401 and "www-authenticate" in response.headers:
            self.asked = True


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


def _seconds(variable: str, default_ms: int) -> float:
    """A timeout the environment may set in milliseconds; a value that is not a number keeps the default."""
    try:
        return max(0.001, float(os.environ.get(variable, default_ms))) / 1000
    except ValueError:
        log.warning("%s=%r is not a number of milliseconds; using %d", variable, os.environ[variable], default_ms)
        return default_ms / 1000


def schema_problem(schema: object) -> str | None:
    """Why a tool's input schema cannot go to the model (the Messages API wants an object schema), or None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return 'its input schema is not a JSON Schema of "type": "object"'
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"its input schema is not valid JSON Schema: {exc.message}"
    return None


def _reason(exc: BaseException) -> str:
    """What an exception group from the transport comes down to, in one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return redact(str(exc)) or type(exc).__name__

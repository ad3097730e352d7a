"""A session's MCP servers: started on first need (all at once, each within a timeout), held until
the session closes them, their tools listed and called by the names the model sees. The connections
come from a pool: the session's own, or the language server's, shared by its sessions and kept warm.
A server that fails to start is told once, with its log's last lines, and the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from mcp import MCPError
from mcp.types import CONNECTION_CLOSED

from skillway.core.secrets import redact
from skillway.mcpclient.connection import Connection, McpPrompt, McpResource, McpTool
from skillway.mcpclient.connection import reason as _reason
from skillway.mcpclient.pool import McpPool
from skillway.mcpclient.results import ToolOutput, resource_blocks, tool_output
from skillway.plugins.mcp_config import McpServerSpec

__all__ = ["McpHub", "McpPrompt", "McpResource", "McpTool"]

log = logging.getLogger(__name__)

# Milliseconds, as Claude Code reads them: how long a server may take to start, and a call to answer.
START_TIMEOUT_VARIABLE, START_TIMEOUT_MS = "MCP_TIMEOUT", 30_000
CALL_TIMEOUT_VARIABLE, CALL_TIMEOUT_MS = "MCP_TOOL_TIMEOUT", 600_000
MAX_RESTARTS = 1  # a server that dies is started again once


class McpHub:
    def __init__(self, servers: list[McpServerSpec], pool: McpPool, *, cwd: Path | None = None, owns_pool: bool = False,
                 start_timeout: float | None = None, call_timeout: float | None = None) -> None:
        self.servers = servers
        self.pool = pool
        self.owns_pool = owns_pool  # the session's own pool goes with it; a shared one outlives it
        self.cwd = cwd  # where stdio servers without a `cwd` of their own run: the workspace
        self.start_timeout = start_timeout or _seconds(START_TIMEOUT_VARIABLE, START_TIMEOUT_MS)
        self.call_timeout = call_timeout or _seconds(CALL_TIMEOUT_VARIABLE, CALL_TIMEOUT_MS)
        self._connections: dict[str, Connection] = {}
        self._started: asyncio.Task | None = None
        self.problems: list[str] = []  # what failed, each told once (the front end drains it)

    async def tools(self) -> list[McpTool]:
        """Every tool of every server that started; the servers start on the first call."""
        if not self.servers:
            return []
        self.warm()
        assert self._started is not None
        await asyncio.shield(self._started)
        return [tool for connection in self._connections.values() for tool in connection.tools]

    def warm(self) -> None:
        """Start the servers now, in the background, if nothing has yet (a person is about to need them)."""
        if self.servers and self._started is None:
            self._started = asyncio.ensure_future(self._start_all())

    def running_prompts(self) -> list[McpPrompt]:
        """The prompts of the servers running now, without waiting for any (for completion as one types)."""
        return [prompt for c in self._connections.values() if c.session is not None for prompt in c.prompts]

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

    def _gone(self, connection: Connection, exc: BaseException) -> ToolOutput:
        """The server died during a call: the call fails, and the next one starts it again."""
        connection.session, connection.error = None, _reason(exc)
        connection.stop.set()
        return ToolOutput(f"the MCP server {connection.spec.name} failed: {connection.error}{connection.tail()}", True)

    async def _restart(self, connection: Connection) -> None:
        connection.restarts += 1
        connection.start()
        try:
            await asyncio.wait_for(connection.ready.wait(), self.start_timeout)
        except TimeoutError:
            connection.failed(f"did not start again within {self.start_timeout:g} s")

    def status(self) -> list[dict[str, Any]]:
        """Each server as `skillway mcp list` shows it (after `tools()` has started them)."""
        return [{"name": c.spec.name, "plugin": c.spec.plugin, "transport": c.spec.transport,
                 "status": "connected" if c.session is not None else "needs sign-in" if c.needs_sign_in else "failed",
                 "tools": len(c.tools),
                 "tool_names": [tool.name for tool in c.tools],
                 "error": c.error, "log": str(c.log_path), "origin": str(c.spec.origin) if c.spec.origin else None}
                for c in self._connections.values()]

    async def close(self) -> None:
        """Let go of every server: they stop (a stdio server's process with it) once no session holds
        them, and are gone when this returns unless a shared pool keeps them warm."""
        if self._started is not None and not self._started.done():
            self._started.cancel()
            await asyncio.gather(self._started, return_exceptions=True)
        held, self._connections = list(self._connections.values()), {}
        await asyncio.gather(*(self.pool.release(connection) for connection in held), return_exceptions=True)
        if self.owns_pool:
            await self.pool.close()

    async def _start_all(self) -> None:
        for spec in self.servers:
            cwd = spec.cwd or (self.cwd if spec.transport == "stdio" else None)
            self._connections[spec.tool_prefix] = self.pool.acquire(spec, cwd)
        waits = [asyncio.wait_for(c.ready.wait(), self.start_timeout) for c in self._connections.values()]
        for connection, done in zip(list(self._connections.values()),
                                    await asyncio.gather(*waits, return_exceptions=True), strict=True):
            if isinstance(done, BaseException):
                connection.failed(f"did not start within {self.start_timeout:g} s")
            self.problems += connection.notes
            if connection.error:
                self.problems.append(f"MCP server {connection.spec.name} ({connection.spec.origin}): "
                                     f"{connection.error}{connection.tail()}")


def _seconds(variable: str, default_ms: int) -> float:
    """A timeout the environment may set in milliseconds; a value that is not a number keeps the default."""
    try:
        return max(0.001, float(os.environ.get(variable, default_ms))) / 1000
    except ValueError:
        log.warning("%s=%r is not a number of milliseconds; using %d", variable, os.environ[variable], default_ms)
        return default_ms / 1000

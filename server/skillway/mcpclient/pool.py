"""MCP server connections shared by the sessions that hold them. Two sessions share a server only
when everything that makes it what it is agrees (its declaration, where it runs, who declared it);
one nobody holds any more stops, at once or, in a pool that keeps servers warm (the language
server's), after `linger` seconds. Nothing here imports the SDK: a pool costs nothing until a
session starts a server."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from skillway.core.placeholders import plugin_data_id
from skillway.plugins.mcp_config import McpServerSpec

if TYPE_CHECKING:
    from skillway.mcpclient.connection import Connection

IDLE_SECONDS = 300.0  # how long the language server keeps a server nobody holds


def server_key(spec: McpServerSpec, cwd: Path | None) -> str:
    """Everything that makes a running server what it is, as one string."""
    return json.dumps([spec.name, spec.plugin, spec.transport, spec.command, list(spec.args), sorted(spec.env.items()),
                       str(cwd) if cwd else None, spec.url, sorted(spec.headers.items()), spec.headers_helper,
                       str(spec.helper_cwd) if spec.helper_cwd else None])


class McpPool:
    def __init__(self, log_dir: Path, *, linger: float = 0.0) -> None:
        self.log_dir = log_dir
        self.linger = linger
        self._connections: dict[str, Connection] = {}
        self._holders: dict[str, int] = {}
        self._idle: dict[str, asyncio.TimerHandle] = {}
        self.started = 0  # servers this pool has started (not counting restarts): what sharing saves shows here

    def acquire(self, spec: McpServerSpec, cwd: Path | None) -> Connection:
        """The running connection for `spec` run in `cwd`, started now when there is none."""
        from skillway.mcpclient.connection import Connection  # the SDK loads with the first server

        key = server_key(spec, cwd)
        idle = self._idle.pop(key, None)
        if idle is not None:
            idle.cancel()
        connection = self._connections.get(key)
        if connection is None or (connection.task is not None and connection.task.done() and connection.session is None):
            # None yet, or one that failed or died: a new holder gets a fresh start.
            name = hashlib.sha256(key.encode()).hexdigest()[:8]
            connection = Connection(spec, cwd, self.log_dir / f"{plugin_data_id(spec.tool_prefix.strip('_'))}-{name}.log")
            connection.start()
            self._connections[key] = connection
            self._holders[key] = 0  # the holders of one that died let go of it, not of this one
            self.started += 1
        self._holders[key] = self._holders.get(key, 0) + 1
        return connection

    async def release(self, connection: Connection) -> None:
        """A holder is done with `connection`: stopped once nobody holds it (after `linger`)."""
        key = server_key(connection.spec, connection.cwd)
        if self._connections.get(key) is not connection:
            await connection.stopped()  # replaced by a fresh start meanwhile: nobody else holds this one
            return
        self._holders[key] -= 1
        if self._holders[key] > 0:
            return
        if self.linger <= 0 or connection.session is None:
            await self._stop(key)
        else:
            self._idle[key] = asyncio.get_running_loop().call_later(
                self.linger, lambda: asyncio.ensure_future(self._stop(key)))

    async def _stop(self, key: str) -> None:
        self._idle.pop(key, None)
        if self._holders.get(key, 0) > 0:
            return  # taken up again meanwhile
        self._holders.pop(key, None)
        connection = self._connections.pop(key, None)
        if connection is not None:
            await connection.stopped()

    async def close(self) -> None:
        """Stop every server, held or not, and wait for them to be gone."""
        for handle in self._idle.values():
            handle.cancel()
        self._idle.clear()
        connections = list(self._connections.values())
        self._connections.clear()
        self._holders.clear()
        await asyncio.gather(*(c.stopped() for c in connections), return_exceptions=True)

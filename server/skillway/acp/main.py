"""`skillway acp`: the agent over stdio. Lines from the client pass a gate before the SDK reads them:
one that is not a JSON-RPC message is answered with a JSON-RPC error (the SDK would only log it, and
a JSON value that is not an object would stop its reading), and the agent keeps running."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, cast

from acp.agent.connection import AgentSideConnection
from acp.interfaces import Agent
from acp.stdio import stdio_streams

from skillway.acp.agent import SkillwayAgent

log = logging.getLogger(__name__)
LINE_LIMIT = 64 * 2**20  # bytes of one message (a prompt with embedded files can be large)
PARSE_ERROR, INVALID_REQUEST = -32700, -32600


def run(plugin_dirs: list[Path]) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="skillway acp: %(message)s")
    asyncio.run(serve(plugin_dirs))
    return 0


async def serve(plugin_dirs: list[Path]) -> None:
    reader, writer = await stdio_streams(limit=LINE_LIMIT)
    checked = asyncio.StreamReader(limit=LINE_LIMIT)
    agent = SkillwayAgent(plugin_dirs)
    gate = asyncio.create_task(_pass_messages(reader, checked, writer))
    connection = AgentSideConnection(cast(Agent, agent), writer, checked, listening=False)
    try:
        await connection.listen()
    finally:
        gate.cancel()
        await agent.close()
        await asyncio.shield(connection.close())


async def _pass_messages(source: asyncio.StreamReader, checked: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy each line that is a JSON-RPC message to `checked`; answer the others."""
    try:
        while True:
            try:
                line = await source.readuntil(b"\n")
            except asyncio.IncompleteReadError as cut:  # the end; a last line without its newline is still read
                if not cut.partial:
                    return
                line = cut.partial + b"\n"
            except asyncio.LimitOverrunError:
                await _skip_line(source)
                line = b""
                error: dict[str, Any] | None = _error(None, INVALID_REQUEST, "Invalid Request",
                                                      f"a message is at most {LINE_LIMIT} bytes")
            else:
                error = rejection(line)
            if line and error is None:
                checked.feed_data(line)
            elif error is not None:
                writer.write((json.dumps(error) + "\n").encode())
                await writer.drain()
    finally:
        checked.feed_eof()


async def _skip_line(source: asyncio.StreamReader) -> None:
    """Read past a line over the limit."""
    while True:
        try:
            await source.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as more:
            await source.readexactly(more.consumed)
        except asyncio.IncompleteReadError:
            return


def rejection(line: bytes) -> dict[str, Any] | None:
    """The JSON-RPC error answering `line`, or None when it is a message for the SDK (a blank line
    is passed on; the SDK skips it)."""
    if not line.strip():
        return None
    try:
        message = json.loads(line)
    except ValueError as exc:
        return _error(None, PARSE_ERROR, "Parse error", f"not JSON: {exc}")
    if not isinstance(message, dict):
        return _error(None, INVALID_REQUEST, "Invalid Request", "a message is a JSON object (batches are not used in ACP)")
    request_id = message.get("id")
    if request_id is not None and not isinstance(request_id, (str, int)):
        return _error(None, INVALID_REQUEST, "Invalid Request", "an id is a string or a number")
    if "method" in message and not isinstance(message["method"], str):
        return _error(request_id, INVALID_REQUEST, "Invalid Request", "a method is a string")
    if "method" not in message and request_id is None:
        return _error(None, INVALID_REQUEST, "Invalid Request", "neither a request, a notification nor a response")
    if "params" in message and not isinstance(message["params"], (dict, list, type(None))):
        return _error(request_id, INVALID_REQUEST, "Invalid Request", "params are an object")
    return None


def _error(request_id: object, code: int, message: str, details: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message, "data": {"details": details}}}

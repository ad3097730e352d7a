"""The skillway language server object and how it is started.

Nothing slow happens before the `initialize` answer: no plugin loading, no SDK import. On
`initialized` each workspace folder gets its Session (plugins, trust, SessionStart hooks) in the
background and the SDK is warmed in a thread.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import sys
import threading
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
)
from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from skillway import __version__
from skillway.lsp.diagnostics import Diagnostics

if TYPE_CHECKING:  # for annotations only: sessions imports this module
    from skillway.lsp.sessions import Sessions

log = logging.getLogger(__name__)


class SkillwayProtocol(LanguageServerProtocol):
    """Repairs to pygls: a request whose params cannot be read is answered InvalidParams instead of
    being left unanswered; a message that is not JSON-RPC (no `"jsonrpc": "2.0"`, an id that is not
    an integer or a string, a batch) is answered InvalidRequest instead of a traceback or nothing;
    a body that is not JSON is answered ParseError; no error answer carries a traceback; and
    `$/cancelRequest` reaches a running command (pygls runs commands in a task of their own that a
    cancel does not touch)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.running_commands: dict = {}  # request id -> the task running that command

    def _handle_cancel_notification(self, msg_id) -> None:
        task = self.running_commands.pop(msg_id, None)
        if task is not None:
            task.cancel()
        super()._handle_cancel_notification(msg_id)

    # --- reading messages ----------------------------------------------------------------------
    # pygls's readers call json.loads(body, object_hook=structure_message), then handle_message. Here
    # structure_message leaves the JSON as it is, and handle_message checks the whole message before
    # it is structured: one path for skillway's frame reader (stdio, TCP) and pygls's WebSocket one.

    def structure_message(self, data):
        return data

    def receive(self, body: bytes) -> None:
        """One frame's body, as the frame reader found it."""
        try:
            data = json.loads(body)
        except ValueError as exc:  # not JSON, or not UTF-8
            self.unreadable(exc)
            return
        self.handle_message(data)

    def unreadable(self, error: Exception) -> None:
        log.warning("answered ParseError to a message that is not JSON: %s", error)
        self.refuse(None, JsonRpcParseError(f"the message is not JSON: {error}"))

    def handle_message(self, message) -> None:
        if hasattr(message, "jsonrpc"):  # structured already
            super().handle_message(message)
            return
        if isinstance(message, list):
            self._refuse_batch(message)
            return
        problem = _not_a_message(message)
        if problem is not None:
            if _is_response(message):  # an answer is never answered: the client would take it for ours
                log.warning("dropped a response that is not JSON-RPC: %s", problem)
            else:
                log.warning("answered InvalidRequest: %s", problem)
                self.refuse(_recoverable_id(message), JsonRpcInvalidRequest(problem))
            return
        try:
            structured = super().structure_message(message)
        except JsonRpcException as exc:
            if "id" in message and "method" in message:
                error = JsonRpcInvalidParams() if isinstance(exc, JsonRpcInvalidParams) else exc
                log.warning("refused %s: its params cannot be read", message["method"])
                self.refuse(message["id"], error)
            else:
                log.warning("dropped a message that cannot be read: %s", exc)
            return
        super().handle_message(structured)

    def _refuse_batch(self, batch: list) -> None:
        """LSP has no batches: each request of one is refused (one refusal when none has an id)."""
        log.warning("answered InvalidRequest to a batch of %d messages", len(batch))
        ids = [item["id"] for item in batch if isinstance(item, dict) and "method" in item and _is_id(item.get("id"))]
        for msg_id in ids or [None]:
            self.refuse(msg_id, JsonRpcInvalidRequest("batches are not supported: send one message per frame"))

    def refuse(self, msg_id, error: JsonRpcException) -> None:
        """An error answer; `msg_id` None when no id can be recovered (sent as `"id": null`, which
        lsprotocol's ResponseErrorMessage would leave out)."""
        if msg_id is not None:
            self._send_response(msg_id, error=lsp.ResponseError(code=error.code, message=error.message))
        else:
            self._send_data({"jsonrpc": "2.0", "id": None, "error": {"code": error.code, "message": error.message}})

    def _send_response(self, msg_id, result=None, error=None) -> None:
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            data = {key: value for key, value in error.data.items() if key != "traceback"}  # it is in the log
            error = lsp.ResponseError(code=error.code, message=error.message, data=data or None)
        super()._send_response(msg_id, result, error)


def _is_id(value) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _is_response(message) -> bool:
    return isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message)


def _recoverable_id(message):
    return message.get("id") if isinstance(message, dict) and _is_id(message.get("id")) else None


def _not_a_message(message) -> str | None:
    """Why `message` (JSON values) is not a JSON-RPC 2.0 message, or None when it is one."""
    if not isinstance(message, dict):
        return f"a message is a JSON object, not {type(message).__name__}"
    if message.get("jsonrpc") != "2.0":
        return 'a message carries "jsonrpc": "2.0"'
    if "id" in message and not _is_id(message["id"]):
        return "a message id is an integer or a string"
    if "method" in message and not isinstance(message["method"], str):
        return "a method name is a string"
    if "method" not in message and not ("id" in message and ("result" in message or "error" in message)):
        return "a message is a request, a notification or a response"
    return None


# --- reading frames ---------------------------------------------------------------------------------
# pygls's reader (pygls.io_.run_async) goes deaf after one bad frame: a header it does not recognise
# leaves the body to be read as the next header line, and every later frame with it; a huge
# Content-Length kills it. This one reads the same headers, drops what is not a frame, and finds the
# next `Content-Length` header even when garbage comes before it on its line.

_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_HEADER = re.compile(rb"[A-Za-z0-9-]+[ \t]*:")
MAX_FRAME_BYTES = 256 * 1024 * 1024  # a longer Content-Length is taken for a garbled header
_CHUNK_BYTES = 1024 * 1024  # a body is read in pieces: a lying Content-Length allocates nothing


def _frame_length(value: bytes) -> int | None:
    value = value.strip()
    if not value.isdigit() or len(value) > 12 or int(value) > MAX_FRAME_BYTES:
        return None
    return int(value)


async def _read_body(reader, length: int) -> bytes | None:
    """`length` bytes, or None at the end of the input."""
    parts, missing = [], length
    while missing:
        try:
            part = await reader.readexactly(min(missing, _CHUNK_BYTES))
        except asyncio.IncompleteReadError:
            return None
        if not part:
            return None
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


async def read_frames(stop_event: threading.Event, reader, protocol: SkillwayProtocol) -> None:
    """Hand each frame's body to `protocol.receive` until the input ends; never stops for bad input."""
    length: int | None = None  # the Content-Length of the frame whose headers are being read
    problem: str | None = None  # what is wrong with those headers, if anything
    while not stop_event.is_set():
        try:
            line = await reader.readline()
        except ValueError:  # asyncio's StreamReader: a line over its limit, which it has dropped
            problem = "a header line too long to read"
            continue
        if not line:
            break
        if not line.strip():  # the blank line after the headers
            if length is not None:
                body = await _read_body(reader, length)
                if body is None:
                    break
                try:
                    protocol.receive(body)
                except Exception:  # one message must not stop the reader
                    log.exception("a message could not be handled")
            elif problem is not None:
                log.warning("dropped a frame: %s", problem)
            length, problem = None, None
            continue
        match = _CONTENT_LENGTH.search(line)
        if match is None:  # Content-Type, another header, or garbage: only Content-Length matters
            if length is None:
                problem = "no Content-Length header" if _HEADER.match(line) else f"{_shown(line)} is not a header"
            continue
        if match.start():
            log.warning("skipped %s before a Content-Length header", _shown(line[: match.start()]))
        length = _frame_length(match.group(1))
        problem = None if length is not None else f"Content-Length {_shown(match.group(1).strip())} is not a length"
    log.info("the input has ended")


def _shown(data: bytes) -> str:
    return repr(data[:60]) + (f" (and {len(data) - 60} bytes more)" if len(data) > 60 else "")


def cancellable(handler):
    """Let `$/cancelRequest` of a workspace/executeCommand request cancel the command's task."""

    @functools.wraps(handler)
    async def run(ls, *arguments):
        msg_id = ls.protocol._ctx_msg_id.get(None)
        if msg_id is not None:
            ls.protocol.running_commands[msg_id] = asyncio.current_task()
        try:
            return await handler(ls, *arguments)
        finally:
            ls.protocol.running_commands.pop(msg_id, None)

    return run


class SkillwayServer(LanguageServer):
    protocol: SkillwayProtocol  # the protocol_cls given below

    def __init__(self) -> None:
        super().__init__("skillway", __version__, protocol_cls=SkillwayProtocol)
        self.initialization_options: dict = {}
        self.sessions: Sessions | None = None  # made on `initialized`
        self.shown_errors: set[str] = set()
        self.plugin_dirs: list = []  # --plugin-dir folders, loaded into every session
        self.diagnostics = Diagnostics()  # every publishDiagnostics goes through it

    # --- telling the user, once ----------------------------------------------------------------

    def tell(self, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=f"skillway: {message}"))

    def tell_once(self, key: str, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        """Errors that repeat on every keystroke (no key, rate limit, quota) are shown once, until
        a call succeeds again."""
        if key not in self.shown_errors:
            self.shown_errors.add(key)
            self.tell(message, kind)

    def model_error(self, error) -> None:
        """A model call of background work (inline completion) failed: tell once, until one succeeds."""
        self.tell_once(error.kind.value, error.message, _message_type(error))

    def action_failed(self, error) -> None:
        """A model call the user asked for (a code action, a command, Send, /ship) failed: tell every time."""
        self.tell(error.message, _message_type(error))

    def model_ok(self) -> None:
        self.shown_errors.clear()

    @property
    def supports_inline_completion(self) -> bool:
        document = self.client_capabilities.text_document if self.client_capabilities else None
        return bool(document and getattr(document, "inline_completion", None))

    # --- transports: pygls's, with skillway's frame reader (read_frames) --------------------------

    def start_io(self, stdin=None, stdout=None) -> None:
        self._stop_event = threading.Event()
        reader = StdinAsyncReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(read_frames(self._stop_event, reader, self.protocol))
        except BrokenPipeError:
            log.error("the connection to the client is lost: shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = stop_event = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await read_frames(stop_event, reader, self.protocol)
            self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except asyncio.CancelledError:
            log.debug("the TCP server was cancelled")

    def report_server_error(self, error: Exception, source) -> None:
        if source is JsonRpcException and isinstance(error, ValueError):  # pygls's WebSocket reader: not JSON
            self.protocol.unreadable(error)
            return
        super().report_server_error(error, source)


def _message_type(error) -> lsp.MessageType:
    serious = error.kind.value in ("no_credentials", "authentication", "billing")
    return lsp.MessageType.Error if serious else lsp.MessageType.Warning

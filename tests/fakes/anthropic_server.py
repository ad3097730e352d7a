"""A real HTTP server on 127.0.0.1 that speaks enough of the Anthropic Messages API for the official SDK.

Standard library only. The server runs in a background daemon thread (``ThreadingHTTPServer``; one
thread per connection), so it does not depend on the test's asyncio loop and concurrent requests
really overlap.

Typical use::

    with FakeAnthropic() as fake:
        fake.enqueue(
            StatusError(429, "rate_limit_error", headers={"retry-after": "1"}),
            Reply([Text("Hello there"), ToolUse("read_file", {"path": "a.py"})]),
        )
        client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test-key")
        ...
        assert fake.requests[0].body["model"] == "..."

Each ``POST /v1/messages`` consumes the next queued item (a ``Reply``, a ``StatusError`` or a callable
``(RecordedRequest) -> Reply | StatusError``); when the queue is empty the default reply is used
(``Reply([Text("ok")])`` unless another was given). Requests refused before that point (401, 400, 404)
and ``/v1/messages/count_tokens`` do not consume queue items. SDK retries are new HTTP requests, so each
retry consumes the next item.

By hand (demos, benchmarks)::

    python -m tests.fakes.anthropic_server --port 8765 --token-delay 0.02 --reply "Hello from the fake"
"""

from __future__ import annotations

import argparse
import json
import math
import re
import secrets
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FakeAnthropic",
    "RawReply",
    "RecordedRequest",
    "Reply",
    "StatusError",
    "Text",
    "ToolUse",
    "estimate_input_tokens",
    "main",
]

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"

# Error type -> HTTP status, used when an error has to be turned into a status code (non-streaming
# replies with ``error_after``).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_STOCK_MESSAGES = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out.",
    "overloaded_error": "Overloaded",
}

_REASON_PHRASES = {529: "Overloaded", 413: "Request Entity Too Large"}

_TOKEN_RE = re.compile(r"\S+\s*|\s+")


# --------------------------------------------------------------------------------------------------
# Script items
# --------------------------------------------------------------------------------------------------


@dataclass
class Text:
    """A text content block; streamed as one ``text_delta`` per word (spaces kept with the word)."""

    text: str

    def tokens(self) -> list[str]:
        return _TOKEN_RE.findall(self.text)


@dataclass
class ToolUse:
    """A ``tool_use`` content block; its input is streamed as several ``input_json_delta`` pieces."""

    name: str
    input: dict
    id: str | None = None

    def tokens(self) -> list[str]:
        return split_json(json.dumps(self.input, separators=(",", ":")))


Block = Text | ToolUse


@dataclass
class Reply:
    """One successful answer.

    ``error_after`` / ``disconnect_after`` count ``content_block_delta`` events already sent; when the
    count is at least the number of deltas, the error / disconnect comes after the last content block
    (before ``message_delta``). For a non-streaming request, ``error_after`` turns into an HTTP error
    status for ``error_type`` (529 for ``overloaded_error``) and ``disconnect_after`` closes the
    socket without any response; ``token_delay`` is then slept once per delta before answering.
    """

    content: list[Block] = field(default_factory=lambda: [Text("ok")])
    stop_reason: str | None = None
    token_delay: float = 0.0
    headers: dict = field(default_factory=dict)
    usage: dict | None = None
    error_after: int | None = None
    error_type: str = "overloaded_error"
    disconnect_after: int | None = None
    # Streaming only: after this many deltas the stream ends cleanly (the chunked body is closed
    # properly) but without message_delta and message_stop: a cut-off answer that looks finished.
    end_cleanly_after: int | None = None
    model: str | None = None

    def resolved_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.content) else "end_turn"

    def delta_count(self) -> int:
        return sum(len(b.tokens()) for b in self.content)


@dataclass
class StatusError:
    """An HTTP error response with the real error body. ``message=""`` means a stock message.

    A server error (5xx) says `retry-after-ms: 1` unless ``headers`` say when to retry: the SDK then
    retries at once instead of after its own backoff (half a second, then a second, ...), so tests wait
    only for what they script. A 429 says only what it is given: its headers are what it means."""

    status: int
    error_type: str
    message: str = ""
    headers: dict = field(default_factory=dict)


@dataclass
class RawReply:
    """A response with exactly this status, content type and body (a truncated or non-JSON body),
    whatever the request asked for."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


ScriptItem = Reply | StatusError | RawReply | Callable[["RecordedRequest"], Reply | StatusError | RawReply]


@dataclass
class RecordedRequest:
    """One HTTP request as the server saw it.

    ``started`` / ``ended`` are ``time.monotonic()`` values: when the request arrived, and when the
    response was finished (or the client went away, or the server dropped the connection).
    ``status`` is the HTTP status sent (``None`` if no response was started). ``outcome`` is one of
    ``"pending"``, ``"completed"``, ``"http_error"``, ``"stream_error"`` (an ``event: error`` was
    sent), ``"dropped"`` (``disconnect_after``) or ``"client_gone"`` (then ``disconnected_early``).
    """

    path: str
    headers: dict
    body: dict
    started: float
    ended: float | None = None
    disconnected_early: bool = False
    stream: bool = False
    status: int | None = None
    outcome: str = "pending"
    method: str = "POST"


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def split_json(text: str, pieces: int = 4) -> list[str]:
    """Split ``text`` into up to ``pieces`` non-empty parts that concatenate back to it."""
    if not text:
        return [""]
    size = max(1, math.ceil(len(text) / pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _text_of(value: Any) -> str:
    """The text a request part contributes to the token estimate."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_text_of(v) for v in value)
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(value.get("text"), str):
            return value["text"]
        if kind == "tool_use":
            return str(value.get("name", "")) + json.dumps(value.get("input", {}))
        if kind == "tool_result":
            return _text_of(value.get("content"))
        if "content" in value and "role" in value:
            return _text_of(value["content"])
        return json.dumps(value)
    return str(value)


def estimate_input_tokens(body: dict) -> int:
    """Characters / 4 over system + message texts + tools JSON; at least 1."""
    chars = len(_text_of(body.get("system")))
    for message in body.get("messages") or []:
        chars += len(_text_of(message.get("content") if isinstance(message, dict) else message))
    if body.get("tools"):
        chars += len(json.dumps(body["tools"]))
    return max(1, chars // 4)


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _error_body(error_type: str, message: str, request_id: str) -> dict:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message or _STOCK_MESSAGES.get(error_type, error_type)},
        "request_id": request_id,
    }


def _credential(headers: dict) -> str | None:
    key = headers.get("x-api-key", "").strip()
    if key:
        return key
    auth = headers.get("authorization", "").strip()
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


class _ClientGone(Exception):
    """The client closed the connection while the server was still answering."""


# --------------------------------------------------------------------------------------------------
# HTTP handling
# --------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeAnthropic

    def handle_error(self, request, client_address):
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, OSError, _ClientGone)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeAnthropic/1.0"
    sys_version = ""
    server: _Server

    # -- plumbing ----------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # Many small SSE writes: without this, Nagle's algorithm and delayed ACKs add ~40 ms stalls
        # that a real API does not have, and benchmarks would measure them.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            super().log_message(format, *args)

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _client_gone(self) -> bool:
        """True if the peer has closed its side (EOF or reset) - checked without consuming data."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _pause(self, seconds: float) -> None:
        """Sleep, watching the socket so that a client leaving during the delay is noticed."""
        deadline = time.monotonic() + seconds
        while True:
            if self._client_gone():
                raise _ClientGone()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(0.01, remaining))

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            raise _ClientGone() from exc

    def _start_response(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status, _REASON_PHRASES.get(status))
        for name, value in headers.items():
            self.send_header(name, str(value))
        try:
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            raise _ClientGone() from exc

    def _send_json(self, rec: RecordedRequest, status: int, payload: dict, request_id: str, extra: dict) -> None:
        data = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
            "request-id": request_id,
            **{str(k): str(v) for k, v in extra.items()},
        }
        rec.status = status
        self._start_response(status, headers)
        self._write(data)

    def _send_error(self, rec: RecordedRequest, status: int, error_type: str, message: str, request_id: str,
                    extra: dict | None = None) -> None:
        self._send_json(rec, status, _error_body(error_type, message, request_id), request_id, extra or {})

    def _drop_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- dispatch ----------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        started = time.monotonic()
        raw = self._read_body()
        path = urlsplit(self.path).path
        headers = {name.lower(): value for name, value in self.headers.items()}
        body: Any
        bad_json = False
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body, bad_json = {"_raw": raw.decode("utf-8", "replace")}, True
        if not isinstance(body, dict):
            body, bad_json = {"_raw": body}, True
        rec = RecordedRequest(
            path=path,
            headers=headers,
            body=body,
            started=started,
            stream=bool(body.get("stream")) and path == MESSAGES_PATH,
            method=method,
        )
        fake._record(rec)
        request_id = _new_id("req_")
        outcome = "completed"
        try:
            outcome = self._answer(fake, rec, method, path, body, bad_json, request_id)
        except _ClientGone:
            self.close_connection = True
            fake._finish(rec, "client_gone", disconnected_early=True)
            return
        except Exception:
            self.close_connection = True
            fake._finish(rec, "server_failure")
            raise
        fake._finish(rec, outcome)

    def _answer(self, fake: FakeAnthropic, rec: RecordedRequest, method: str, path: str, body: dict,
                bad_json: bool, request_id: str) -> str:
        if method != "POST" or path not in (MESSAGES_PATH, COUNT_TOKENS_PATH):
            self._send_error(rec, 404, "not_found_error", f"Not found: {method} {path}", request_id)
            return "http_error"

        credential = _credential(rec.headers)
        if credential is None or (fake.api_key is not None and credential != fake.api_key):
            self._send_error(rec, 401, "authentication_error", "invalid x-api-key", request_id)
            return "http_error"

        problem = "Request body is not a JSON object." if bad_json else _validate(body, path)
        if problem:
            self._send_error(rec, 400, "invalid_request_error", problem, request_id)
            return "http_error"

        if path == COUNT_TOKENS_PATH:
            self._send_json(rec, 200, {"input_tokens": estimate_input_tokens(body)}, request_id, {})
            return "completed"

        item = fake._next_item(rec)
        if isinstance(item, StatusError):
            told = {name.lower() for name in item.headers} & {"retry-after", "retry-after-ms"}
            headers = item.headers if told or item.status < 500 else {**item.headers, "retry-after-ms": "1"}
            self._send_error(rec, item.status, item.error_type, item.message, request_id, headers)
            return "http_error"
        if isinstance(item, RawReply):
            rec.status = item.status
            self._start_response(item.status, {"Content-Type": item.content_type, "Content-Length": str(len(item.body)),
                                               "request-id": request_id})
            self._write(item.body)
            return "raw"
        if not isinstance(item, Reply):
            raise TypeError(f"queued item must be Reply or StatusError, got {item!r}")
        if rec.stream:
            return self._stream_reply(rec, body, item, request_id)
        return self._json_reply(rec, body, item, request_id)

    # -- replies -----------------------------------------------------------------------------------

    @staticmethod
    def _usage(body: dict, reply: Reply) -> dict:
        usage = {
            "input_tokens": estimate_input_tokens(body),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": reply.delta_count(),
        }
        usage.update(reply.usage or {})
        return usage

    @staticmethod
    def _blocks(reply: Reply) -> list[tuple[Block, str | None]]:
        return [(b, (b.id or _new_id("toolu_")) if isinstance(b, ToolUse) else None) for b in reply.content]

    def _json_reply(self, rec: RecordedRequest, body: dict, reply: Reply, request_id: str) -> str:
        total = reply.delta_count()
        if reply.disconnect_after is not None:
            self._pause(reply.token_delay * min(reply.disconnect_after, total))
            self._drop_connection()
            return "dropped"
        if reply.error_after is not None:
            self._pause(reply.token_delay * min(reply.error_after, total))
            status = ERROR_STATUS.get(reply.error_type, 500)
            self._send_error(rec, status, reply.error_type, "", request_id, reply.headers)
            return "http_error"
        self._pause(reply.token_delay * total)
        content = []
        for block, tool_id in self._blocks(reply):
            if isinstance(block, Text):
                content.append({"type": "text", "text": block.text})
            else:
                content.append({"type": "tool_use", "id": tool_id, "name": block.name, "input": block.input})
        message = {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": reply.model or body.get("model"),
            "content": content,
            "stop_reason": reply.resolved_stop_reason(),
            "stop_sequence": None,
            "usage": self._usage(body, reply),
        }
        self._send_json(rec, 200, message, request_id, reply.headers)
        return "completed"

    def _event(self, name: str, data: dict) -> None:
        payload = f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
        self._write(b"%x\r\n%s\r\n" % (len(payload), payload))

    def _end_chunks(self) -> None:
        self._write(b"0\r\n\r\n")

    def _stream_reply(self, rec: RecordedRequest, body: dict, reply: Reply, request_id: str) -> str:
        usage = self._usage(body, reply)
        rec.status = 200
        self._start_response(
            200,
            {
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Transfer-Encoding": "chunked",
                "request-id": request_id,
                **{str(k): str(v) for k, v in reply.headers.items()},
            },
        )
        start_usage = {k: v for k, v in usage.items() if k != "output_tokens"}
        start_usage["output_tokens"] = 1
        self._event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": _new_id("msg_"),
                    "type": "message",
                    "role": "assistant",
                    "model": reply.model or body.get("model"),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
        self._event("ping", {"type": "ping"})

        sent = 0

        def interrupt() -> str | None:
            """Send the scripted error / drop the connection if its moment has come."""
            if reply.error_after is not None and sent >= reply.error_after:
                self._event("error", _error_body(reply.error_type, "", request_id))
                self._end_chunks()
                return "stream_error"
            if reply.disconnect_after is not None and sent >= reply.disconnect_after:
                self._drop_connection()
                return "dropped"
            if reply.end_cleanly_after is not None and sent >= reply.end_cleanly_after:
                self._end_chunks()
                return "ended_early"
            return None

        for index, (block, tool_id) in enumerate(self._blocks(reply)):
            if isinstance(block, Text):
                start = {"type": "text", "text": ""}
            else:
                start = {"type": "tool_use", "id": tool_id, "name": block.name, "input": {}}
            self._event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
            for piece in block.tokens():
                stopped = interrupt()
                if stopped:
                    return stopped
                self._pause(reply.token_delay)
                if isinstance(block, Text):
                    delta = {"type": "text_delta", "text": piece}
                else:
                    delta = {"type": "input_json_delta", "partial_json": piece}
                self._event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                sent += 1
            self._event("content_block_stop", {"type": "content_block_stop", "index": index})

        if reply.error_after is not None or reply.disconnect_after is not None or reply.end_cleanly_after is not None:
            stopped = interrupt()
            if stopped:
                return stopped
        self._event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.resolved_stop_reason(), "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
        self._event("message_stop", {"type": "message_stop"})
        self._end_chunks()
        return "completed"


def _validate(body: dict, path: str) -> str | None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("messages"), list):
        return "messages: Field required"
    if path == MESSAGES_PATH:
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return "max_tokens: Field required"
    return None


# --------------------------------------------------------------------------------------------------
# Public server object
# --------------------------------------------------------------------------------------------------


class FakeAnthropic:
    """A scripted Anthropic Messages API server in a background thread."""

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        default_reply: Reply | None = None,
        verbose: bool = False,
    ) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self.default_reply = default_reply or Reply(content=[Text("ok")])
        self.verbose = verbose
        self._queue: deque[ScriptItem] = deque()
        self._requests: list[RecordedRequest] = []
        self._cond = threading.Condition()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-anthropic-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not started")
        return f"http://{self.host}:{self.port}"

    # -- scripting ---------------------------------------------------------------------------------

    def enqueue(self, *items: ScriptItem) -> None:
        """Queue replies (FIFO); each ``POST /v1/messages`` that passes auth and validation takes one."""
        for item in items:
            if not (isinstance(item, (Reply, StatusError, RawReply)) or callable(item)):
                raise TypeError(f"cannot enqueue {item!r}")
        with self._cond:
            self._queue.extend(items)

    @property
    def pending(self) -> int:
        """How many queued items are not consumed yet."""
        with self._cond:
            return len(self._queue)

    def _next_item(self, rec: RecordedRequest) -> Reply | StatusError:
        with self._cond:
            item = self._queue.popleft() if self._queue else self.default_reply
        if callable(item) and not isinstance(item, (Reply, StatusError, RawReply)):
            item = item(rec)
        return item

    # -- recording ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests seen so far (the records themselves are live)."""
        with self._cond:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._cond:
            self._requests.clear()

    def _record(self, rec: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(rec)
            self._cond.notify_all()

    def _finish(self, rec: RecordedRequest, outcome: str, disconnected_early: bool = False) -> None:
        with self._cond:
            rec.outcome = outcome
            rec.disconnected_early = disconnected_early
            rec.ended = time.monotonic()
            self._cond.notify_all()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def wait_for_requests(self, n: int, timeout: float = 30.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests were recorded; return them. Raises ``TimeoutError``.
        The timeout only bounds a failing test: a server's first call loads the SDK, seconds on a busy machine."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= n, timeout=timeout):
                raise TimeoutError(f"expected {n} requests within {timeout}s, got {len(self._requests)}")
            return list(self._requests)

    def wait_until_finished(self, index: int, timeout: float = 30.0) -> RecordedRequest:
        """Block until request ``index`` exists and has ``ended`` set; return it. Raises ``TimeoutError``."""

        def done() -> bool:
            return len(self._requests) > index and self._requests[index].ended is not None

        with self._cond:
            if not self._cond.wait_for(done, timeout=timeout):
                raise TimeoutError(f"request {index} did not finish within {timeout}s")
            return self._requests[index]


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake Anthropic Messages API until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds before each streamed delta")
    parser.add_argument("--reply", default="Hello from the fake Anthropic server.", help="text of every reply")
    parser.add_argument("--api-key", default=None, help="only accept this key (default: any non-empty key)")
    parser.add_argument("--verbose", action="store_true", help="log each request")
    args = parser.parse_args(argv)

    fake = FakeAnthropic(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        default_reply=Reply(content=[Text(args.reply)], token_delay=args.token_delay),
        verbose=args.verbose,
    )

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stop cleanly when a benchmark script terminates us
    try:
        fake.start()
        print(fake.base_url, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0

if __name__ == "__main__":
    raise SystemExit(main())

"""`skillway serve` survives bad input: raw bytes on its stdin (or its TCP socket), then a valid request.

A frame it cannot read is dropped and logged, and the reader finds the next valid header; a message
that is not JSON-RPC gets an error answer (with the id when one can be recovered, else id null),
never a traceback and never silence; and the next valid request is answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import types

import pytest
from pygls.io_ import run_websocket

from skillway.lsp.main import build_server

TIMEOUT = 20.0  # seconds to wait for any one message from the server

INITIALIZE = {"jsonrpc": "2.0", "id": 99, "method": "initialize",
              "params": {"processId": None, "rootUri": None, "capabilities": {}}}


def frame(message) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def read_messages(stream, into: queue.Queue) -> None:
    """Every framed message the server writes, in order; None when its output ends."""
    try:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            into.put(json.loads(stream.read(length)))
    except (OSError, ValueError):  # the stream was closed at the end of the test
        pass
    finally:
        into.put(None)


class Server:
    """A `skillway serve` process and what it answers (notifications left out)."""

    def __init__(self, process: subprocess.Popen, write, stream, stderr_path) -> None:
        self.process, self._write, self.stderr_path = process, write, stderr_path
        self._messages: queue.Queue = queue.Queue()
        threading.Thread(target=read_messages, args=(stream, self._messages), daemon=True).start()

    def send(self, data: bytes) -> None:
        self._write(data)

    def next_response(self) -> dict:
        """The next message that answers something (server notifications such as logMessage are skipped)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the server answered nothing in time"
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError("the server answered nothing in time") from None
            assert message is not None, f"the server's output ended (exit code {self.process.poll()})"
            if "method" not in message:
                return message

    def answers_initialize(self) -> bool:
        """Send a valid initialize: its answer is the next response."""
        self.send(frame(INITIALIZE))
        answer = self.next_response()
        assert (answer.get("id"), "result" in answer) == (99, True), answer
        return answer["result"]["serverInfo"]["name"] == "skillway"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def server_env(tmp_path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "SKILLWAY_")) or key == "SKILLWAY_NO_DAEMON"}
    env.update(SKILLWAY_CONFIG_DIR=str(tmp_path / "config"), SKILLWAY_DATA_DIR=str(tmp_path / "data"))
    return env


@pytest.fixture
def server(tmp_path):
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "skillway", "serve"], env=server_env(tmp_path),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)

    def write(data: bytes) -> None:
        process.stdin.write(data)
        process.stdin.flush()

    try:
        yield Server(process, write, process.stdout, stderr_path)
    finally:
        process.kill()
        process.wait(10)
        process.stdin.close()
        process.stdout.close()


# --- frames that are not frames: dropped, and the next valid one is read ----------------------------

def test_a_frame_whose_content_length_header_is_misspelt_is_dropped_and_the_next_request_is_answered(server):
    server.send(b"Content-Lenght: 5\r\n\r\nhello")
    assert server.answers_initialize()


def test_garbage_on_the_line_before_a_header_is_skipped_and_the_next_request_is_answered(server):
    server.send(b"\x00\xff this is no header")  # no line break: the garbage runs into the next header
    assert server.answers_initialize()


def test_a_frame_whose_content_length_is_not_a_number_is_dropped_and_the_next_request_is_answered(server):
    server.send(b"Content-Length: 1e9\r\n\r\n" + json.dumps(INITIALIZE | {"id": 1}).encode())
    assert server.answers_initialize()


def test_a_frame_with_a_huge_content_length_is_dropped_and_the_next_request_is_answered(server):
    server.send(b"Content-Length: 99999999999999999999\r\n\r\n" + json.dumps(INITIALIZE | {"id": 1}).encode())
    assert server.answers_initialize()


def test_a_frame_whose_content_length_counts_characters_not_bytes_is_answered_parse_error_then_the_next_request(
        server):
    body = json.dumps({"jsonrpc": "2.0", "method": "$/note", "params": {"text": "caf\u00e9 \u00e9t\u00e9"}},
                      ensure_ascii=False)
    server.send(f"Content-Length: {len(body)}\r\n\r\n".encode() + body.encode())  # 3 bytes too few
    assert server.next_response()["error"]["code"] == -32700
    assert server.answers_initialize()


def test_a_dropped_frame_is_logged_on_stderr(server):
    server.send(b"Content-Lenght: 5\r\n\r\nhello")
    assert server.answers_initialize()
    assert "dropped a frame: no Content-Length header" in server.stderr()
    assert "skipped b'hello' before a Content-Length header" in server.stderr()


# --- bodies that are not JSON-RPC: an error answer, then the next request -----------------------------

def test_a_body_that_is_not_json_is_answered_parse_error_with_id_null(server):
    server.send(b"Content-Length: 10\r\n\r\n{not json}")
    answer = server.next_response()
    assert answer == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32700,
        "message": "the message is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}}
    assert server.answers_initialize()


@pytest.mark.parametrize("bad_id", [[1], {"a": 1}], ids=["array", "object"])
def test_a_request_whose_id_is_not_an_integer_or_a_string_is_answered_invalid_request_with_id_null(server, bad_id):
    server.send(frame(INITIALIZE | {"id": bad_id}))
    answer = server.next_response()
    assert answer == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "a message id is an integer or a string"}}
    assert server.answers_initialize()


def test_a_request_without_jsonrpc_is_answered_invalid_request_with_its_id(server):
    server.send(frame({key: value for key, value in INITIALIZE.items() if key != "jsonrpc"} | {"id": 5}))
    answer = server.next_response()
    assert answer == {"jsonrpc": "2.0", "id": 5, "error": {
        "code": -32600, "message": 'a message carries "jsonrpc": "2.0"'}}
    assert server.answers_initialize()


def test_each_request_of_a_batch_is_answered_invalid_request_with_its_id(server):
    server.send(frame([INITIALIZE | {"id": 6}, {"jsonrpc": "2.0", "method": "$/note"}, INITIALIZE | {"id": "seven"}]))
    answers = [server.next_response(), server.next_response()]
    refusal = {"code": -32600, "message": "batches are not supported: send one message per frame"}
    assert answers == [{"jsonrpc": "2.0", "id": 6, "error": refusal}, {"jsonrpc": "2.0", "id": "seven", "error": refusal}]
    assert server.answers_initialize()


def test_a_batch_without_a_request_is_answered_invalid_request_with_id_null(server):
    server.send(frame([]))
    answer = server.next_response()
    assert answer == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "batches are not supported: send one message per frame"}}
    assert server.answers_initialize()


def test_a_response_without_jsonrpc_is_not_answered(server):
    server.send(frame({"id": 3, "result": None}))  # the client's answer to some request: never answered back
    assert server.answers_initialize()


# --- TCP reads frames the same way --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def tcp_server(tmp_path):
    port = free_port()
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "skillway", "serve", "--tcp", f"127.0.0.1:{port}"],
                                   env=server_env(tmp_path), stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
                connection.settimeout(None)  # reads wait in the reader thread; next_response has the timeout
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)
        stream = connection.makefile("rb")
        try:
            yield Server(process, connection.sendall, stream, stderr_path)
        finally:
            connection.shutdown(socket.SHUT_RDWR)  # ends the reader thread's recv before the stream is closed
            connection.close()
            stream.close()
    finally:
        process.kill()
        process.wait(10)


def test_over_tcp_a_frame_whose_content_length_header_is_misspelt_is_dropped_and_the_next_request_is_answered(
        tcp_server):
    tcp_server.send(b"Content-Lenght: 5\r\n\r\nhello")
    assert tcp_server.answers_initialize()


# --- WebSocket: pygls's own reader, through the same protocol hooks -----------------------------------
# websockets is an optional extra; a stand-in module lets pygls's WebSocket loop run in-process.

class FakeWebSocket:
    def __init__(self, incoming: list[bytes], closed) -> None:
        self.incoming, self.sent, self._closed = list(incoming), [], closed

    async def recv(self, decode=False):
        if not self.incoming:
            raise self._closed()
        return self.incoming.pop(0)

    async def send(self, data):
        self.sent.append(json.loads(data))

    async def close(self):
        pass


def websocket_answers(monkeypatch, incoming: list[bytes], server=None) -> list[dict]:
    class ConnectionClosed(Exception):
        pass

    exceptions = types.ModuleType("websockets.exceptions")
    exceptions.ConnectionClosed = ConnectionClosed
    monkeypatch.setitem(sys.modules, "websockets", types.ModuleType("websockets"))
    monkeypatch.setitem(sys.modules, "websockets.exceptions", exceptions)
    server = server or build_server()
    websocket = FakeWebSocket(incoming, ConnectionClosed)

    async def run() -> None:
        await run_websocket(websocket, threading.Event(), server.protocol, error_handler=server.report_server_error)
        await asyncio.sleep(0)  # the writes pygls scheduled

    asyncio.run(asyncio.wait_for(run(), TIMEOUT))
    return [message for message in websocket.sent if "method" not in message]


def test_over_websocket_a_body_that_is_not_json_is_answered_parse_error_with_id_null(monkeypatch):
    answers = websocket_answers(monkeypatch, [b"{not json}"])
    assert answers == [{"jsonrpc": "2.0", "id": None, "error": {
        "code": -32700,
        "message": "the message is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}}]


def test_over_websocket_a_batch_is_answered_invalid_request_with_the_ids_of_its_requests(monkeypatch):
    answers = websocket_answers(monkeypatch, [json.dumps([INITIALIZE | {"id": 6}]).encode()])
    assert answers == [{"jsonrpc": "2.0", "id": 6, "error": {
        "code": -32600, "message": "batches are not supported: send one message per frame"}}]


def test_an_error_answer_to_a_handler_that_raised_carries_no_traceback(monkeypatch):
    server = build_server()

    @server.feature("skillway/test/fails")
    def fails(ls, params):
        raise RuntimeError("the handler broke")

    request = {"jsonrpc": "2.0", "id": 8, "method": "skillway/test/fails", "params": {}}
    [answer] = websocket_answers(monkeypatch, [json.dumps(request).encode()], server)
    assert (answer["id"], answer["error"]["message"], answer["error"].get("data")) == (
        8, "RuntimeError: the handler broke", None)

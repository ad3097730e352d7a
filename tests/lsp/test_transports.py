"""`skillway serve --tcp` listens on a socket; `--ws` without its package says what to install."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def read_message(stream) -> dict:
    length = None
    while True:
        line = stream.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def test_tcp_transport_answers_initialize(tmp_path):
    port = free_port()
    env = dict(os.environ, SKILLWAY_CONFIG_DIR=str(tmp_path / "c"), SKILLWAY_DATA_DIR=str(tmp_path / "d"))
    server = subprocess.Popen([sys.executable, "-m", "skillway", "serve", "--tcp", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)
        with connection, connection.makefile("rb") as stream:
            connection.sendall(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                      "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}))
            answer = read_message(stream)
        assert (answer["id"], answer["result"]["serverInfo"]["name"]) == (1, "skillway")
        assert answer["result"]["capabilities"]["inlineCompletionProvider"] is not None
    finally:
        server.kill()
        server.wait()


def test_ws_without_websockets_says_what_to_install(tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import websockets"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("websockets is installed here: there is nothing to refuse")
    result = subprocess.run([sys.executable, "-m", "skillway", "serve", "--ws", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.strip()) == (
        1, "skillway serve --ws needs the websockets package: pip install 'skillway[ws]'")


def test_an_editor_that_goes_away_without_shutdown_still_ends_the_session(tmp_path):
    started, ended = tmp_path / "started", tmp_path / "ended"
    plugin = tmp_path / "plug"
    (plugin / "hooks").mkdir(parents=True)
    (plugin / "hooks" / "hooks.json").write_text(json.dumps({"hooks": {
        "SessionStart": [{"hooks": [{"type": "command", "command": f"touch {started}"}]}],
        "SessionEnd": [{"hooks": [{"type": "command", "command": f"echo $(cat) > {ended}"}]}]}}))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = dict(os.environ, SKILLWAY_CONFIG_DIR=str(tmp_path / "c"), SKILLWAY_DATA_DIR=str(tmp_path / "d"),
               SKILLWAY_PLUGIN_DIRS=str(plugin))
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "skillway", "serve"], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=log)
    try:
        server.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}}))
        server.stdin.flush()
        assert read_message(server.stdout)["id"] == 1
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.stdin.flush()
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline, "the session never started"
            time.sleep(0.05)
        server.stdin.close()  # no shutdown, no exit: the editor crashed
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not exit after stdin closed:\n" + (tmp_path / "server.log").read_text()[-3000:])
        assert code == 0
    finally:
        server.kill()
        server.wait()
    assert json.loads(ended.read_text())["reason"] == "other"

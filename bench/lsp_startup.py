"""Benchmark: how fast `skillway serve` answers `initialize`, and how much memory it holds.

- Start-up: from spawning the process to the `initialize` response arriving, for `skillway serve`
  and for a minimal pygls server (one feature, `start_io()`), both started the same way (a
  subprocess with stdio pipes, the request written with Content-Length framing as soon as the pipe
  exists). Runs are interleaved; the medians and their ratio are printed (goal: within 1.2x).
- Memory (VmRSS from /proc/<pid>/status) of `skillway serve`: when `initialize` is answered, right
  after `initialized` was handled, once the background warm-up (SDK import, sessions) has settled,
  and after the first inline completion against the fake API with no latency (goal: under 150 MB).

Figures only, no asserts.

    python bench/lsp_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SKILLWAY = [sys.executable, "-m", "skillway", "serve"]
API_KEY = "sk-bench-lsp-0123456789"

MINIMAL_SERVER = '''
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

server = LanguageServer("minimal", "0.0.1")


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(params: lsp.HoverParams):
    return None


server.start_io()
'''


# --------------------------------------------------------------------------------------------------
# A bare LSP client over stdio: Content-Length framing with the standard library only
# --------------------------------------------------------------------------------------------------


class LspPipe:
    """A language server subprocess spoken to over its stdin/stdout, synchronously.

    `request` writes a request and reads until its response arrives; on the way it answers the
    server's own requests with `null` and keeps its notifications in `notifications`.
    """

    def __init__(self, command: list[str], *, env: dict | None = None, cwd: Path | None = None) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.spawned = time.perf_counter()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        env=env, cwd=cwd)
        self.reader = self.process.stdout
        self.next_id = 0
        self.notifications: list[dict] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- framing ------------------------------------------------------------------------------------

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}, separators=(",", ":")).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def receive(self) -> dict:
        length = None
        while True:
            line = self._readline()
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise RuntimeError("a message without Content-Length")
        body = self._read(length)
        return json.loads(body)

    def _readline(self) -> bytes:
        line = self.reader.readline()
        if not line:
            raise EOFError(f"the server closed its output; stderr:\n{self.stderr_text()[-3000:]}")
        return line

    def _read(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self.reader.read(left)
            if not chunk:
                raise EOFError(f"the server closed its output; stderr:\n{self.stderr_text()[-3000:]}")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    # -- messages -----------------------------------------------------------------------------------

    def notify(self, method: str, params: dict | None = None) -> None:
        self.send({"method": method, "params": params if params is not None else {}})

    def send_request(self, method: str, params: dict | None) -> int:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait_response(self, request_id: int) -> dict:
        while True:
            message = self.receive()
            if "method" in message:
                if "id" in message:  # a request from the server: answer it plainly
                    self.send({"id": message["id"], "result": None})
                else:
                    self.notifications.append(message)
                continue
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"request {request_id} failed: {message['error']}")
                return message.get("result")

    def request(self, method: str, params: dict | None) -> dict:
        return self.wait_response(self.send_request(method, params))

    def close(self, timeout: float = 5.0) -> None:
        try:
            if self.process.poll() is None:
                self.next_id += 1
                self.send({"id": self.next_id, "method": "shutdown", "params": None})
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:  # read up to the shutdown answer
                    message = self.receive()
                    if message.get("id") == self.next_id and "method" not in message:
                        break
                self.notify("exit", None)
                self.process.wait(timeout=timeout)
        except (OSError, EOFError, ValueError, subprocess.TimeoutExpired, RuntimeError):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.stderr.close()

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def rss_mb(self) -> float:
        return status_kb(self.pid, "VmRSS") / 1024

    def hwm_mb(self) -> float:
        return status_kb(self.pid, "VmHWM") / 1024


def status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def initialize_params(workspace: Path, *, inline: bool = False, options: dict | None = None) -> dict:
    text_document = {"synchronization": {"didSave": True}, "hover": {"contentFormat": ["markdown", "plaintext"]},
                     "codeAction": {"resolveSupport": {"properties": ["edit"]}}}
    if inline:
        text_document["inlineCompletion"] = {"dynamicRegistration": False}
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "bench", "version": "0"},
        "rootUri": workspace.as_uri(),
        "workspaceFolders": [{"uri": workspace.as_uri(), "name": workspace.name}],
        "capabilities": {"textDocument": text_document, "workspace": {"workspaceFolders": True},
                         "window": {"workDoneProgress": False}},
        "initializationOptions": options or {},
    }


def server_env(user_dirs: Path, base_url: str | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "SKILLWAY_"))}
    env.update(SKILLWAY_CONFIG_DIR=str(user_dirs / "config"), SKILLWAY_DATA_DIR=str(user_dirs / "data"),
               ANTHROPIC_API_KEY=API_KEY)
    if base_url:
        env["ANTHROPIC_BASE_URL"] = base_url
    return env


# --------------------------------------------------------------------------------------------------
# Start-up time
# --------------------------------------------------------------------------------------------------


def time_to_initialize(command: list[str], workspace: Path, env: dict) -> float:
    server = LspPipe(command, env=env, cwd=workspace)
    try:
        server.request("initialize", initialize_params(workspace))
        return time.perf_counter() - server.spawned
    finally:
        server.close()


def startup(runs: int, scratch: Path) -> None:
    minimal = scratch / "minimal_server.py"
    minimal.write_text(MINIMAL_SERVER, encoding="utf-8")
    workspace = scratch / "ws-startup"
    workspace.mkdir()
    env = server_env(scratch / "user-startup")
    commands = {"skillway serve": SKILLWAY, "minimal pygls": [sys.executable, str(minimal)]}
    for command in commands.values():  # one discarded run each: byte-code and disk caches are warm
        time_to_initialize(command, workspace, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(time_to_initialize(command, workspace, env))
    ours, bare = statistics.median(times["skillway serve"]), statistics.median(times["minimal pygls"])
    print(f"spawn -> initialize response, median of {runs} interleaved runs each:")
    for name, values in times.items():
        print(f"  {name:15} {statistics.median(values) * 1000:7.0f} ms   "
              f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})")
    verdict = "ok" if ours / bare <= 1.2 else "OVER the 1.2x goal"
    print(f"  ratio           {ours / bare:7.2f}x   (goal <= 1.2x: {verdict})")


# --------------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------------


def wait_settled(server: LspPipe, *, quiet: float = 1.0, limit: float = 15.0, step: float = 0.1) -> tuple[float, float]:
    """Poll VmRSS until it has not grown by more than 1 MB for `quiet` seconds; (RSS MB, seconds)."""
    started = time.monotonic()
    last, since = server.rss_mb(), time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(step)
        now = server.rss_mb()
        if now > last + 1:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return server.rss_mb(), since - started


def memory(scratch: Path) -> None:
    from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text

    workspace = scratch / "ws-memory"
    workspace.mkdir()
    source = workspace / "calc.py"
    text = "def add(a, b):\n    \n"
    source.write_text(text, encoding="utf-8")
    with FakeAnthropic(api_key=API_KEY, default_reply=Reply(content=[Text("return a + b")])) as fake:
        server = LspPipe(SKILLWAY, env=server_env(scratch / "user-memory", fake.base_url), cwd=workspace)
        try:
            server.request("initialize", initialize_params(workspace, inline=True))
            at_initialize = server.rss_mb()
            server.notify("initialized", {})
            # A round trip behind `initialized`: its handler has run its synchronous part by then.
            server.request("textDocument/hover", {"textDocument": {"uri": source.as_uri()},
                                                  "position": {"line": 0, "character": 0}})
            after_initialized = server.rss_mb()
            settled, settle_time = wait_settled(server)
            server.notify("textDocument/didOpen", {"textDocument": {"uri": source.as_uri(), "languageId": "python",
                                                                    "version": 1, "text": text}})
            started = time.perf_counter()
            result = server.request("textDocument/inlineCompletion", {
                "textDocument": {"uri": source.as_uri()}, "position": {"line": 1, "character": 4},
                "context": {"triggerKind": 1}})
            first_completion = time.perf_counter() - started
            after_completion = server.rss_mb()
            time.sleep(0.5)
            later = server.rss_mb()
            peak = server.hwm_mb()
            items = (result or {}).get("items") or []
            model_calls = len([r for r in fake.requests if r.path == "/v1/messages"])
        finally:
            server.close()
    print("skillway serve resident memory (VmRSS):")
    print(f"  initialize answered              {at_initialize:6.1f} MB")
    print(f"  right after initialized          {after_initialized:6.1f} MB")
    print(f"  warm-up settled (after {settle_time:4.1f} s)    {settled:6.1f} MB")
    print(f"  after the first completion       {after_completion:6.1f} MB   ({later:.1f} MB 0.5 s later; "
          f"peak VmHWM {peak:.1f} MB)")
    print(f"  first completion took {first_completion * 1000:.0f} ms; answer {[i.get('insertText') for i in items]}, "
          f"{model_calls} model call(s)")
    verdict = "ok" if max(after_completion, later) < 150 else "OVER the 150 MB goal"
    print(f"  goal < 150 MB: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per server (default 9)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="skillway-bench-") as scratch:
        startup(args.runs, Path(scratch))
        print()
        memory(Path(scratch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

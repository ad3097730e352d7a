"""The warm process for print mode: the first `skillway -p` starts it and runs by itself; later runs
run in it (forked, with their own arguments, folder, environment and streams), their exit codes
passed back; `--no-daemon` bypasses it; its socket is private; a run of other code makes it leave."""

import json
import os
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, StatusError, Text
from tests.hooks.hookkit import running as alive

KEY = "sk-test-daemon-0123456789"


@pytest.fixture
def warm(tmp_path):
    """Runs of `python -m skillway` that may use a warm process of their own (in tmp_path/rt)."""
    (tmp_path / "ws").mkdir()
    runtime = tmp_path / "rt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SKILLWAY_"))}
    env.update(ANTHROPIC_API_KEY=KEY, SKILLWAY_RUNTIME_DIR=str(runtime), SKILLWAY_DATA_DIR=str(tmp_path / "data"),
               SKILLWAY_CONFIG_DIR=str(tmp_path / "config"))

    def run(fake, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "skillway", *args], cwd=tmp_path / "ws", capture_output=True,
                              text=True, timeout=120, env={**env, "ANTHROPIC_BASE_URL": fake.base_url})

    run.runtime = runtime
    yield run
    pid_file = runtime / "print.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def served_runs(runtime) -> int:
    return sum(" run " in line for line in (runtime / "print.log").read_text().splitlines())


def warmed(warm, fake) -> None:
    """The first run, by itself, and the warm process it started, listening."""
    fake.enqueue(Reply(content=[Text("first")]))
    assert warm(fake, "-p", "hi", "--bare").stdout == "first\n"
    deadline = time.monotonic() + 60
    while not (warm.runtime / "print.sock").exists():
        assert time.monotonic() < deadline, "the warm process never listened"
        time.sleep(0.05)


def test_a_later_run_runs_in_the_warm_process_the_first_one_started(warm, fake):
    warmed(warm, fake)
    assert served_runs(warm.runtime) == 0
    fake.enqueue(Reply(content=[Text("second")]))
    result = warm(fake, "-p", "hi", "--bare")
    assert (result.returncode, result.stdout) == (0, "second\n")
    assert served_runs(warm.runtime) == 1


def test_each_warm_run_has_its_own_environment(warm, fake):
    warmed(warm, fake)
    with FakeAnthropic() as other:
        other.enqueue(Reply(content=[Text("from the other API")]))
        result = warm(other, "-p", "hi", "--bare")
    assert result.stdout == "from the other API\n"
    assert (len(fake.requests), served_runs(warm.runtime)) == (1, 1)


def test_a_warm_run_s_exit_code_and_stderr_come_back(warm, fake):
    warmed(warm, fake)
    fake.enqueue(StatusError(401, "authentication_error"))
    result = warm(fake, "-p", "hi", "--bare")
    assert result.returncode == 1
    assert "The API rejected the credentials (401" in result.stderr
    assert served_runs(warm.runtime) == 1


def test_no_daemon_runs_by_itself(warm, fake):
    warmed(warm, fake)
    fake.enqueue(Reply(content=[Text("alone")]))
    result = warm(fake, "-p", "hi", "--bare", "--no-daemon")
    assert (result.stdout, served_runs(warm.runtime)) == ("alone\n", 0)


def test_the_warm_process_s_folder_and_socket_are_private_and_its_log_holds_no_key(warm, fake):
    warmed(warm, fake)
    fake.enqueue(Reply(content=[Text("again")]))
    warm(fake, "-p", "hi", "--bare")
    assert stat.S_IMODE(warm.runtime.stat().st_mode) == 0o700
    assert stat.S_IMODE((warm.runtime / "print.sock").stat().st_mode) == 0o600
    assert KEY not in (warm.runtime / "print.log").read_text()


def test_a_run_of_other_code_makes_the_warm_process_leave(warm, fake):
    warmed(warm, fake)
    pid = int((warm.runtime / "print.pid").read_text())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(str(warm.runtime / "print.sock"))
        request = json.dumps({"stamp": "other code", "argv": ["-p", "hi"], "cwd": "/", "env": {}}).encode()
        socket.send_fds(client, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        answer = json.loads(client.makefile().readline())
    assert answer == {"started": False, "reason": "other code"}
    deadline = time.monotonic() + 10
    while alive(pid):
        assert time.monotonic() < deadline, "the warm process stayed"
        time.sleep(0.05)
    assert not (warm.runtime / "print.sock").exists()


def test_the_warm_process_keeps_no_credentials_of_the_run_that_started_it(warm, fake):
    warmed(warm, fake)
    pid = int((warm.runtime / "print.pid").read_text())
    environment = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    assert not [entry for entry in environment if entry.startswith(b"ANTHROPIC_API_KEY=")]

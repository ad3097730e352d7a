"""The one subprocess runner: output, exit codes, timeouts and cancels that take grandchildren along."""

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from skillway.core import processes


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_gone(pid: int) -> bool:
    for _ in range(50):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_output_exit_code_and_stdin():
    done = await processes.run(["sh", "-c", "cat; echo err >&2; exit 3"], input=b"hello", timeout=10)
    assert (done.exit_code, done.stdout, done.stderr, done.timed_out) == (3, "hello", "err\n", False)


async def test_missing_program_is_exit_127_with_a_message():
    done = await processes.run(["no-such-program-xyz"], timeout=10)
    assert done.exit_code == 127
    assert done.stderr.startswith("no-such-program-xyz: command not found")


async def test_timeout_kills_the_process_group_including_grandchildren(tmp_path):
    pids = tmp_path / "pids"
    script = f"sleep 30 & echo $! > {pids}; sleep 30"
    done = await processes.run(["sh", "-c", script], timeout=0.5)
    assert (done.timed_out, done.exit_code, done.stdout) == (True, None, "")
    assert await wait_gone(int(pids.read_text()))


async def test_a_grandchild_holding_the_output_open_does_not_hold_the_caller(tmp_path):
    pids = tmp_path / "pids"
    loop = asyncio.get_running_loop()
    started = loop.time()
    done = await processes.run(["sh", "-c", f"sleep 30 & echo $! > {pids}; echo done"], timeout=20)
    assert (done.exit_code, done.stdout, done.timed_out) == (0, "done\n", False)
    assert loop.time() - started < 10  # far below both the 20 s timeout and the grandchild's 30 s
    assert await wait_gone(int(pids.read_text()))


async def test_cancelling_the_caller_kills_the_child(tmp_path):
    pids = tmp_path / "pids"
    task = asyncio.create_task(processes.run(["sh", "-c", f"echo $$ > {pids}; sleep 30"], timeout=60))
    for _ in range(100):
        if pids.exists() and pids.read_text().strip():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(int(pids.read_text()))


async def test_a_child_that_ignores_stdin_does_not_break_the_run():
    done = await processes.run([sys.executable, "-c", "print('ok')"], input=b"x" * 1_000_000, timeout=10)
    assert (done.exit_code, done.stdout) == (0, "ok\n")


# --- nothing left behind (Linux: found in /proc even outside the process group) ---------------------

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="descendant tracking is Linux-only")


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may stay a zombie where PID 1 does not reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


async def gone(pid: int, within: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while running(pid):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def leftover(pid_file: Path, command: str) -> str:
    """Shell lines: start `command` in the background (it writes its pid first), wait until it has."""
    return (f"{command} >/dev/null 2>&1 &\n"
            f"i=0; while [ ! -s {pid_file} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n")


@pytest.fixture
def recorded_pids():
    """Pids a test read from its files: any still alive at teardown are killed, by pid."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if running(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def read_pid(pid_file: Path, recorded: list[int]) -> int:
    recorded.append(int(pid_file.read_text()))
    return recorded[-1]


@linux_only
async def test_a_command_leaves_no_setsid_child_behind(tmp_path, recorded_pids):
    """What hooks get, `!cmd` and the Bash tool get too: a plain run ends its detached children."""
    pid_file = tmp_path / "pid"
    script = leftover(pid_file, f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 300'") + "echo started"
    done = await processes.run(["sh", "-c", script], timeout=20)
    assert (done.exit_code, done.stdout) == (0, "started\n")
    assert await gone(read_pid(pid_file, recorded_pids))


@linux_only
async def test_a_child_that_scrubbed_its_environment_but_stayed_in_the_session_is_ended(tmp_path, recorded_pids):
    pid_file = tmp_path / "pid"
    own_group = (f"env -i {sys.executable} -c 'import os, time; os.setpgid(0, 0); "
                 f"open(\"{pid_file}\", \"w\").write(str(os.getpid())); time.sleep(300)'")
    done = await processes.run(["sh", "-c", leftover(pid_file, own_group)], timeout=20)
    assert done.exit_code == 0
    assert await gone(read_pid(pid_file, recorded_pids))


@linux_only
async def test_a_run_ending_leaves_the_children_of_a_concurrent_run_alone(tmp_path, recorded_pids):
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    waits = leftover(pid_file, f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 300'") + \
        f"while [ ! -e {release} ]; do sleep 0.02; done"
    other = asyncio.create_task(processes.run(["sh", "-c", waits], timeout=30))
    while not (pid_file.exists() and pid_file.read_text().strip()):
        await asyncio.sleep(0.02)
    pid = read_pid(pid_file, recorded_pids)
    quick_pid_file = tmp_path / "quick-pid"
    quick = await processes.run(["sh", "-c", leftover(quick_pid_file, f"setsid sh -c 'echo $$ > {quick_pid_file}; "
                                                                      "exec sleep 300'")], timeout=20)
    assert quick.exit_code == 0 and await gone(read_pid(quick_pid_file, recorded_pids))
    assert running(pid)  # the quick run's cleanup did not touch the other run's child
    release.touch()
    assert (await other).exit_code == 0
    assert await gone(pid)


@linux_only
async def test_a_child_carries_its_runs_tag_after_the_tags_of_enclosing_runs():
    done = await processes.run(["sh", "-c", f'printf %s "${processes.TAG_VARIABLE}"'],
                               env={"PATH": os.environ["PATH"], processes.TAG_VARIABLE: "0123abcd"}, timeout=10)
    assert re.fullmatch(r"0123abcd [0-9a-f]{32}", done.stdout), done.stdout

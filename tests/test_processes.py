"""The one subprocess runner: output, exit codes, timeouts and cancels that take grandchildren along."""

import asyncio
import os
import sys

import pytest

from skillway import processes


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

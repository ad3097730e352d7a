"""Hooks leave nothing behind: no process they started outlives them, and saved outputs are pruned.

Each leftover process writes its own pid to a file before the hook exits (the hook waits for it), so
the test knows exactly which process to look for; a zombie counts as gone (it has exited).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.hooks.hookkit import (
    command,
    fire,
    group,
    make_plugin,
    open_session,
    py,
    running,
    sh,
    wait_gone,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="descendant tracking is Linux-only")

PRE = "PreToolUse"
DEADLINE = 10.0  # generous: a SIGKILL is delivered at once, a loaded machine may still take a while


@pytest.fixture
def leftovers():
    """Pids a test recorded: whatever is still alive at teardown is killed (by pid), so a failing test
    does not leave sleeps behind on the machine."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if running(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def wait_for_pid(pid_file: Path) -> str:
    """Shell lines that wait (bounded) until the leftover has written its pid."""
    return f'i=0; while [ ! -s {pid_file} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done'


def recorded(pid_file: Path, leftovers: list[int]) -> int:
    pid = int(pid_file.read_text().strip())
    leftovers.append(pid)
    return pid


async def run_hook(tmp_path: Path, body: str, **handler):
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p",
                                                         {PRE: [group(command(sh(tmp_path / "hook.sh", body), **handler))]}))
    return await fire(session, PRE)


@linux_only
async def test_a_background_child_with_redirected_output_is_ended_when_the_hook_exits(tmp_path, leftovers):
    pid_file = tmp_path / "pid"
    outcome = await run_hook(tmp_path, f"""
sh -c 'echo $$ > {pid_file}; exec sleep 300' >/dev/null 2>&1 &
{wait_for_pid(pid_file)}
exit 0
""")
    assert (outcome.handlers[0].exit_code, outcome.handlers[0].timed_out) == (0, False)
    assert wait_gone([recorded(pid_file, leftovers)], within=DEADLINE) == []


@linux_only
async def test_a_child_that_left_the_group_with_setsid_is_ended_when_the_hook_exits(tmp_path, leftovers):
    pid_file = tmp_path / "pid"
    outcome = await run_hook(tmp_path, f"""
setsid sh -c 'echo $$ > {pid_file}; exec sleep 300' >/dev/null 2>&1 &
{wait_for_pid(pid_file)}
exit 0
""")
    assert (outcome.handlers[0].exit_code, outcome.handlers[0].timed_out) == (0, False)
    assert wait_gone([recorded(pid_file, leftovers)], within=DEADLINE) == []


@linux_only
async def test_a_setsid_child_of_a_hook_that_times_out_is_ended(tmp_path, leftovers):
    pid_file = tmp_path / "pid"
    outcome = await run_hook(tmp_path, f"""
setsid sh -c 'echo $$ > {pid_file}; exec sleep 300' >/dev/null 2>&1 &
{wait_for_pid(pid_file)}
sleep 30
""", timeout=1)
    assert (outcome.handlers[0].exit_code, outcome.handlers[0].timed_out) == (None, True)
    assert wait_gone([recorded(pid_file, leftovers)], within=DEADLINE) == []


@linux_only
async def test_a_daemon_that_double_forked_and_called_setsid_is_ended_when_the_hook_exits(tmp_path, leftovers):
    pid_file = tmp_path / "pid"
    daemon = py(tmp_path / "daemon.py", f"""
import os, time
if os.fork():
    os._exit(0)            # the first child goes: the grandchild is an orphan
os.setsid()                # and leaves the hook's session and process group
if os.fork():
    os._exit(0)
devnull = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(devnull, fd)
with open({str(pid_file)!r}, "w") as f:
    f.write(str(os.getpid()))
time.sleep(300)
""")
    outcome = await run_hook(tmp_path, f"{daemon}\n{wait_for_pid(pid_file)}\nexit 0")
    assert (outcome.handlers[0].exit_code, outcome.handlers[0].timed_out) == (0, False)
    assert wait_gone([recorded(pid_file, leftovers)], within=DEADLINE) == []


@linux_only
async def test_a_nohup_child_is_ended_when_the_hook_exits(tmp_path, leftovers):
    pid_file = tmp_path / "pid"
    outcome = await run_hook(tmp_path, f"""
nohup sh -c 'echo $$ > {pid_file}; exec sleep 300' >/dev/null 2>&1 &
{wait_for_pid(pid_file)}
exit 0
""")
    assert outcome.handlers[0].exit_code == 0
    assert wait_gone([recorded(pid_file, leftovers)], within=DEADLINE) == []


@linux_only
async def test_a_process_the_hook_did_not_start_is_left_alone(tmp_path, leftovers):
    pid_file = tmp_path / "pid"
    # started by the test (skillway's own process), in a session of its own, after the hook's tag exists
    bystander = await asyncio.create_subprocess_exec("sleep", "300", start_new_session=True)
    try:
        outcome = await run_hook(tmp_path, f"""
setsid sh -c 'echo $$ > {pid_file}; exec sleep 300' >/dev/null 2>&1 &
{wait_for_pid(pid_file)}
exit 0
""")
        assert outcome.handlers[0].exit_code == 0
        assert wait_gone([recorded(pid_file, leftovers)], within=DEADLINE) == []
        assert bystander.returncode is None and running(bystander.pid)
    finally:
        bystander.kill()
        await bystander.wait()


# --- pruning of saved outputs ---------------------------------------------------------------------

def old_session_folders(root: Path, sizes: list[int]) -> list[str]:
    """Session folders s0 (oldest) .. sN (newest) with one file of each size; their mtimes a minute apart."""
    names = []
    now = time.time()
    for index, size in enumerate(sizes):
        folder = root / f"s{index}"
        folder.mkdir(parents=True)
        (folder / "p-1.txt").write_bytes(b"x" * size)
        stamp = now - 3600 + 60 * index
        os.utime(folder, (stamp, stamp))
        names.append(folder.name)
    return names


SAVED = 20_000  # bytes of the full text the hook below has saved


def session_saving_one_output(tmp_path: Path, **context):
    """A session whose one hook prints SAVED characters (over the cap, so the full text is saved)."""
    cmd = py(tmp_path / "long.py", f'print("y" * {SAVED})')
    session = open_session(tmp_path / "ws", make_plugin(tmp_path / "plug", "p", {"SessionStart": [group(command(cmd))]}))
    for name, value in context.items():
        setattr(session.hooks.context, name, value)
    root = session.data_dir / "hook-output"
    return session, root


async def test_saving_an_output_keeps_only_the_newest_sessions(tmp_path):
    session, root = session_saving_one_output(tmp_path, keep_output_sessions=3)
    names = old_session_folders(root, [100] * 5)
    outcome = await fire(session, "SessionStart")
    assert "full text is in" in outcome.additional_context[0]
    assert sorted(p.name for p in root.iterdir()) == sorted([session.session_id, names[4], names[3]])


async def test_saving_an_output_drops_older_sessions_beyond_the_byte_cap(tmp_path):
    session, root = session_saving_one_output(tmp_path, max_output_bytes=SAVED + 1_000 + 1_000 + 500)
    names = old_session_folders(root, [1_000] * 5)
    await fire(session, "SessionStart")
    assert sorted(p.name for p in root.iterdir()) == sorted([session.session_id, names[4], names[3]])


async def test_the_current_sessions_outputs_are_kept_even_beyond_the_byte_cap(tmp_path):
    session, root = session_saving_one_output(tmp_path, max_output_bytes=10)
    old_session_folders(root, [100] * 2)
    await fire(session, "SessionStart")
    assert [p.name for p in root.iterdir()] == [session.session_id]
    assert [f.stat().st_size for f in (root / session.session_id).iterdir()] == [SAVED]

"""The one place skillway runs a child process (hooks, `!cmd` in commands, the Bash tool).

A run leaves nothing behind. Each child gets its own process group (and session), which is killed
when the run ends, however it ends: the child exited, timed out, or the caller was cancelled. On
Linux, what left the group too (`setsid`, a daemon's double fork) is found in /proc and killed as
well; see `_Leftovers`. Output that a leftover grandchild keeps open does not hold the caller past a
short grace. Every caller wants this: a hook, a `!cmd` or a Bash tool command is run to completion,
and nothing could ever stop a process it left running (it would outlive the editor).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_NOT_FOUND = 127
# After the child exits, how long its output may stay open (a forked grandchild holding the pipe).
OUTPUT_GRACE_SECONDS = 0.5
EXIT_POLL_SECONDS = 0.05
# Every child's environment carries its run's random tag here (after the tags of enclosing runs, when
# skillway itself runs under skillway); whatever it starts inherits it.
TAG_VARIABLE = "SKILLWAY_RUN_TAGS"
KILL_ROUNDS = 5  # scan-and-kill passes at most: a leftover may fork while the first pass kills
PROBE_PIDS = 64  # new pids up to this many are looked up one by one, more by listing /proc


@dataclass(frozen=True)
class Completed:
    exit_code: int | None  # None when killed on timeout
    stdout: str
    stderr: str
    timed_out: bool
    started: float  # time.monotonic()
    ended: float

    @property
    def duration(self) -> float:
        return self.ended - self.started


async def run(
    argv: Sequence[str],
    *,
    input: bytes = b"",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float,
) -> Completed:
    """Run `argv`, feed it `input`, and collect its output within `timeout` seconds."""
    started = time.monotonic()
    leftovers = _Leftovers(env) if _Leftovers.supported() else None
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=leftovers.env if leftovers else dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        return Completed(EXIT_NOT_FOUND, "", f"{argv[0]}: command not found ({exc.strerror})", False, started, time.monotonic())
    except OSError as exc:
        return Completed(EXIT_NOT_FOUND, "", f"{argv[0]}: cannot run: {exc.strerror or exc}", False, started, time.monotonic())
    if leftovers:
        leftovers.spawned(process.pid)

    def end_leftovers() -> None:
        _kill_group(process)
        if leftovers:
            leftovers.end(child_alive=process.returncode is None)

    assert process.stdout is not None and process.stderr is not None  # both are pipes
    feeder = asyncio.create_task(_feed(process, input))
    out = asyncio.create_task(process.stdout.read())
    err = asyncio.create_task(process.stderr.read())
    output = asyncio.gather(out, err)
    output.add_done_callback(lambda done: done.cancelled() or done.exception())  # never "never retrieved"
    exited = asyncio.create_task(_exit_of(process))
    timed_out = False
    try:
        # Usually the output closes when the child exits. asyncio's wait() also waits for the output
        # to close, so a grandchild holding it would hide the child's exit: `exited` watches for it.
        watched: set[asyncio.Future[Any]] = {output, exited}  # results of two types: wait() wants one
        done, _ = await asyncio.wait(watched, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            timed_out = True
            _kill_group(process)
        elif output in done and process.returncode is None:
            try:  # the output closed; the exit comes at the same moment (or the timeout applies)
                await asyncio.wait_for(process.wait(), max(0.0, started + timeout - time.monotonic()))
            except TimeoutError:
                timed_out = True
                _kill_group(process)
        if output not in done:
            _, pending = await asyncio.wait({output}, timeout=OUTPUT_GRACE_SECONDS)
            if pending:  # a grandchild still holds the output open: it goes with the rest
                end_leftovers()
                _, pending = await asyncio.wait({output}, timeout=OUTPUT_GRACE_SECONDS)
            if pending:  # it escaped (setsid, scrubbed environment): stop listening rather than wait forever
                output.cancel()
                process._transport.close()  # type: ignore[attr-defined]  # private, but the only way to let go of its pipes
        if process.returncode is None:
            await asyncio.wait({exited}, timeout=OUTPUT_GRACE_SECONDS * 4)
    except asyncio.CancelledError:
        _kill_group(process)
        output.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.shield(asyncio.wait({exited}, timeout=OUTPUT_GRACE_SECONDS * 4))
        raise
    finally:
        feeder.cancel()
        exited.cancel()
        end_leftovers()  # the child is done (or killed): so is everything it started
    stdout, stderr = output.result() if output.done() and not output.cancelled() else (b"", b"")
    return Completed(
        exit_code=None if timed_out else process.returncode,
        stdout="" if timed_out else stdout.decode("utf-8", "replace"),
        stderr="" if timed_out else stderr.decode("utf-8", "replace"),
        timed_out=timed_out,
        started=started,
        ended=time.monotonic(),
    )


async def _exit_of(process: asyncio.subprocess.Process) -> int:
    # process.wait() also waits for the pipes to close, which a grandchild may hold: poll the exit instead.
    while process.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(EXIT_POLL_SECONDS)
    return process.returncode


async def _feed(process: asyncio.subprocess.Process, data: bytes) -> None:
    assert process.stdin is not None  # a pipe: run() asks for one
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        if data:
            process.stdin.write(data)
            await process.stdin.drain()
        process.stdin.close()


def _kill_group(process: asyncio.subprocess.Process) -> None:
    if not hasattr(os, "killpg"):  # Windows: no process groups; the child alone, while it runs
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, OSError):
                process.kill()
        return
    # The group outlives its leader while a member lives, and its id stays reserved meanwhile (Linux
    # and macOS never hand out a pid still used as a group id), so this never hits another group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class _Leftovers:
    """Finds, on Linux, what one run started that left its process group, and kills it.

    Chosen: a random per-run tag in the child's environment, looked for in /proc/PID/environ, plus the
    run's session id and ppid links, in one /proc scan when the run ends. A tag is inherited through
    `setsid`, `nohup`, `&`, double forks and daemon(3), needs no privilege, tells concurrent runs apart
    exactly, and cannot match an unrelated process (128 random bits). Passed over:
    - cgroups: need a delegated cgroup (systemd) that is often missing (containers, CI);
    - PR_SET_CHILD_SUBREAPER: process-wide state for all of skillway (and any host embedding it);
      orphans of concurrent runs, git and MCP servers all land on us with nothing saying whose they
      are, and reaping them with waitpid(-1) would steal exit statuses from asyncio's child watcher;
    - sampling ancestry while the run lasts: periodic scans for every run, and still racy.
    Not caught: a process that scrubbed its environment (`env -i`) *and* left the session, once its
    parent is gone. Never killed: anything older than the child, or owned by another user.
    A pid is signalled through a pidfd after checking its start time, so a pid reused meanwhile is safe.
    """

    @staticmethod
    def supported() -> bool:
        return sys.platform.startswith("linux") and os.path.isdir("/proc/self")

    def __init__(self, env: Mapping[str, str] | None) -> None:
        tag = secrets.token_hex(16)
        self.tag = tag.encode()
        self.env = dict(os.environ if env is None else env)
        self.env[TAG_VARIABLE] = f"{self.env.get(TAG_VARIABLE, '')} {tag}".strip()
        self.ticks = os.sysconf("SC_CLK_TCK")
        # Start times in /proc are clock ticks of CLOCK_BOOTTIME: one second earlier, to be generous.
        self.since = int(time.clock_gettime(time.CLOCK_BOOTTIME) * self.ticks) - self.ticks
        self.forks, now = _forks_so_far(), _threads_and_last_pid()
        self.threads = now[0] if now else None
        self.pid = 0

    def spawned(self, pid: int) -> None:
        self.pid = pid
        stat = _stat(pid)
        if stat is not None:
            self.since = stat[4]  # exact: nothing it starts can be older

    def end(self, *, child_alive: bool) -> None:
        signalled: set[tuple[int, int]] = set()
        for _ in range(KILL_ROUNDS):
            found = self._find(child_alive) - signalled
            if not found:
                return
            for pid, start in found:
                _kill(pid, start)
            signalled |= found

    def _find(self, child_alive: bool) -> set[tuple[int, int]]:
        """(pid, start time) of every live process this run started, its child included while alive."""
        stats = {}
        for pid in self._candidates():
            stat = _stat(pid)
            if stat is not None and stat[0] not in "ZX" and stat[4] >= self.since:
                stats[pid] = stat
        stats.pop(os.getpid(), None)
        # Its session and group (even with a scrubbed environment); the child itself and its children
        # only while it has not been reaped (after that its pid may belong to someone else).
        ours = {pid for pid, (_, ppid, pgrp, sid, _) in stats.items()
                if self.pid in (pgrp, sid) or (child_alive and self.pid in (pid, ppid))}
        ours |= {pid for pid in stats.keys() - ours if self._tagged(pid)}
        while more := {pid for pid, stat in stats.items() if pid not in ours and stat[1] in ours}:
            ours |= more  # children of ours, whatever their environment
        return {(pid, stats[pid][4]) for pid in ours}

    def _candidates(self) -> Iterable[int]:
        """Pids that may have been handed out since the child's, so that stat files are read for the
        few processes that may be new, not for all. Linux hands out pids in a cycle, skipping those in
        use. Coming all the way round takes pid_max - 300 - (pids in use) forks, and pids in use are at
        most the threads at the start plus the forks since: short of that, every pid handed out since
        lies between the child's and the last one handed out. A short range is probed directly (a
        thread's id may come up: it matches only when its process does), a long one filters /proc."""
        forks, now, pid_max = _forks_so_far(), _threads_and_last_pid(), _pid_max()
        if forks is None or now is None or self.forks is None or self.threads is None \
                or 2 * (forks - self.forks) + self.threads + 300 >= pid_max:  # 300: never reused
            return self._all_pids()  # cannot tell: all of them (the start time still filters)
        last = now[1]
        ranges = [range(self.pid, last + 1)] if last >= self.pid else [range(self.pid, pid_max), range(last + 1)]
        if sum(map(len, ranges)) <= PROBE_PIDS:
            return [pid for pids in ranges for pid in pids]
        return [pid for pid in self._all_pids() if any(pid in pids for pids in ranges)]

    @staticmethod
    def _all_pids() -> list[int]:
        try:
            return [int(name) for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return []

    def _tagged(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/environ", "rb") as file:
                return self.tag in file.read()
        except OSError:  # gone, or not ours to read (another user): not ours to kill either
            return False


def _stat(pid: int) -> tuple[str, int, int, int, int] | None:
    """(state, ppid, process group, session, start time in clock ticks since boot) of `pid`."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rsplit(b")", 1)[1].split()  # the name before ")" may hold anything
        return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _kill(pid: int, start: int) -> None:
    """SIGKILL `pid` if it is still the process that started at `start`."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):  # no pidfds (kernel < 5.3): the start time check alone
        handle = None
    try:
        stat = _stat(pid)  # read after the pidfd pinned the process: a match means it is the same one
        if stat is None or stat[4] != start:
            return
        if handle is None:
            os.kill(pid, signal.SIGKILL)
        else:
            signal.pidfd_send_signal(handle, signal.SIGKILL)
    except OSError:  # gone meanwhile, or not ours to signal
        pass
    finally:
        if handle is not None:
            os.close(handle)


def _forks_so_far() -> int | None:
    """Processes and threads created since boot, on the whole machine (/proc/stat `processes`)."""
    try:
        with open("/proc/stat", "rb") as file:
            for line in file:
                if line.startswith(b"processes "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _threads_and_last_pid() -> tuple[int, int] | None:
    """(threads on the machine, the last pid handed out) from /proc/loadavg: "0.1 0.0 0.0 1/123 4567"."""
    try:
        with open("/proc/loadavg", "rb") as file:
            fields = file.read().split()
        return int(fields[3].split(b"/")[1]), int(fields[4])
    except (OSError, ValueError, IndexError):
        return None


@functools.cache
def _pid_max() -> int:
    try:
        with open("/proc/sys/kernel/pid_max", "rb") as file:
            return int(file.read())
    except (OSError, ValueError):
        return 0  # unknown: every scan looks at every process

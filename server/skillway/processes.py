"""The one place skillway runs a child process (hooks, `!cmd` in commands, the Bash tool).

Each child gets its own process group, so a timeout or a cancel kills it with every grandchild it
forked. Output that a leftover grandchild keeps open does not hold the caller past a short grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_NOT_FOUND = 127
# After the child exits, how long its output may stay open (a forked grandchild holding the pipe).
OUTPUT_GRACE_SECONDS = 0.5


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
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        return Completed(EXIT_NOT_FOUND, "", f"{argv[0]}: command not found ({exc.strerror})", False, started, time.monotonic())
    except OSError as exc:
        return Completed(EXIT_NOT_FOUND, "", f"{argv[0]}: cannot run: {exc.strerror or exc}", False, started, time.monotonic())

    feeder = asyncio.create_task(_feed(process, input))
    out = asyncio.create_task(process.stdout.read())
    err = asyncio.create_task(process.stderr.read())
    timed_out = False
    try:
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            timed_out = True
            _kill_group(process)
            await process.wait()
        _, pending = await asyncio.wait({out, err}, timeout=OUTPUT_GRACE_SECONDS)
        if pending:  # a grandchild still holds the output open: it goes with its group
            _kill_group(process)
            await asyncio.wait(pending)
    except asyncio.CancelledError:
        _kill_group(process)
        for task in (feeder, out, err):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.shield(process.wait())
        raise
    finally:
        feeder.cancel()
    return Completed(
        exit_code=None if timed_out else process.returncode,
        stdout="" if timed_out else out.result().decode("utf-8", "replace"),
        stderr="" if timed_out else err.result().decode("utf-8", "replace"),
        timed_out=timed_out,
        started=started,
        ended=time.monotonic(),
    )


async def _feed(process: asyncio.subprocess.Process, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        if data:
            process.stdin.write(data)
            await process.stdin.drain()
        process.stdin.close()


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)

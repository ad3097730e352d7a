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
EXIT_POLL_SECONDS = 0.05


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
    output = asyncio.gather(out, err)
    output.add_done_callback(lambda done: done.cancelled() or done.exception())  # never "never retrieved"
    exited = asyncio.create_task(_exit_of(process))
    timed_out = False
    try:
        # Usually the output closes when the child exits. asyncio's wait() also waits for the output
        # to close, so a grandchild holding it would hide the child's exit: `exited` watches for it.
        done, _ = await asyncio.wait({output, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
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
            if pending:  # a grandchild still holds the output open: it goes with its group
                _kill_group(process)
                _, pending = await asyncio.wait({output}, timeout=OUTPUT_GRACE_SECONDS)
            if pending:  # it left the group (setsid): stop listening rather than wait forever
                output.cancel()
                process._transport.close()  # noqa: SLF001 - the only way to let go of its pipes
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
    while process.returncode is None:
        await asyncio.sleep(EXIT_POLL_SECONDS)
    return process.returncode


async def _feed(process: asyncio.subprocess.Process, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        if data:
            process.stdin.write(data)
            await process.stdin.drain()
        process.stdin.close()


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)

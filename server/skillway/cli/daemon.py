"""A warm process for print mode, so that `skillway -p` costs milliseconds instead of a second of
imports. The first run starts it in the background (and runs by itself); later runs hand it their
arguments, working folder, environment and standard streams over a private socket, and it forks a
child that runs them exactly as the run would have (so every run reads its own settings, trust and
credentials afresh; nothing of one run is kept for the next), then passes back the exit code.

The socket is in the user's runtime folder (0700, checked to be the user's own; the peer's uid is
checked too); the process leaves after IDLE_SECONDS without a run, and a run of other code (an
upgrade, an edited checkout) makes it leave and runs by itself. `--no-daemon` or SKILLWAY_NO_DAEMON=1
bypasses it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from skillway.core.secrets import child_environment

IDLE_SECONDS = 600.0
SOCKET_NAME, PID_NAME, LOG_NAME = "print.sock", "print.pid", "print.log"
MAX_REQUEST = 4 * 2**20  # bytes of arguments and environment
NO_DAEMON_FLAG, NO_DAEMON_VARIABLE = "--no-daemon", "SKILLWAY_NO_DAEMON"


def runtime_dir() -> Path:
    """The user's private folder for the socket: SKILLWAY_RUNTIME_DIR, else $XDG_RUNTIME_DIR/skillway,
    else /tmp/skillway-<uid>; made 0700, and refused (OSError) when it is not the user's own."""
    chosen = os.environ.get("SKILLWAY_RUNTIME_DIR")
    if chosen:
        folder = Path(chosen)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "skillway"
    else:
        folder = Path("/tmp") / f"skillway-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(f"{folder} is not a private folder of this user")
    return folder


def code_stamp() -> str:
    """What code a process runs: the interpreter, and when skillway's files last changed."""
    package = Path(__file__).resolve().parents[1]
    newest, folders = 0, [str(package)]
    while folders:  # os.scandir: a few milliseconds, where Path.rglob takes fifty (every run pays it)
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    newest = max(newest, entry.stat(follow_symlinks=False).st_mtime_ns)
    return f"{os.path.realpath(sys.executable)}:{package}:{newest}"


# --- the run's side ---------------------------------------------------------------------------------

def run_through_daemon(argv: list[str]) -> int | None:
    """Run print mode's `argv` in the warm process: its exit code, or None when this run must run by
    itself (bypassed, streams that are not files, no process yet: one is started for the next run)."""
    if os.environ.get(NO_DAEMON_VARIABLE) or NO_DAEMON_FLAG in argv:
        return None
    try:
        fds = [stream.fileno() for stream in (sys.stdin, sys.stdout, sys.stderr)]
        folder = runtime_dir()
    except (OSError, ValueError, AttributeError):  # in-process callers with StringIO streams, a shared /tmp
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(folder / SOCKET_NAME))
    except OSError:
        client.close()
        _start_daemon(folder)
        return None
    with client:
        request = json.dumps({"stamp": code_stamp(), "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        try:
            socket.send_fds(client, [struct.pack("!I", len(request)) + request], fds)
            answer = _read_line(client)
        except OSError:
            return None
        if answer.get("started") is not True:
            return None  # other code, or it could not fork: this run runs by itself
        # Ctrl-C reaches this process (the terminal's foreground one): pass it on to the run.
        previous = signal.signal(signal.SIGINT, lambda *_: _send(client, {"signal": int(signal.SIGINT)}))
        try:
            done = _read_line(client)
        except OSError:
            done = {}
        finally:
            signal.signal(signal.SIGINT, previous)
        code = done.get("exit")
        return code if isinstance(code, int) else 1


def _start_daemon(folder: Path) -> None:
    """Start the warm process, detached (its own session, no streams of this run)."""
    log = (folder / LOG_NAME).open("a")
    with log:
        subprocess.Popen([sys.executable, "-m", "skillway.cli.daemon"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, close_fds=True,
                         # Each run brings its own environment; the process keeps none of the credentials.
                         env=child_environment({"SKILLWAY_RUNTIME_DIR": str(folder)}))


def _send(connection: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        connection.sendall(json.dumps(message).encode() + b"\n")


def _read_line(connection: socket.socket) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    try:
        value = json.loads(data) if data.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- the warm process's side ------------------------------------------------------------------------

def serve(folder: Path) -> None:
    """Accept runs until IDLE_SECONDS pass without one, or a run of other code comes."""
    _warm_up()
    stamp = code_stamp()
    path = folder / SOCKET_NAME
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # the socket is born 0600
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(16)
    (folder / PID_NAME).write_text(f"{os.getpid()}\n")
    runs: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, the run's connection)
    last = time.monotonic()
    _log(f"serving {path}")
    try:
        while True:
            waiting: list[Any] = [listener, *[conn for _, conn in runs.values()], *runs]  # sockets and pidfds
            ready, _, _ = select.select(waiting, [], [], 5.0)
            if not ready and not runs and time.monotonic() - last > IDLE_SECONDS:
                return
            for item in ready:
                if item is listener:
                    last = time.monotonic()
                    if not _accept(listener, stamp, runs):
                        return  # other code asked: leave, the next run starts a new process
                elif isinstance(item, int):
                    pid, conn = runs.pop(item)
                    _, status = os.waitpid(pid, 0)
                    os.close(item)
                    _send(conn, {"exit": os.waitstatus_to_exitcode(status) % 256})
                    conn.close()
                else:
                    _forward_signal(item, runs)
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            (folder / PID_NAME).unlink()
        _log("leaving")


def _accept(listener: socket.socket, stamp: str, runs: dict[int, tuple[int, socket.socket]]) -> bool:
    conn, _ = listener.accept()
    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]
    if uid != os.getuid():
        conn.close()
        return True
    try:
        message, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST + 4, 3)
        while len(message) >= 4 and len(message) < 4 + struct.unpack("!I", message[:4])[0]:
            more = conn.recv(MAX_REQUEST)
            if not more:
                break
            message += more
        request = json.loads(message[4:])
    except (OSError, ValueError, struct.error):
        conn.close()
        return True
    if request.get("stamp") != stamp or len(fds) != 3:
        _send(conn, {"started": False, "reason": "other code"})
        conn.close()
        for fd in fds:
            os.close(fd)
        return request.get("stamp") == stamp
    pid = os.fork()
    if pid == 0:  # the run
        _run_child(request, fds)
    for fd in fds:
        os.close(fd)
    runs[os.pidfd_open(pid)] = (pid, conn)
    _send(conn, {"started": True})
    _log(f"run {pid}: skillway {' '.join(request['argv'][:1])} … in {request['cwd']}")
    return True


def _run_child(request: dict, fds: list[int]) -> None:
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.closerange(3, 1024)  # the listener and other runs' sockets are not this run's
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin = open(0, closefd=False)  # the run's own streams, for its lifetime
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        from skillway.cli.main import main

        code = main(request["argv"], warm=False)
    except KeyboardInterrupt:
        code = 130
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    except BaseException:  # a crash of the run is the run's: said on its stderr
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _forward_signal(conn: socket.socket, runs: dict[int, tuple[int, socket.socket]]) -> None:
    """A run's side said something while its run goes on: only a signal to pass on (or it left)."""
    pid = next(p for p, c in runs.values() if c is conn)
    try:
        data = conn.recv(4096)
    except OSError:
        data = b""
    if not data:  # the run's side is gone: so is the run
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        return
    for line in data.splitlines():
        with contextlib.suppress(ValueError, ProcessLookupError):
            number = json.loads(line).get("signal")
            if number == signal.SIGINT:
                os.kill(pid, signal.SIGINT)


def _warm_up() -> None:
    """What a print-mode run would import: done once here, inherited by every forked run."""
    import skillway.app.session
    import skillway.cli.printmode
    import skillway.model.templates  # noqa: F401  (jinja2)
    from skillway.cli.main import build_parser
    from skillway.model.client import preload

    build_parser()
    preload()  # the SDK and its HTTP stack (no thread is left running: a fork copies only this one)
    # What is loaded now stays as it is: a run's garbage collections do not walk (and so copy) it.
    gc.collect()
    gc.freeze()


def _log(text: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} [{os.getpid()}] {text}", flush=True)


if __name__ == "__main__":
    serve(runtime_dir())

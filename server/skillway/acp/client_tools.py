"""The editor's own files and terminals, where the client offers them: Read, Edit and Write go through
`fs/read_text_file` and `fs/write_text_file` (so unsaved buffers are seen and edits land in the
editor's undo history), Bash through `terminal/create`. What the client does not offer stays local."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from acp import RequestError
from acp.interfaces import Client
from acp.schema import ClientCapabilities, EnvVariable

from skillway.agent.tools import ShellResult

log = logging.getLogger(__name__)
OUTPUT_LIMIT = 1_000_000  # bytes of a command's output the client keeps (it drops the oldest)


class ClientFiles:
    """The agent's Editor over the client's file system (whichever half of it the client offers)."""

    def __init__(self, client: Client, session_id: str, capabilities: ClientCapabilities) -> None:
        self.client, self.session_id = client, session_id
        fs = capabilities.fs
        self.reads = bool(fs and fs.read_text_file)
        self.writes = bool(fs and fs.write_text_file)

    async def text_of(self, path: Path) -> str | None:
        if not self.reads:
            return None
        try:
            answer = await self.client.read_text_file(session_id=self.session_id, path=str(path))
        except RequestError as exc:  # no such file (a new one), or one the editor will not read: the disk's, if any
            log.info("the client did not read %s: %s", path, exc)
            return None
        return answer.content

    async def replace(self, path: Path, text: str) -> bool:
        if not self.writes:
            return await asyncio.to_thread(_write_here, path, text)
        try:
            await self.client.write_text_file(session_id=self.session_id, path=str(path), content=text)
        except RequestError as exc:
            log.warning("the client did not write %s: %s", path, exc)
            return False
        return True


def _write_here(path: Path, text: str) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


class ClientTerminal:
    """The Bash tool's Shell in a terminal of the client's: created, shown with its tool call
    (`on_created(call id, terminal id)`), waited for (killed at the timeout), its output read, then
    released."""

    def __init__(self, client: Client, session_id: str, on_created: Callable[[str, str], None]) -> None:
        self.client, self.session_id, self.on_created = client, session_id, on_created

    async def run(self, command: str, cwd: Path, env: dict[str, str], timeout: float, call_id: str) -> ShellResult:
        created = await self.client.create_terminal(
            session_id=self.session_id, command="sh", args=["-c", command], cwd=str(cwd),
            env=[EnvVariable(name=name, value=value) for name, value in env.items()], output_byte_limit=OUTPUT_LIMIT)
        terminal = created.terminal_id
        self.on_created(call_id, terminal)
        try:
            timed_out = False
            try:
                exited = await asyncio.wait_for(
                    self.client.wait_for_terminal_exit(session_id=self.session_id, terminal_id=terminal), timeout)
                code = exited.exit_code
            except TimeoutError:
                timed_out, code = True, None
                await self.client.kill_terminal(session_id=self.session_id, terminal_id=terminal)
            output = await self.client.terminal_output(session_id=self.session_id, terminal_id=terminal)
            return ShellResult(code, output.output, timed_out)
        finally:
            with contextlib.suppress(RequestError, ConnectionError):
                await self.client.release_terminal(session_id=self.session_id, terminal_id=terminal)

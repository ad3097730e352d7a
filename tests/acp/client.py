"""The client side of ACP for the tests, written with the SDK's own client: `skillway acp` runs as a
subprocess against the fake API; the client records every update, answers permission requests as
scripted, keeps "editor buffers" for the fs methods and runs terminals as local subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import acp
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    CreateTerminalResponse,
    DeniedOutcome,
    FileSystemCapabilities,
    ReadTextFileResponse,
    ReleaseTerminalResponse,
    RequestPermissionResponse,
    TerminalOutputResponse,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)

SKILLWAY = [sys.executable, "-m", "skillway", "acp"]
WAIT = 20.0  # seconds a test waits for something that should come at once


@dataclass
class Asked:
    title: str | None
    tool_call_id: str
    options: list[tuple[str, str]]  # (option id, kind)


@dataclass
class RecordingClient:
    """An editor: it shows updates (records them), answers permission requests with `answers` (an
    option kind per request, in turn; none left: cancelled), has `buffers` (unsaved text by path)."""

    answers: list[str] = field(default_factory=list)
    buffers: dict[str, str] = field(default_factory=dict)
    updates: list[Any] = field(default_factory=list)
    asked: list[Asked] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)
    terminals: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    commands_run: list[list[str]] = field(default_factory=list)

    def on_connect(self, conn: Any) -> None:
        self.agent = conn

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)

    async def request_permission(self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any):
        self.asked.append(Asked(tool_call.title, tool_call.tool_call_id, [(o.option_id, o.kind) for o in options]))
        if not self.answers:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        kind = self.answers.pop(0)
        chosen = next(o.option_id for o in options if o.kind == kind)
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=chosen))

    async def read_text_file(self, session_id: str, path: str, line: int | None = None, limit: int | None = None,
                             **kwargs: Any) -> ReadTextFileResponse:
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            return ReadTextFileResponse(content=Path(path).read_text(encoding="utf-8"))
        except OSError:
            raise acp.RequestError.resource_not_found(path) from None

    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any) -> WriteTextFileResponse:
        self.written[path] = content
        self.buffers[path] = content
        return WriteTextFileResponse()

    async def create_terminal(self, session_id: str, command: str, args: list[str] | None = None, env: Any = None,
                              cwd: str | None = None, output_byte_limit: int | None = None,
                              **kwargs: Any) -> CreateTerminalResponse:
        terminal_id = uuid.uuid4().hex[:8]
        self.commands_run.append([command, *(args or [])])
        variables = {**os.environ, **{v.name: v.value for v in env or []}}
        self.terminals[terminal_id] = await asyncio.to_thread(
            subprocess.Popen, [command, *(args or [])], cwd=cwd, env=variables, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(self, session_id: str, terminal_id: str, **kwargs: Any) -> WaitForTerminalExitResponse:
        code = await asyncio.to_thread(self.terminals[terminal_id].wait)
        return WaitForTerminalExitResponse(exit_code=code)

    async def terminal_output(self, session_id: str, terminal_id: str, **kwargs: Any) -> TerminalOutputResponse:
        process = self.terminals[terminal_id]
        output = await asyncio.to_thread(process.stdout.read) if process.stdout else ""
        return TerminalOutputResponse(output=output, truncated=False)

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> ReleaseTerminalResponse:
        self.terminals.pop(terminal_id).wait()
        return ReleaseTerminalResponse()

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.terminals[terminal_id].kill()

    # --- what the tests read -------------------------------------------------------------------

    def of_kind(self, kind: str) -> list[Any]:
        return [u for u in self.updates if u.session_update == kind]

    def answer_text(self) -> str:
        return "".join(u.content.text for u in self.of_kind("agent_message_chunk"))

    async def wait_for(self, ready: Callable[[], object], what: str) -> None:
        async with asyncio.timeout(WAIT):
            while not ready():
                await asyncio.sleep(0.02)
        assert ready(), what


def agent_environment(fake) -> dict[str, str]:
    """The test's own user folders (set by conftest), the fake API and a key."""
    return {**os.environ, "ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": "sk-test-acp-0123"}


def capabilities(*, fs: bool = False, terminal: bool = False) -> ClientCapabilities:
    return ClientCapabilities(fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs), terminal=terminal)


@contextlib.asynccontextmanager
async def connected(fake, client: RecordingClient, workspace: Path, *, caps: ClientCapabilities | None = None,
                    args: tuple[str, ...] = ()) -> AsyncIterator[Any]:
    """`skillway acp` started and initialized; yields the connection to it."""
    async with acp.spawn_agent_process(client, *SKILLWAY, *args, env=agent_environment(fake), cwd=str(workspace),
                                       transport_kwargs={"stderr": None}) as (conn, _process):
        await conn.initialize(protocol_version=acp.PROTOCOL_VERSION, client_capabilities=caps or capabilities())
        yield conn

"""The language server and pytest-lsp's client in one process, joined by JSON messages.

The same server (`build_server`) and the same client as the process tests, with what would go over
stdio handed from one protocol to the other instead: no process to start, so a feature test takes
milliseconds. The protocol edges (framing, exit, a real editor) stay with the process tests.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from skillway.lsp.main import build_server
from skillway.lsp.server import SkillwayServer
from tests.fakes.anthropic_server import FakeAnthropic
from tests.lsp.harness import (
    API_KEY,
    Served,
    answer_message_requests,
    initialize,
    joined_in_process,
    record_applied_edits,
    write_tree,
)


@asynccontextmanager
async def in_process(root: Path, monkeypatch, *, profile: str = "neovim", inline: bool = True,
                     options: dict | None = None, files: dict[str, str] | None = None,
                     folders: list[str] | None = None, trust_answers: list[str] | None = None,
                     server: SkillwayServer | None = None):
    """A fake API, a workspace `root/ws` holding `files` (or several folders under it), and an
    in-process server (`build_server()`'s unless given) initialised on it by a client speaking as `profile`."""
    workspace = write_tree(root / "ws", files or {}).resolve()
    roots = [workspace / name for name in folders] if folders else [workspace]
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
        async with joined_in_process(server or build_server()) as client:
            answer_message_requests(client, trust_answers)
            record_applied_edits(client)
            await initialize(client, workspace, roots, profile, inline, options)
            yield Served(client, fake, workspace, profile)

"""The language server and pytest-lsp's client in one process, joined by JSON messages.

The same server (`build_server`) and the same client as the process tests, with what would go over
stdio handed from one protocol to the other instead: no process to start, so a feature test takes
milliseconds. The protocol edges (framing, exit, a real editor) stay with the process tests.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp.client import make_test_lsp_client

from skillway.lsp.main import build_server
from skillway.lsp.server import SkillwayServer
from tests.fakes.anthropic_server import FakeAnthropic
from tests.lsp.harness import API_KEY, Served, capabilities, record_applied_edits, write_tree


class _Wire:
    """One direction of the connection: each message reaches the other side on the next loop turn,
    as it would after a read, never inside the sender's call."""

    def __init__(self, deliver) -> None:
        self.deliver = deliver

    def write(self, data: bytes) -> None:
        asyncio.get_running_loop().call_soon(self.deliver, data)

    def close(self) -> None:
        pass


def connect(client, server: SkillwayServer) -> None:
    def to_client(body: bytes) -> None:
        client.protocol.handle_message(json.loads(body, object_hook=client.protocol.structure_message))

    # The bodies alone: no framing in between.
    client.protocol.set_writer(_Wire(server.protocol.receive), include_headers=False)
    server.protocol.set_writer(_Wire(to_client), include_headers=False)


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
        server, client = server or build_server(), make_test_lsp_client()
        connect(client, server)
        client.trust_answers = list(trust_answers or [])

        @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
        def answer(params: lsp.ShowMessageRequestParams):
            client.messages.append(lsp.ShowMessageParams(type=params.type, message=params.message))
            title = client.trust_answers.pop(0) if client.trust_answers else None
            return lsp.MessageActionItem(title=title) if title else None

        record_applied_edits(client)
        client.initialize_result = await asyncio.wait_for(client.initialize_session(lsp.InitializeParams(
            capabilities=capabilities(profile, inline=inline), root_uri=workspace.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=folder.as_uri(), name=folder.name) for folder in roots],
            initialization_options=options or {})), 10)
        try:
            yield Served(client, fake, workspace, profile)
        finally:
            await asyncio.wait_for(client.protocol.send_request_async(lsp.SHUTDOWN, None), 10)  # sessions end
            server.shutdown()

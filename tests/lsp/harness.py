"""A real language client talking to `skillway serve` over stdio, against the fake API.

Each test gets its own fake API server, user folders and workspace; the client speaks as one of
pytest-lsp's recorded editor profiles, optionally with inline completion added.
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, client_capabilities

PROFILES = ["neovim", "visual_studio_code"]
API_KEY = "sk-test-lsp-0123456789"


def capabilities(profile: str, *, inline: bool = False) -> lsp.ClientCapabilities:
    caps = client_capabilities(profile)
    if inline:  # no recorded profile declares it (LSP 3.18): add it as a client that has it would
        caps.text_document.inline_completion = lsp.InlineCompletionClientCapabilities(dynamic_registration=False)
    return caps


@asynccontextmanager
async def running_server(workspace: Path, user_dirs: Path, base_url: str | None, *, profile: str = "neovim",
                         inline: bool = True, options: dict | None = None, api_key: str | None = API_KEY,
                         extra_env: dict | None = None):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANTHROPIC_", "SKILLWAY_"))}
    env.update(SKILLWAY_CONFIG_DIR=str(user_dirs / "config"), SKILLWAY_DATA_DIR=str(user_dirs / "data"))
    if base_url:
        env["ANTHROPIC_BASE_URL"] = base_url
    if api_key:
        env["ANTHROPIC_API_KEY"] = api_key
    env.update(extra_env or {})
    config = ClientServerConfig(server_command=[sys.executable, "-m", "skillway", "serve"], server_env=env)
    client = await config.start()
    client.trust_answers = []  # the client's answers to window/showMessageRequest, in order

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def answer(params: lsp.ShowMessageRequestParams):
        client.messages.append(lsp.ShowMessageParams(type=params.type, message=params.message))
        title = client.trust_answers.pop(0) if client.trust_answers else None
        return lsp.MessageActionItem(title=title) if title else None

    await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities(profile, inline=inline),
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
        initialization_options=options or {},
    ))
    try:
        yield client
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        except (TimeoutError, Exception):  # noqa: BLE001 - a hung shutdown must not hang the suite
            pass
        await client.stop()


def open_document(client, path: Path, text: str, language: str = "python", version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
    return uri


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError("condition not met in time")

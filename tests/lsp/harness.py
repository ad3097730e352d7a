"""A real language client (pytest-lsp's) talking to skillway's language server, against the fake API.

Each test gets its own fake API server, user folders and workspace; the client speaks as one of
pytest-lsp's recorded editor profiles, optionally with inline completion added. The server runs in
the test's process, joined to the client by messages (no process to start, and the SDK is loaded
once), unless a test asks for `skillway serve` as a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.protocol.json_rpc import JsonRPCRequestMessage
from pytest_lsp import ClientServerConfig, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from skillway.lsp.main import build_server
from skillway.lsp.server import SkillwayServer
from tests.fakes.anthropic_server import FakeAnthropic

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
                         extra_env: dict | None = None, trust_answers: list[str] | None = None,
                         in_process: bool = True):
    """A client speaking as `profile` to a server initialised on `workspace`, with its own user folders
    and credentials. In process (the default) the server is `build_server()`'s, joined to the client by
    messages, with the environment it would get set around it; `in_process=False` starts
    `skillway serve` as its own process, for the protocol's edges (framing, exit, a real editor)."""
    env = {key: None for key in os.environ if key.startswith(("ANTHROPIC_", "SKILLWAY_"))}
    env.update(SKILLWAY_CONFIG_DIR=str(user_dirs / "config"), SKILLWAY_DATA_DIR=str(user_dirs / "data"),
               ANTHROPIC_BASE_URL=base_url or None, ANTHROPIC_API_KEY=api_key or None)
    env.update(extra_env or {})
    with environment(env) if in_process else nullcontext():
        async with joined_in_process(build_server()) if in_process else _started_process(env) as client:
            client.environment = env  # for a test to set again: see `server_environment`
            answer_message_requests(client, trust_answers)
            await initialize(client, workspace, [workspace], profile, inline, options)
            yield client


@asynccontextmanager
async def joined_in_process(server: SkillwayServer):
    """pytest-lsp's client joined to `server` in this process by messages; shut down at the end."""
    client = make_test_lsp_client()
    connect_in_process(client, server)
    client.shutdown_problem = None  # why shutdown did not go as it should, if it did not
    try:
        yield client
    finally:
        try:
            await asyncio.wait_for(client.protocol.send_request_async(lsp.SHUTDOWN, None), 10)  # sessions end
        except (TimeoutError, Exception) as exc:
            client.shutdown_problem = f"shutdown: {type(exc).__name__}: {exc}"
        server.shutdown()


@asynccontextmanager
async def _started_process(env: dict[str, str | None]):
    """`skillway serve` as a process of its own with `env` over this one's; stopped (killed if need be) at the end."""
    process_env = {key: value for key, value in {**os.environ, **env}.items() if value is not None}
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "skillway", "serve"],
                                      server_env=process_env).start()
    client.shutdown_problem = None  # why shutdown/exit did not go as it should, if it did not
    try:
        yield client
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        except (TimeoutError, Exception) as exc:
            client.shutdown_problem = f"shutdown/exit: {type(exc).__name__}: {exc}"
            print(f"skillway test harness: {client.shutdown_problem}; killing the server", file=sys.stderr)
        process = client._server  # the server process this harness started
        if process is not None and process.returncode is None:
            process.kill()
        await asyncio.wait_for(client.stop(), 10)


def server_environment(monkeypatch, served: Served) -> None:
    """Set the environment of an in-process server that outlives one test (a module's) for this test:
    conftest gives every test fresh user folders and no credentials, which that server must not see."""
    for key, value in getattr(served.client, "environment", {}).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


def answer_message_requests(client, trust_answers: list[str] | None) -> None:
    """Answer window/showMessageRequest like a user: with `client.trust_answers`, in order (none left: dismissed)."""
    client.trust_answers = list(trust_answers or [])

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def answer(params: lsp.ShowMessageRequestParams):
        client.messages.append(lsp.ShowMessageParams(type=params.type, message=params.message))
        title = client.trust_answers.pop(0) if client.trust_answers else None
        return lsp.MessageActionItem(title=title) if title else None


async def initialize(client, workspace: Path, folders: list[Path], profile: str, inline: bool, options: dict | None) -> None:
    client.initialize_result = await asyncio.wait_for(client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities(profile, inline=inline), root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=folder.as_uri(), name=folder.name) for folder in folders],
        initialization_options=options or {})), 30)


@contextmanager
def environment(values: dict[str, str | None]):
    """os.environ with `values` set (None: unset) until the block ends: what an in-process server reads."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _Wire:
    """One direction of an in-process connection: each message reaches the other side on the next
    loop turn, as it would after a read, never inside the sender's call."""

    def __init__(self, deliver) -> None:
        self.deliver = deliver

    def write(self, data: bytes) -> None:
        asyncio.get_running_loop().call_soon(self.deliver, data)

    def close(self) -> None:
        pass


def connect_in_process(client, server: SkillwayServer) -> None:
    """What would go over stdio, handed from one protocol to the other: the bodies alone, no framing."""
    def to_client(body: bytes) -> None:
        client.protocol.handle_message(json.loads(body, object_hook=client.protocol.structure_message))

    client.protocol.set_writer(_Wire(server.protocol.receive), include_headers=False)
    server.protocol.set_writer(_Wire(to_client), include_headers=False)


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


# --- shared helpers for the LSP tests -------------------------------------------------------------
# pytest-lsp's client has no handler for workspace/applyEdit: `serving` registers one that records.

def record_applied_edits(client) -> None:
    """Answer workspace/applyEdit like an editor: record the edit, reply `client.apply_edit_result`."""
    client.applied_edits = []
    client.apply_edit_result = lsp.ApplyWorkspaceEditResult(applied=True)

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams):
        client.applied_edits.append(params)
        return client.apply_edit_result


@dataclass
class Served:
    """A running server, its fake API and its workspace (resolved, as the server sees it)."""

    client: object
    fake: FakeAnthropic
    workspace: Path
    profile: str


def write_tree(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


@asynccontextmanager
async def serving(root: Path, profile: str = "neovim", *, inline: bool = True, options: dict | None = None,
                  files: dict[str, str] | None = None, trust_answers: list[str] | None = None, in_process: bool = True):
    """A fake API, a workspace `root/ws` holding `files`, and a server started on it."""
    workspace = write_tree(root / "ws", files or {}).resolve()
    with FakeAnthropic() as fake:
        async with running_server(workspace, root / "user", fake.base_url, profile=profile, inline=inline,
                                  options=options, trust_answers=trust_answers, in_process=in_process) as client:
            record_applied_edits(client)
            yield Served(client, fake, workspace, profile)


async def reset(fake: FakeAnthropic) -> None:
    """Between tests sharing a server: let earlier HTTP requests end, then empty the script and the log."""
    for index in range(len(fake.requests)):
        await asyncio.to_thread(fake.wait_until_finished, index, 10)
    with fake._cond:  # the fake has no public way to drop queued replies
        fake._queue.clear()
    fake.clear_requests()


def slug(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_")


@contextmanager
def opened(client, path: Path, text: str, language: str = "python"):
    """An open document, closed again at the end (other open documents go into completion prompts)."""
    uri = open_document(client, path, text, language)
    try:
        yield uri
    finally:
        client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))


def change_document(client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def inline_params(uri: str, line: int, character: int) -> lsp.InlineCompletionParams:
    return lsp.InlineCompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line, character),
        context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Automatic))


async def inline(client, uri: str, line: int, character: int, *, msg_id: str | None = None,
                 timeout: float = 15.0) -> lsp.InlineCompletionList:
    request = client.protocol.send_request_async(lsp.TEXT_DOCUMENT_INLINE_COMPLETION,
                                                 inline_params(uri, line, character), msg_id=msg_id)
    return await asyncio.wait_for(request, timeout)


def texts(result: lsp.InlineCompletionList) -> list[str]:
    return [item.insert_text for item in result.items]


async def complete(client, uri: str, line: int, character: int, timeout: float = 15.0) -> lsp.CompletionList:
    request = client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line, character)))
    return await asyncio.wait_for(request, timeout)


async def send_raw(client, method: str, params, *, typed: bool = True, msg_id: str | None = None):
    """A request whose params go on the wire as given (no client-side typing); the result is
    structured as `method`'s result type when `typed`, else left as plain JSON values."""
    protocol = client.protocol
    msg_id = msg_id or str(uuid.uuid4())
    future: Future = Future()
    protocol._request_futures[msg_id] = future
    if typed:
        protocol._result_types[msg_id] = protocol.get_result_type(method)
    protocol._send_data(JsonRPCRequestMessage(id=msg_id, method=method, params=params, jsonrpc="2.0"))
    return await asyncio.wrap_future(future)


def position(line: int, character: int) -> lsp.Position:
    return lsp.Position(line=line, character=character)


def span(start_line: int, start_character: int, end_line: int, end_character: int) -> lsp.Range:
    return lsp.Range(start=position(start_line, start_character), end=position(end_line, end_character))


async def code_actions(client, uri: str, target: lsp.Range, diagnostics=(), timeout: float = 15.0) -> list[lsp.CodeAction]:
    """textDocument/codeAction as CodeActions. Sent raw: lsprotocol's client-side converter reads every
    item that has a `command` as a bare Command, which would lose the fallback actions' kind and data."""
    converter = client.protocol._converter
    params = converter.unstructure(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=target,
        context=lsp.CodeActionContext(diagnostics=list(diagnostics))))
    raw = await asyncio.wait_for(send_raw(client, lsp.TEXT_DOCUMENT_CODE_ACTION, params, typed=False), timeout)
    return [converter.structure(item, lsp.CodeAction) for item in raw or []]


def shown(client, since: int = 0) -> list[str]:
    """The showMessage texts (and message requests) since index `since`."""
    return [message.message for message in client.messages[since:]]

"""The skillway language server object and how it is started.

Nothing slow happens before the `initialize` answer: no plugin loading, no SDK import. On
`initialized` each workspace folder gets its Session (plugins, trust, SessionStart hooks) in the
background and the SDK is warmed in a thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from types import SimpleNamespace

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from skillway import __version__
from skillway.lsp.diagnostics import Diagnostics

log = logging.getLogger(__name__)


class SkillwayProtocol(LanguageServerProtocol):
    """Two repairs to pygls: a request whose params cannot be read is answered InvalidParams instead
    of being left unanswered, and `$/cancelRequest` reaches a running command (pygls runs commands
    in a task of their own that a cancel does not touch)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.running_commands: dict = {}  # request id -> the task running that command

    def _handle_cancel_notification(self, msg_id) -> None:
        task = self.running_commands.pop(msg_id, None)
        if task is not None:
            task.cancel()
        super()._handle_cancel_notification(msg_id)

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                error = JsonRpcInvalidParams() if isinstance(exc, JsonRpcInvalidParams) else exc
                self._send_response(data["id"], error=error.to_response_error())
                log.warning("refused %s: its params cannot be read", data.get("method"))
                return SimpleNamespace(jsonrpc="refused")  # handle_message ignores it
            raise


def cancellable(handler):
    """Let `$/cancelRequest` of a workspace/executeCommand request cancel the command's task."""

    @functools.wraps(handler)
    async def run(ls, *arguments):
        msg_id = ls.protocol._ctx_msg_id.get(None)  # noqa: SLF001 - pygls keeps the request id here
        if msg_id is not None:
            ls.protocol.running_commands[msg_id] = asyncio.current_task()
        try:
            return await handler(ls, *arguments)
        finally:
            ls.protocol.running_commands.pop(msg_id, None)

    return run


class SkillwayServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("skillway", __version__, protocol_cls=SkillwayProtocol)
        self.initialization_options: dict = {}
        self.sessions = None  # lsp.sessions.Sessions, made on `initialized`
        self.shown_errors: set[str] = set()
        self.plugin_dirs: list = []  # --plugin-dir folders, loaded into every session
        self.diagnostics = Diagnostics()  # every publishDiagnostics goes through it

    # --- telling the user, once ----------------------------------------------------------------

    def tell(self, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=f"skillway: {message}"))

    def tell_once(self, key: str, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        """Errors that repeat on every keystroke (no key, rate limit, quota) are shown once, until
        a call succeeds again."""
        if key not in self.shown_errors:
            self.shown_errors.add(key)
            self.tell(message, kind)

    def model_error(self, error) -> None:
        """A model call of background work (inline completion) failed: tell once, until one succeeds."""
        self.tell_once(error.kind.value, error.message, _message_type(error))

    def action_failed(self, error) -> None:
        """A model call the user asked for (a code action, a command, Send, /ship) failed: tell every time."""
        self.tell(error.message, _message_type(error))

    def model_ok(self) -> None:
        self.shown_errors.clear()

    @property
    def supports_inline_completion(self) -> bool:
        document = self.client_capabilities.text_document if self.client_capabilities else None
        return bool(document and getattr(document, "inline_completion", None))


def _message_type(error) -> lsp.MessageType:
    serious = error.kind.value in ("no_credentials", "authentication", "billing")
    return lsp.MessageType.Error if serious else lsp.MessageType.Warning


def build_server() -> SkillwayServer:
    from skillway.lsp import actions, authoring, chat, completion, lifecycle, ship, slash

    server = SkillwayServer()
    for feature in (lifecycle, completion, actions, authoring, slash, chat, ship):
        feature.register(server)
    return server


def run(transport: str = "stdio", host: str = "127.0.0.1", port: int = 2087, plugin_dirs=()) -> None:
    server = build_server()
    server.plugin_dirs = list(plugin_dirs)
    if transport == "tcp":
        server.start_tcp(host, port)
    elif transport == "ws":
        import importlib.util

        if importlib.util.find_spec("websockets") is None:  # pygls's WebSocket transport needs it
            raise SystemExit("skillway serve --ws needs the websockets package: pip install 'skillway[ws]'")
        server.start_ws(host, port)
    else:
        server.start_io()

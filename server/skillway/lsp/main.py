"""The language server put together: its features, the one owner of each LSP method, and how it runs."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Sequence
from pathlib import Path

from skillway.lsp import lifecycle, methods
from skillway.lsp.actions import CodeActionsFeature
from skillway.lsp.authoring import AuthoringFeature
from skillway.lsp.chat import ChatFeature
from skillway.lsp.completion import CompletionFeature
from skillway.lsp.server import SkillwayServer
from skillway.lsp.ship import ShipFeature
from skillway.lsp.slash import SlashFeature


def build_server() -> SkillwayServer:
    server = SkillwayServer()
    lifecycle.register(server)
    # The order is the order of asking: slash names and plugin-file keys come before the model's
    # suggestion; "Send" and "Run /name" are listed before the model's code actions.
    features = [SlashFeature(server), AuthoringFeature(server), CompletionFeature(server),
                CodeActionsFeature(server), ChatFeature(server), ShipFeature(server)]
    methods.register(server, features)
    return server


def run(transport: str = "stdio", host: str = "127.0.0.1", port: int = 2087, plugin_dirs: Sequence[Path] = ()) -> None:
    server = build_server()
    server.plugin_dirs = list(plugin_dirs)
    if transport == "tcp":
        server.start_tcp(host, port)
    elif transport == "ws":
        if importlib.util.find_spec("websockets") is None:  # pygls's WebSocket transport needs it
            raise SystemExit("skillway serve --ws needs the websockets package: pip install 'skillway[ws]'")
        server.start_ws(host, port)
    else:
        server.start_io()
    if server.sessions is not None and server.sessions.by_folder:
        # The editor went away without `shutdown` (its end of stdin closed, or `exit` came first):
        # the sessions still end, and their SessionEnd hooks run, in a loop of their own.
        asyncio.run(server.sessions.end_all("other"))

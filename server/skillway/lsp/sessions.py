"""One Session per workspace folder; documents belong to the folder that holds them."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
from pathlib import Path

from skillway.app.session import Session
from skillway.completion.engine import CompletionEngine, CompletionSettings
from skillway.completion.prompt import session_fetch
from skillway.core.problems import Problem
from skillway.lsp.documents import path_of
from skillway.mcpclient.pool import IDLE_SECONDS, McpPool
from skillway.settings import data_dir, load_settings

log = logging.getLogger(__name__)


class Sessions:
    def __init__(self, options: dict, plugin_dirs=()) -> None:
        self.initial_options = options
        self.options = options
        self.plugin_dirs = list(plugin_dirs)
        self.by_folder: dict[Path, Session] = {}
        self.engines: dict[Path, CompletionEngine] = {}
        self.started: dict[Path, asyncio.Task] = {}
        # One pool for the editor's sessions: a server they declare alike starts once and stays warm.
        self.mcp_pool = McpPool(data_dir() / "mcp-logs" / f"editor-{os.getpid()}", linger=IDLE_SECONDS)

    def open(self, folder: Path) -> Session:
        folder = folder.resolve()
        session = Session.open(folder, self.plugin_dirs, lsp_options=self.options)
        session.mcp_pool = self.mcp_pool
        self.by_folder[folder] = session
        self.engines[folder] = CompletionEngine(session_fetch(session), self._completion_settings(session))
        return session

    def close(self, folder: Path) -> Session | None:
        folder = folder.resolve()
        task = self.started.pop(folder, None)
        if task is not None:
            task.cancel()
        self.engines.pop(folder, None)
        return self.by_folder.pop(folder, None)

    @staticmethod
    def _completion_settings(session: Session) -> CompletionSettings:
        return CompletionSettings(debounce_seconds=session.settings.completion_debounce_ms / 1000)

    def apply_options(self, options: dict) -> list:
        """New editor settings: every session re-reads its settings; returns their problems."""
        # The editor's configuration section adds to (and overrides) its initialization options.
        self.options = {**self.initial_options, **options}
        problems: list[Problem] = []
        for folder, session in self.by_folder.items():
            session.apply_settings(load_settings(folder, lsp_options=self.options, lsp_origin="workspace/configuration",
                                                 workspace_trusted=session.workspace_trusted))
            self.engines[folder].settings = self._completion_settings(session)
            problems += session.settings.problems
        return problems

    def folder_of(self, path: Path) -> Path | None:
        holders = [f for f in self.by_folder if path == f or f in path.parents]
        return max(holders, key=lambda f: len(f.parts)) if holders else None

    def for_path(self, path: Path) -> tuple[Session, CompletionEngine] | tuple[None, None]:
        folder = self.folder_of(path)
        if folder is None and len(self.by_folder) == 1:
            folder = next(iter(self.by_folder))  # a file outside the folder: the only session serves it
        if folder is None:
            return None, None
        return self.by_folder[folder], self.engines[folder]

    async def end_all(self, reason: str = "other") -> None:
        """End every session (SessionEnd hooks); a second call finds none left."""
        for task in self.started.values():
            task.cancel()
        ending = list(self.by_folder.values())
        self.by_folder.clear()
        self.engines.clear()
        self.started.clear()
        await asyncio.gather(*(s.end(reason) for s in ending), return_exceptions=True)
        await self.mcp_pool.close()  # the servers kept warm go with the editor


def session_for(ls, uri: str | None) -> Session | None:
    """The session of the folder holding `uri`; the first one when there is no uri."""
    if ls.sessions is None or not ls.sessions.by_folder:
        return None
    path = path_of(uri) if uri else None
    session, _ = ls.sessions.for_path(path) if path else (None, None)
    return session or next(iter(ls.sessions.by_folder.values()))


def is_chat(ls, uri: str) -> bool:
    """Whether the document is a chat buffer (the `chatPattern` setting, `*.chat.md` by default)."""
    path = path_of(uri)
    session = session_for(ls, uri)
    return path is not None and session is not None and fnmatch.fnmatch(path.name, session.settings.chat_pattern)

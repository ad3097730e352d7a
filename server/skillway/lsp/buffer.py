"""A chat buffer's answer: it streams in at the end of the buffer through workspace/applyEdit, in
small batches; only the end is ever touched, and a cancelled answer keeps what arrived, marked."""

from __future__ import annotations

import asyncio
import contextvars
import time

from lsprotocol import types as lsp

from skillway.lsp.documents import utf16_length
from skillway.lsp.editor import EditorInterface
from skillway.lsp.server import SkillwayServer
from skillway.slash.chat import ASSISTANT_HEADING, CANCELLED_MARK

FLUSH_SECONDS = 0.05  # streamed text is sent in small batches, not one edit per token
_CLOSING: set[asyncio.Task] = set()  # edits finishing a cancelled answer, kept until they are done


class Appender:
    """Appends at the end of the buffer. The end is tracked here, not re-read from the document:
    editors report their changes with a delay, and our own edits are the only ones at the end."""

    def __init__(self, ls: SkillwayServer, uri: str, end: lsp.Position) -> None:
        self.ls, self.uri, self.end = ls, uri, end

    async def append(self, text: str) -> bool:
        if not text:
            return True
        return await self._replace(lsp.Range(start=self.end, end=self.end), text)

    async def remove_since(self, start: lsp.Position) -> bool:
        return await self._replace(lsp.Range(start=start, end=self.end), "", start)

    async def _replace(self, target: lsp.Range, text: str, new_end: lsp.Position | None = None) -> bool:
        edit = lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=self.uri, version=None),
            edits=[lsp.TextEdit(range=target, new_text=text)])])
        result = await self.ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=edit, label="skillway chat"))
        if not result.applied:
            return False
        self.end = new_end or _after(target.start, text)
        return True


def _after(start: lsp.Position, text: str) -> lsp.Position:
    lines = text.split("\n")
    if len(lines) == 1:
        return lsp.Position(start.line, start.character + utf16_length(text))
    return lsp.Position(start.line + len(lines) - 1, utf16_length(lines[-1]))


def end_of(doc) -> lsp.Position:
    lines = doc.source.split("\n")
    return lsp.Position(len(lines) - 1, utf16_length(lines[-1]))


def separator(source: str) -> str:
    """What goes before a new heading at the end of the buffer: one blank line."""
    return "" if source.endswith("\n\n") else "\n" if source.endswith("\n") else "\n\n"


class ChatInterface(EditorInterface):
    """The answer streams into the buffer under an assistant heading, in small batches."""

    def __init__(self, ls: SkillwayServer, typed: str, uri: str, doc) -> None:
        super().__init__(ls, typed)
        self.appender = Appender(ls, uri, end_of(doc))
        self.source = doc.source
        self.answer_start: lsp.Position | None = None  # set once the heading is in the buffer
        self.pending: list[str] = []
        self.flushed_at = time.monotonic()

    async def begin_answer(self) -> None:
        await self.appender.append(f"{separator(self.source)}{ASSISTANT_HEADING}\n\n")
        self.answer_start = self.appender.end

    async def stream_text(self, text: str) -> None:
        self.pending.append(text)
        if time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            await self.flush()

    async def restart_answer(self) -> None:
        self.pending.clear()
        if self.answer_start is not None:
            await self.appender.remove_since(self.answer_start)

    async def flush(self) -> None:
        text = "".join(self.pending)
        self.pending.clear()
        self.flushed_at = time.monotonic()
        await self.appender.append(text)

    def close_cancelled(self) -> None:
        """What arrived stays, marked as cancelled. The closing edit runs in its own task, in a fresh
        context: pygls cancels the requests a cancelled request's context sends, and this one must
        still reach the editor."""
        closing = asyncio.get_running_loop().create_task(
            self.appender.append("".join(self.pending) + f"\n\n{CANCELLED_MARK}\n"), context=contextvars.Context())
        _CLOSING.add(closing)
        closing.add_done_callback(_CLOSING.discard)

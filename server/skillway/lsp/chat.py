"""`skillway.sendChat`: the conversation in a chat buffer goes to the model and the answer streams
into the buffer through workspace/applyEdit. Cancelling the command keeps what arrived, marked as
cancelled; only the end of the buffer is ever touched."""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

from lsprotocol import types as lsp

from skillway.app.run import RunOptions, Status
from skillway.app.session import Session
from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.editor import EditorInterface, run_in_editor, show_document
from skillway.lsp.feature import CommandHandler, CommandResult, Feature
from skillway.lsp.server import SkillwayServer
from skillway.lsp.ship import present_ship
from skillway.ship.orchestrator import ShipResult
from skillway.slash.chat import ASSISTANT_HEADING, CANCELLED_MARK, USER_HEADING, parse_conversation

FLUSH_SECONDS = 0.05  # streamed text is sent in small batches, not one edit per token
_CLOSING: set[asyncio.Task] = set()  # edits finishing a cancelled answer, kept until they are done


class _Appender:
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


def _end_of(doc) -> lsp.Position:
    lines = doc.source.split("\n")
    return lsp.Position(len(lines) - 1, utf16_length(lines[-1]))


class _ChatInterface(EditorInterface):
    """The answer streams into the buffer under an assistant heading, in small batches."""

    def __init__(self, ls: SkillwayServer, typed: str, uri: str, doc) -> None:
        super().__init__(ls, typed)
        self.appender = _Appender(ls, uri, _end_of(doc))
        self.source = doc.source
        self.answer_start: lsp.Position | None = None  # set once the heading is in the buffer
        self.pending: list[str] = []
        self.flushed_at = time.monotonic()

    async def begin_answer(self) -> None:
        await self.appender.append(f"{_separator(self.source)}{ASSISTANT_HEADING}\n\n")
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


class ChatFeature(Feature):
    """`skillway.sendChat`: the conversation in a chat buffer goes to the model; the answer streams in."""

    def commands(self) -> dict[str, tuple[type[Any], CommandHandler]]:
        return {"skillway.sendChat": (str, self.send_chat)}

    async def send_chat(self, uri: str) -> CommandResult:
        ls = self.server
        doc, path = document(ls, uri), path_of(uri)
        session = ls.sessions.for_path(path)[0] if ls.sessions is not None and path is not None else None
        if doc is None or session is None:
            return self._refused("open the chat buffer in a workspace first")
        messages = parse_conversation(doc.source)
        if not messages or messages[-1]["role"] != "user":
            return self._refused(f"write your message under a '{USER_HEADING}' heading first")
        ui = _ChatInterface(ls, messages[-1]["content"], uri, doc)
        try:
            outcome = await run_in_editor(ls, session, messages[-1]["content"], ui,
                                          RunOptions(conversation=tuple(messages[:-1])))
        except asyncio.CancelledError:
            if ui.answer_start is not None:
                ui.close_cancelled()
            raise
        if outcome.ship is not None:  # /ship: the decision is the answer
            return await _ship_answer(ls, session, outcome.ship, uri)
        if outcome.status is Status.FAILED and ui.answer_start is not None:
            # An answer that did not complete is not kept: the buffer says why instead.
            ui.pending.clear()
            await ui.appender.remove_since(ui.answer_start)
            await ui.appender.append(f"_[{outcome.text}]_\n")
        if outcome.status is not Status.ANSWERED:
            return CommandResult.refused(outcome.text)
        await ui.flush()
        await ui.appender.append(f"\n\n{USER_HEADING}\n\n")
        return CommandResult(ok=True)

    def _refused(self, why: str) -> CommandResult:
        self.server.tell(why)
        return CommandResult.refused(why)


def _separator(source: str) -> str:
    """What goes before a new heading at the end of the buffer: one blank line."""
    return "" if source.endswith("\n\n") else "\n" if source.endswith("\n") else "\n\n"


async def _ship_answer(ls: SkillwayServer, session: Session, result: ShipResult, uri: str) -> CommandResult:
    """/ship from a chat buffer: the decision is appended as the answer in one edit, at the end of the
    buffer as it is by then."""
    answer = await present_ship(ls, session, result, show=False)
    doc = document(ls, uri)
    if doc is not None:
        await _Appender(ls, uri, _end_of(doc)).append(
            f"{_separator(doc.source)}{ASSISTANT_HEADING}\n\n{result.document.strip()}\n\n{USER_HEADING}\n\n")
    elif answer.report:  # the buffer was closed meanwhile: the decision opens instead
        await show_document(ls, answer.report)
    return answer

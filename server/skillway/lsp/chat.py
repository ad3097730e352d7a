"""`skillway.sendChat`: the conversation in a chat buffer goes to the model and the answer streams
into the buffer through workspace/applyEdit. Cancelling the command keeps what arrived, marked as
cancelled; only the end of the buffer is ever touched."""

from __future__ import annotations

import asyncio
import contextvars
import time

from lsprotocol import types as lsp

from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.server import SkillwayServer, cancellable

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


def register(server: SkillwayServer) -> None:
    @server.command("skillway.sendChat")
    @cancellable
    async def send_chat(ls: SkillwayServer, *arguments) -> dict:
        from skillway.model.client import Restart, TextDelta
        from skillway.model.errors import ModelError
        from skillway.ship.orchestrator import fan_out_command
        from skillway.slash.chat import ASSISTANT_HEADING, CANCELLED_MARK, USER_HEADING, parse_conversation
        from skillway.slash.prepare import PromptRefused, prepare

        uri = arguments[0] if arguments and isinstance(arguments[0], str) else ""
        doc, path = document(ls, uri), path_of(uri)
        session = ls.sessions.for_path(path)[0] if ls.sessions is not None and path is not None else None
        if doc is None or session is None:
            ls.tell("open the chat buffer in a workspace first")
            return {"ok": False}
        messages = parse_conversation(doc.source)
        if not messages or messages[-1]["role"] != "user":
            ls.tell(f"write your message under a '{USER_HEADING}' heading first")
            return {"ok": False}
        if fan_out_command(session, messages[-1]["content"]) is not None:  # /ship: the decision is the answer
            return await _ship(ls, session, messages[-1]["content"], uri)
        try:
            prepared = await prepare(session, messages[-1]["content"])  # a /command line is expanded here
        except PromptRefused as refused:
            ls.tell(str(refused))
            return {"ok": False, "error": str(refused)}
        messages[-1] = {"role": "user", "content": prepared.text}
        appender = _Appender(ls, uri, _end_of(doc))
        await appender.append(f"{_separator(doc.source)}{ASSISTANT_HEADING}\n\n")
        answer_start, pending, flushed_at = appender.end, [], time.monotonic()

        async def flush() -> None:
            nonlocal flushed_at
            text = "".join(pending)
            pending.clear()
            flushed_at = time.monotonic()
            await appender.append(text)

        session.transcript.append({"role": "user", "content": prepared.text})
        request = session.model_request("chat", messages, model=prepared.model, requires_text=True)
        try:
            async for event in session.model.stream(request):
                if isinstance(event, TextDelta):
                    pending.append(event.text)
                    if time.monotonic() - flushed_at >= FLUSH_SECONDS:
                        await flush()
                elif isinstance(event, Restart):  # the stream failed midway and starts over
                    pending.clear()
                    await appender.remove_since(answer_start)
                else:
                    session.transcript.append(event.response.as_message())
            await flush()
            await appender.append(f"\n\n{USER_HEADING}\n\n")
        except asyncio.CancelledError:
            # The closing edit runs in its own task, in a fresh context: pygls cancels the requests a
            # cancelled request's context sends, and this one must still reach the editor.
            closing = asyncio.get_running_loop().create_task(
                appender.append("".join(pending) + f"\n\n{CANCELLED_MARK}\n"), context=contextvars.Context())
            _CLOSING.add(closing)
            closing.add_done_callback(_CLOSING.discard)
            raise
        except ModelError as error:
            # An answer that did not complete is not kept: the buffer says why instead.
            pending.clear()
            await appender.remove_since(answer_start)
            await appender.append(f"_[{error.message}]_\n")
            ls.action_failed(error)
            return {"ok": False, "error": error.message}
        ls.model_ok()
        return {"ok": True}


def _separator(source: str) -> str:
    """What goes before a new heading at the end of the buffer: one blank line."""
    return "" if source.endswith("\n\n") else "\n" if source.endswith("\n") else "\n\n"


async def _ship(ls: SkillwayServer, session, typed: str, uri: str) -> dict:
    """/ship from a chat buffer: the reviewers run (with their progress), then the decision is appended
    as the answer in one edit, at the end of the buffer as it is by then."""
    from skillway.lsp.ship import ship
    from skillway.slash.chat import ASSISTANT_HEADING, USER_HEADING

    answer, result = await ship(ls, session, typed, show=False)
    doc = document(ls, uri)
    if result is not None and doc is not None:
        await _Appender(ls, uri, _end_of(doc)).append(
            f"{_separator(doc.source)}{ASSISTANT_HEADING}\n\n{result.document.strip()}\n\n{USER_HEADING}\n\n")
    elif result is not None and answer["report"]:  # the buffer was closed meanwhile: the decision opens instead
        from skillway.lsp.actions import show_document

        await show_document(ls, answer["report"])
    return answer

"""`skillway.sendChat`: the conversation in a chat buffer goes through run_prompt, and the answer
streams into the buffer (lsp/buffer.py); a /ship decision is appended as the answer.
`skillway.openSession ID`: a stored session opened as a chat buffer, to go on with there."""

from __future__ import annotations

import asyncio
from typing import Any

from skillway.agent.transcript import Transcript
from skillway.app import stored
from skillway.app.run import RunOptions, Status
from skillway.app.session import Session
from skillway.lsp.buffer import Appender, ChatInterface, end_of, separator
from skillway.lsp.documents import document, path_of
from skillway.lsp.editor import run_in_editor, show_document
from skillway.lsp.feature import CommandHandler, CommandResult, Feature
from skillway.lsp.server import SkillwayServer
from skillway.lsp.sessions import session_for
from skillway.lsp.ship import present_ship
from skillway.ship.orchestrator import ShipResult
from skillway.slash.chat import ASSISTANT_HEADING, USER_HEADING, parse_conversation, render_conversation


class ChatFeature(Feature):
    """`skillway.sendChat`: the conversation in a chat buffer goes to the model; the answer streams in."""

    def commands(self) -> dict[str, tuple[type[Any], CommandHandler]]:
        return {"skillway.sendChat": (str, self.send_chat), "skillway.openSession": (str, self.open_session)}

    async def open_session(self, session_id: str) -> CommandResult:
        """A stored session (print mode's, the terminal's) as a chat buffer in the workspace's
        `.skillway/chats/`, opened in the editor, to go on with there."""
        session = session_for(self.server, None)
        found = stored.find(session.data_dir, session_id) if session is not None else None
        if session is None or found is None:
            return self._refused(f"No conversation found with session ID: {session_id}")
        chat = session.workspace / ".skillway" / "chats" / f"{session_id}.chat.md"
        if not chat.exists():  # an earlier opening may have gone on already: it is kept
            chat.parent.mkdir(parents=True, exist_ok=True)
            chat.write_text(render_conversation(Transcript(found, session_id, session.workspace).conversation()),
                            encoding="utf-8")
        await show_document(self.server, chat.as_uri())
        return CommandResult(ok=True, report=chat.as_uri())

    async def send_chat(self, uri: str) -> CommandResult:
        ls = self.server
        doc, path = document(ls, uri), path_of(uri)
        session = ls.sessions.for_path(path)[0] if ls.sessions is not None and path is not None else None
        if doc is None or session is None:
            return self._refused("open the chat buffer in a workspace first")
        messages = parse_conversation(doc.source)
        if not messages or messages[-1]["role"] != "user":
            return self._refused(f"write your message under a '{USER_HEADING}' heading first")
        ui = ChatInterface(ls, messages[-1]["content"], uri, doc)
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


async def _ship_answer(ls: SkillwayServer, session: Session, result: ShipResult, uri: str) -> CommandResult:
    """/ship from a chat buffer: the decision is appended as the answer in one edit, at the end of the
    buffer as it is by then."""
    answer = await present_ship(ls, session, result, show=False)
    doc = document(ls, uri)
    if doc is not None:
        await Appender(ls, uri, end_of(doc)).append(
            f"{separator(doc.source)}{ASSISTANT_HEADING}\n\n{result.document.strip()}\n\n{USER_HEADING}\n\n")
    elif answer.report:  # the buffer was closed meanwhile: the decision opens instead
        await show_document(ls, answer.report)
    return answer

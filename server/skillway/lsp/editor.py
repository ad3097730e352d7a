"""What the editor does for a run: progress, questions, documents to open, files edited through the
editor, and `EditorInterface`, the run's UserInterface for editor commands."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from lsprotocol import types as lsp

from skillway.app.run import PermissionAsk, QuietInterface, RunOptions, RunOutcome, Status, run_prompt
from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.server import SkillwayServer

PROGRESS_GRACE = 5.0  # seconds the last progress messages may take once the run is over


async def with_progress(ls: SkillwayServer, title: str, work):
    """Run `work` under a `$/progress` begin/end pair when the client shows progress."""
    window = ls.client_capabilities.window if ls.client_capabilities else None
    token = str(uuid.uuid4())
    shown = bool(window and window.work_done_progress)
    if shown:
        try:
            await ls.work_done_progress.create_async(token)
        except Exception:
            shown = False
    if shown:
        ls.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title=title, cancellable=False))
    try:
        return await work
    finally:
        if shown:
            ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd())


async def show_document(ls: SkillwayServer, uri: str) -> None:
    window = ls.client_capabilities.window if ls.client_capabilities else None
    if window and window.show_document and window.show_document.support:
        await ls.window_show_document_async(lsp.ShowDocumentParams(uri=uri, take_focus=True))
    else:
        ls.tell(f"report written to {path_of(uri) or uri}", lsp.MessageType.Info)


async def ask_user(ls: SkillwayServer, question: str) -> bool:
    """A yes/no question in the editor (a tool's "ask" permission); no answer means no."""
    params = lsp.ShowMessageRequestParams(type=lsp.MessageType.Warning, message=f"skillway: {question}",
                                          actions=[lsp.MessageActionItem(title="Allow"), lsp.MessageActionItem(title="Deny")])
    try:
        answer = await ls.window_show_message_request_async(params)
    except Exception:
        return False
    return answer is not None and answer.title == "Allow"


class ReviewerProgress:
    """One `$/progress` per reviewer, fed by the orchestrator's synchronous events. Creating a token
    is a request, so each reviewer's messages go out from a chain of tasks that keeps them in order."""

    def __init__(self, ls: SkillwayServer, command: str) -> None:
        window = ls.client_capabilities.window if ls.client_capabilities else None
        self.ls, self.command = ls, command
        self.shown = bool(window and window.work_done_progress)
        self.tails: dict[str, asyncio.Task] = {}  # reviewer -> the task sending its latest message
        self.begun: dict[str, str] = {}  # reviewer -> its token, from begin until end

    def __call__(self, event) -> None:
        if self.shown:
            self.tails[event.reviewer] = asyncio.ensure_future(self._send(event, self.tails.get(event.reviewer)))

    async def _send(self, event, previous: asyncio.Task | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        progress = self.ls.work_done_progress
        if event.kind == "start":
            token = str(uuid.uuid4())
            try:
                await progress.create_async(token)
            except Exception:
                return
            progress.begin(token, lsp.WorkDoneProgressBegin(title=f"skillway {self.command}: {event.reviewer}",
                                                            cancellable=False))
            self.begun[event.reviewer] = token
        elif event.reviewer in self.begun:
            if event.kind == "retry":
                progress.report(self.begun[event.reviewer], lsp.WorkDoneProgressReport(message=f"retrying once: {event.detail}"))
            elif event.kind == "done":
                progress.end(self.begun.pop(event.reviewer), lsp.WorkDoneProgressEnd(message=event.detail))

    async def finish(self) -> None:
        """Let the messages still on their way go out (the answer must not overtake them), then stop."""
        if self.tails:
            await asyncio.wait(list(self.tails.values()), timeout=PROGRESS_GRACE)
        self.stop()

    def stop(self, message: str = "stopped") -> None:
        """No more messages; every progress still shown ends (a cancelled or failed run says so)."""
        for task in self.tails.values():
            task.cancel()
        for token in self.begun.values():
            self.ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))
        self.begun.clear()


class EditorFiles:
    """The agent's Edit and Write in the editor: they read the editor's (unsaved) text and change
    files through workspace/applyEdit, versioned when the document is open."""

    def __init__(self, ls: SkillwayServer) -> None:
        self.ls = ls

    async def text_of(self, path: Path) -> str | None:
        doc = document(self.ls, path.as_uri())
        return doc.source if doc is not None else None

    async def replace(self, path: Path, text: str) -> bool:
        uri = path.as_uri()
        doc = document(self.ls, uri)
        changes: list[lsp.TextDocumentEdit | lsp.CreateFile]
        if doc is not None:
            lines = doc.source.split("\n")
            end = lsp.Position(len(lines) - 1, utf16_length(lines[-1]))
            versioned = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version)
            whole = lsp.Range(start=lsp.Position(0, 0), end=end)
            changes = [lsp.TextDocumentEdit(text_document=versioned, edits=[lsp.TextEdit(range=whole, new_text=text)])]
        else:  # not open: the editor creates (or overwrites) it
            changes = [lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(overwrite=True)),
                       lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                            edits=[lsp.TextEdit(range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)),
                                                                new_text=text)])]
        result = await self.ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(
            edit=lsp.WorkspaceEdit(document_changes=changes), label="skillway"))
        return bool(result.applied)


class EditorInterface(QuietInterface):
    """A run started from the editor: its progress shows, a person answers its questions, its edits
    go through the editor; a fan-out's reviewers each get their own progress."""

    def __init__(self, ls: SkillwayServer, typed: str) -> None:
        self.ls = ls
        self.editor = EditorFiles(ls)
        words = typed.split()
        self.reviewers = ReviewerProgress(ls, "/" + (words[0].lstrip("/").split(":")[-1] if words else ""))

    async def working(self, title, work):
        return await with_progress(self.ls, title, work)

    def progress(self, event) -> None:
        self.reviewers(event)

    async def ask_permission(self, asked: PermissionAsk) -> bool:
        return await ask_user(self.ls, asked.question)


async def run_in_editor(ls: SkillwayServer, session, typed: str, ui: EditorInterface,
                        options: RunOptions | None = None) -> RunOutcome:
    """`run_prompt` for an editor command: a refusal or a failure is told (a failure every time),
    the run's notices are shown, and its reviewers' progress ends with it."""
    try:
        outcome = await run_prompt(session, typed, ui, options or RunOptions())
    except BaseException:
        ui.reviewers.stop()
        raise
    await ui.reviewers.finish()
    if outcome.status is Status.REFUSED:
        ls.tell(outcome.text)
    elif outcome.status is Status.FAILED:
        ls.action_failed(outcome.error)
    elif outcome.ship is None or not outcome.ship.reviews or any(review.ok for review in outcome.ship.reviews):
        ls.model_ok()  # reviewer failures are in the decision; a key that works again clears the told errors
    for notice in outcome.notices:
        ls.tell(notice, lsp.MessageType.Info)
    return outcome

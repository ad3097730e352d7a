"""/ship in the editor: the `skillway.ship` command, and `/ship` typed through runSlashCommand or in
a chat buffer. skillway runs the reviewers itself (`skillway.ship.orchestrator`); here each reviewer
gets its own `$/progress`, the findings become diagnostics on the lines they name, and the decision
opens as a document."""

from __future__ import annotations

import asyncio
import shlex
import uuid
from pathlib import Path

from lsprotocol import types as lsp

from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.server import SkillwayServer, cancellable
from skillway.lsp.slash import session_for

COMMAND = "skillway.ship"
SOURCE = "skillway-ship"
_SEVERITY = {"critical": lsp.DiagnosticSeverity.Error, "important": lsp.DiagnosticSeverity.Warning,
             "suggestion": lsp.DiagnosticSeverity.Information}
UNREAD_LINE_END = 10_000  # a line whose file cannot be read: clients clamp the end to the line's length
PROGRESS_GRACE = 5.0  # seconds the last progress messages may take once the run is over


def register(server: SkillwayServer) -> None:
    @server.command(COMMAND)
    @cancellable
    async def ship_command(ls: SkillwayServer, *arguments) -> dict:
        from skillway.ship.terminal import command_name

        spec = arguments[0] if arguments and arguments[0] is not None else {}
        try:
            words = _words(spec)
        except ValueError as problem:
            ls.tell(f"{COMMAND}: {problem}")
            return {"ok": False, "error": str(problem)}
        session = session_for(ls, spec.get("uri"))
        if session is None:
            ls.tell("/ship needs an open workspace folder")
            return {"ok": False, "error": "no workspace session yet"}
        answer, _ = await ship(ls, session, f"/{command_name(session)} {shlex.join(words)}".strip())
        return answer


def _words(spec) -> list[str]:
    """`{"base"?, "acceptRisk"?}` as the words of `/ship [base] [--accept-risk TEXT]...`."""
    if not isinstance(spec, dict):
        raise ValueError('takes one object: {"base"?: ref, "acceptRisk"?: text or [texts], "uri"?: uri}')
    base, risks = spec.get("base"), spec.get("acceptRisk") or []
    if base is not None and not isinstance(base, str):
        raise ValueError('"base" must be a git ref (a string)')
    if spec.get("uri") is not None and not isinstance(spec["uri"], str):
        raise ValueError('"uri" must be the URI of a file in the workspace')
    risks = [risks] if isinstance(risks, str) else risks
    if not isinstance(risks, list) or not all(isinstance(risk, str) for risk in risks):
        raise ValueError('"acceptRisk" must be a text or a list of texts')
    return ([base.strip()] if base and base.strip() else []) + [word for risk in risks for word in ("--accept-risk", risk)]


async def ship(ls: SkillwayServer, session, typed: str, *, show: bool = True):
    """Run the /ship command `typed`: progress, diagnostics, the decision written as a report (and
    opened when `show`). Returns (the command's answer, the ShipResult or None when it did not run)."""
    from skillway.model.errors import ModelError
    from skillway.reports import write_report
    from skillway.ship.orchestrator import ShipError, run_ship
    from skillway.slash.prepare import PromptRefused

    progress = ReviewerProgress(ls, "/" + typed.split()[0].lstrip("/").split(":")[-1])
    try:
        try:
            result = await run_ship(session, typed, on_event=progress)
        except BaseException:
            progress.stop()
            raise
        await progress.finish()
    except (ShipError, PromptRefused) as refused:
        ls.tell(str(refused))
        return {"ok": False, "error": str(refused)}, None
    except ModelError as error:  # the API cannot serve the reviewers: said once, and no decision
        ls.action_failed(error)
        return {"ok": False, "error": error.message}, None
    if not result.reviews or any(review.ok for review in result.reviews):
        ls.model_ok()  # reviewer failures are in the decision; a key that works again clears the told errors
    await publish_findings(ls, result)
    for notice in result.notices:
        ls.tell(notice, lsp.MessageType.Info)
    answer = {"ok": True, "decision": result.verdict, "complete": result.gate_passed, "report": None,
              "findings": len(result.decision.findings) if result.decision else 0}
    if result.verdict == "NOTHING":  # no decision to keep: a message says so
        if show:
            ls.tell(result.document.strip(), lsp.MessageType.Info)
        return answer, result
    if not result.gate_passed:
        ls.tell(f"the ship gate refused the decision, so it counts as NO-GO: {result.gate_reasons or 'no reason given'}")
    try:
        answer["report"] = write_report(session.workspace, "ship", "/ship decision", result.document).as_uri()
    except OSError as exc:
        ls.tell(f"/ship decided {result.verdict}, but the decision could not be written: {exc}")
        return answer, result
    if show:
        from skillway.lsp.actions import show_document

        await show_document(ls, answer["report"])
    return answer, result


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
            except Exception:  # noqa: BLE001 - progress is a courtesy; the review goes on without it
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


async def publish_findings(ls: SkillwayServer, result) -> None:
    """The decision's findings as diagnostics on the lines they name, replacing the previous run's in
    the same repository. Findings without a file, or naming one outside the repository, are skipped."""
    if result.change is None:
        return
    root = Path(result.change.root).resolve()
    decision = result.decision
    accepted = {finding for finding, _ in decision.accepted} if decision else set()
    placed = []
    for finding in decision.findings if decision else []:
        if finding.file.strip() in ("", "?"):
            continue
        path = (root / finding.file).resolve()
        if path.is_relative_to(root):  # a path from a model never leaves its root
            placed.append((finding, path))
    lines = {}  # the editor's text where the file is open, else the file's, read off the event loop
    for _, path in placed:
        doc = document(ls, path.as_uri())
        if doc is not None:
            lines[path] = doc.lines
    lines.update(await asyncio.to_thread(_read_lines, {path for _, path in placed} - lines.keys()))
    by_uri: dict[str, list[lsp.Diagnostic]] = {}
    for finding, path in placed:
        message = f"[{', '.join(finding.reviewers)}] {finding.message}" + (" (risk accepted)" if finding in accepted else "")
        by_uri.setdefault(path.as_uri(), []).append(lsp.Diagnostic(
            range=_line_range(lines[path], finding.line - 1), message=message,
            severity=_SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Warning), source=SOURCE))

    def in_repository(uri: str) -> bool:
        path = path_of(uri)
        return path is not None and path.is_relative_to(root)

    ls.diagnostics.replace(ls, SOURCE, by_uri, within=in_repository)


def _read_lines(paths) -> dict[Path, list[str] | None]:
    lines = {}
    for path in paths:
        try:
            lines[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines[path] = None
    return lines


def _line_range(lines: list[str] | None, line: int) -> lsp.Range:
    """The whole of 0-based `line`. A line past the end is the last line: a diagnostic there would be
    invisible (or refused) in some editors."""
    if lines is None:
        return lsp.Range(start=lsp.Position(line, 0), end=lsp.Position(line, UNREAD_LINE_END))
    line = max(0, min(line, len(lines) - 1))
    text = lines[line].rstrip("\r\n") if lines else ""
    return lsp.Range(start=lsp.Position(line, 0), end=lsp.Position(line, utf16_length(text)))

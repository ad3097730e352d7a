"""/ship in the editor: the `skillway.ship` command, and `/ship` typed through runSlashCommand or in
a chat buffer. skillway runs the reviewers itself (`skillway.ship.orchestrator`); here each reviewer
gets its own `$/progress`, the findings become diagnostics on the lines they name, and the decision
opens as a document."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types as lsp

from skillway.app.session import Session
from skillway.core.reports import write_report
from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.editor import EditorInterface, run_in_editor, show_document
from skillway.lsp.feature import CommandHandler, CommandResult, Feature, Texts, arguments
from skillway.lsp.server import SkillwayServer
from skillway.lsp.sessions import session_for
from skillway.ship.orchestrator import ShipResult
from skillway.ship.summary import command_name

COMMAND = "skillway.ship"
SOURCE = "skillway-ship"
_SEVERITY = {"critical": lsp.DiagnosticSeverity.Error, "important": lsp.DiagnosticSeverity.Warning,
             "suggestion": lsp.DiagnosticSeverity.Information}
UNREAD_LINE_END = 10_000  # a line whose file cannot be read: clients clamp the end to the line's length


@arguments
@attrs.frozen
class ShipParams:
    base: str | None = None  # the git ref to compare with (the default branch when left out)
    accept_risk: Texts = ()  # critical findings accepted, each by a text that names it
    uri: str | None = None  # a file of the repository, when the editor has several folders


class ShipFeature(Feature):
    """The `skillway.ship` command: /ship on the workspace's change."""

    def commands(self) -> dict[str, tuple[type[Any], CommandHandler]]:
        return {COMMAND: (ShipParams, self.ship)}

    async def ship(self, params: ShipParams) -> CommandResult:
        ls = self.server
        session = session_for(ls, params.uri)
        if session is None:
            ls.tell("/ship needs an open workspace folder")
            return CommandResult.refused("no workspace session yet")
        words = ([params.base.strip()] if params.base and params.base.strip() else []) + [
            word for risk in params.accept_risk for word in ("--accept-risk", risk)]
        typed = f"/{command_name(session)} {shlex.join(words)}".strip()
        outcome = await run_in_editor(ls, session, typed, EditorInterface(ls, typed))
        if outcome.ship is None:
            return CommandResult.refused(outcome.text)
        return await present_ship(ls, session, outcome.ship)


async def present_ship(ls: SkillwayServer, session: Session, result: ShipResult, *, show: bool = True) -> CommandResult:
    """A fan-out's result in the editor: its findings as diagnostics, its decision written as a report
    (opened when `show`). Returns the command's answer."""
    await publish_findings(ls, result)
    answer = CommandResult(ok=True, decision=result.verdict, complete=result.gate_passed,
                           findings=len(result.decision.findings) if result.decision else 0)
    if result.verdict == "NOTHING":  # no decision to keep: a message says so
        if show:
            ls.tell(result.document.strip(), lsp.MessageType.Info)
        return answer
    if not result.gate_passed:
        ls.tell(f"the ship gate refused the decision, so it counts as NO-GO: {result.gate_reasons or 'no reason given'}")
    try:
        report = write_report(session.workspace, "ship", "/ship decision", result.document).as_uri()
    except OSError as exc:
        ls.tell(f"/ship decided {result.verdict}, but the decision could not be written: {exc}")
        return answer
    if show:
        await show_document(ls, report)
    return attrs.evolve(answer, report=report)


async def publish_findings(ls: SkillwayServer, result) -> None:
    """The decision's findings as diagnostics on the lines they name, replacing the previous run's in
    the same repository. Findings without a file, or naming one outside the repository, are skipped."""
    if result.change is None:
        return
    root = await asyncio.to_thread(Path(result.change.root).resolve)
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

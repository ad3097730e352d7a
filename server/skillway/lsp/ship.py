"""/ship in the editor: the `skillway.ship` command, and `/ship` typed through runSlashCommand or in
a chat buffer. skillway runs the reviewers itself (`skillway.ship.orchestrator`); here each reviewer
gets its own `$/progress`, the findings become diagnostics (lsp/findings.py), and the decision opens
as a document."""

from __future__ import annotations

import shlex
from typing import Any

import attrs
from lsprotocol import types as lsp

from skillway.app.session import Session
from skillway.core.reports import write_report
from skillway.lsp.editor import EditorInterface, run_in_editor, show_document
from skillway.lsp.feature import CommandHandler, CommandResult, Feature, Texts, arguments
from skillway.lsp.findings import publish_findings
from skillway.lsp.server import SkillwayServer
from skillway.lsp.sessions import session_for
from skillway.ship.orchestrator import ShipResult
from skillway.ship.summary import command_name

COMMAND = "skillway.ship"


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

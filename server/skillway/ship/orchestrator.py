"""/ship run by skillway itself: the change is computed, and unless it may skip the review every
reviewer of the command's `fan-out` starts at once, as a read-only sub-agent with the diff. A reviewer
that fails is retried once. The merged decision ends the turn, and the Stop hooks judge it exactly as
they judge any agent's /ship turn; the gate records what it let through in the ship ledger.

A run the API cannot serve at all is not a decision: a cause known up front (no credentials, a quota
used up) stops it before any reviewer starts, and a reviewer meeting one that no retry or other
reviewer gets past (a refused connection, rejected credentials, billing, a spend limit) stops the
others. Either way the ModelError is raised, once, and nothing is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skillway.agent import tools as agent_tools
from skillway.agent.loop import AgentLoop, AgentResult, add_usage
from skillway.agent.transcript import Transcript
from skillway.core.secrets import is_secret_file
from skillway.hooks.engine import StopGuard
from skillway.model.errors import ModelError
from skillway.model.templates import render  # jinja2 itself is imported on the first render
from skillway.plugins.catalog import UnknownName
from skillway.ship import rules
from skillway.ship.decision import Decision, Review, decide
from skillway.ship.rules import Change, ChangeError
from skillway.slash.prepare import prepare

log = logging.getLogger(__name__)

REVIEWER_TOOLS = ["Read", "Grep", "Glob"]
REVIEWER_TIMEOUT = 900.0  # seconds for one reviewer's whole run (all its turns)
DIFF_BUDGET = 60_000  # characters of diff in a reviewer's prompt; the rest it reads with its tools
# ModelError kinds that fail every reviewer alike: the first one met stops the whole run, unretried.
RUN_FAULTS = frozenset({"no_credentials", "authentication", "billing", "spend_cap", "quota", "connection"})


class ShipError(Exception):
    """/ship cannot run here (no repository, an unknown base ref, bad arguments): the message says why."""


@dataclass(frozen=True)
class ShipRequest:
    base: str | None = None
    accept_risks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShipEvent:
    kind: str  # start | retry | done
    reviewer: str
    detail: str = ""


@dataclass
class ShipResult:
    verdict: str  # GO | NO-GO | NOTHING (no change to judge)
    document: str
    change: Change | None = None
    decision: Decision | None = None
    reviews: list[Review] = field(default_factory=list)
    skipped: bool = False
    gate_passed: bool = False
    gate_reasons: str = ""
    record: dict | None = None  # the ledger entry the gate wrote for this turn
    fan_out_seconds: float = 0.0
    usage: AgentResult = field(default_factory=AgentResult)
    notices: list[str] = field(default_factory=list)


def parse_arguments(text: str) -> ShipRequest:
    """`[base-ref] [--accept-risk TEXT]...`"""
    try:
        base, risks = rules.parse_arguments(text)
    except ValueError as exc:
        raise ShipError(f"cannot read the arguments: {exc}") from None
    return ShipRequest(base, risks)


def fan_out_command(session, typed: str):
    """The command `typed` runs when it declares a `fan-out` (skillway orchestrates it), else None."""
    if not typed.startswith("/"):
        return None
    try:
        entry = session.catalog.resolve_command(typed[1:].split(maxsplit=1)[0] if typed[1:].strip() else "")
    except UnknownName:
        return None
    return entry if entry.kind == "command" and entry.item.fan_out else None


async def run_ship(session, typed: str, *, on_event: Callable[[ShipEvent], None] | None = None,
                   on_message: Callable[[dict], None] | None = None,
                   reviewer_timeout: float = REVIEWER_TIMEOUT) -> ShipResult:
    """Run the /ship command `typed` (`/ship main --accept-risk ...`) in `session`.

    Raises ShipError when it cannot run, PromptRefused when a UserPromptSubmit hook refuses it, and
    ModelError when the API cannot serve the reviewers (see RUN_FAULTS): no decision then.
    """
    entry = fan_out_command(session, typed)
    if entry is None:
        raise ShipError(f"{typed.split()[0]} is not a command with reviewers (a `fan-out` list)")
    request = parse_arguments(typed[1:].partition(" ")[2])
    if session.ship_lock.locked():  # its turn would interleave with the other's in the one transcript the gate reads
        raise ShipError("a /ship is already running in this workspace; wait for its decision")
    async with session.ship_lock:
        return await _run(session, typed, entry, request, on_event, on_message, reviewer_timeout)


async def _run(session, typed: str, entry, request: ShipRequest, on_event, on_message,
               reviewer_timeout: float) -> ShipResult:
    try:
        change = await asyncio.to_thread(rules.compute_change, session.workspace, request.base)
    except ChangeError as exc:
        raise ShipError(str(exc)) from None
    if change.empty:
        return ShipResult("NOTHING", f"Nothing to ship: no change against {change.base}.\n", change)
    skipped = change.may_skip()
    if not skipped:
        session.model.preflight("agent")  # no credentials, a quota used up: said once, before any reviewer
    prepared = await prepare(session, typed)
    lead = _ShipLead(session, on_event, on_message, reviewer_timeout)
    lead.append({"role": "user", "content": f"{prepared.text}\n\n{rules.stamp(change, request.accept_risks)}"})
    started = time.monotonic()
    reviews = [] if skipped else await lead.fan_out(entry, change)
    fan_out_seconds = time.monotonic() - started
    try:
        commits = await asyncio.to_thread(rules.commits, change)
        uncommitted = await asyncio.to_thread(rules.has_uncommitted, change)
    except ChangeError as exc:
        raise ShipError(str(exc)) from None
    decision = decide(change, reviews, request.accept_risks, skipped=skipped, commits=commits, uncommitted=uncommitted)
    lead.append({"role": "assistant", "id": _id("msg_"), "content": [{"type": "text", "text": decision.document}]})
    outcome = await lead.stop(decision.document)
    gate_passed = not (outcome.blocked or outcome.stop)
    result = ShipResult(decision.verdict if gate_passed else "NO-GO", decision.document, change, decision, reviews,
                        skipped, gate_passed, outcome.reason or outcome.stop_reason or "", usage=lead.usage,
                        fan_out_seconds=fan_out_seconds, notices=outcome.system_messages + outcome.warnings)
    if not gate_passed:
        result.document += "\n> The ship gate refused this decision, so it counts as NO-GO:\n" + "\n".join(
            "> " + line for line in result.gate_reasons.splitlines()) + "\n"
    result.record = await asyncio.to_thread(_recorded, change, session.session_id)
    if result.record is None:
        result.notices.append("the ship gate recorded nothing for this change (is python3 on PATH?); "
                              "skillway ship --check will not see this decision")
    return result


def _recorded(change: Change, session_id: str) -> dict | None:
    records = [r for r in rules.read_records(change.root)
               if r.get("session_id") == session_id and r.get("diff_sha256") == change.digest]
    return records[-1] if records else None


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


class _ShipLead:
    """The lead of a /ship turn, played by skillway instead of a model: its Agent calls, their hooks
    and results, and its Stop go through an agent loop's public interface like any other agent's;
    the loop's Agent tool is `review` (a reviewer, retried once, its findings kept)."""

    def __init__(self, session, on_event, on_message, reviewer_timeout: float) -> None:
        # A transcript of its own: a chat or another command in the same session cannot interleave
        # with the turn the gate reads. Its hooks are told this path.
        transcript = Transcript(session.transcript.path.with_suffix("") / f"ship-{uuid.uuid4().hex[:16]}.jsonl",
                                session.session_id, session.workspace)
        self.loop = AgentLoop(session, tools=["Agent"], subagent_tools=REVIEWER_TOOLS, on_message=on_message,
                              transcript=transcript, run_agent=self.review,
                              hook_fields={"transcript_path": str(transcript.path)})  # its own, not the session's
        self.on_event = on_event or (lambda event: None)
        self.reviewer_timeout = reviewer_timeout
        self.reviews: dict[str, Review] = {}
        self.usage = AgentResult()
        self.messages: list[dict] = []

    def append(self, message: dict) -> None:
        self.loop.append(self.messages, message)

    async def fan_out(self, entry, change: Change) -> list[Review]:
        """Every reviewer at once, as Agent calls of ONE assistant message."""
        names = list(entry.item.fan_out)
        agents = {e.qualified for e in self.loop.context.catalog.agents}
        prompt = reviewer_prompt(change, names)
        calls = [{"type": "tool_use", "id": _id("toolu_"), "name": "Agent", "input": {
            "description": f"{name} review of the change", "prompt": prompt,
            "subagent_type": entry.plugin.qualified(name) if entry.plugin.qualified(name) in agents else name}}
            for name in names]
        self.append({"role": "assistant", "id": _id("msg_"), "content": [
            {"type": "text", "text": f"Starting {len(names)} reviewers at once on {change.describe()}."}, *calls]})
        tasks = [asyncio.ensure_future(self.loop.use_tool(call, self.usage)) for call in calls]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:  # a fault stops them all; so does cancelling this run
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        fault = next((task.exception() for task in tasks if not task.cancelled() and task.exception()), None)
        if fault is not None:
            for name in names:
                if name not in self.reviews:
                    self.on_event(ShipEvent("done", name, "stopped"))
            raise fault
        results = [task.result() for task in tasks]
        self.append({"role": "user", "content": list(results)})
        reviews = []
        for name, result in zip(names, results, strict=True):
            review = self.reviews.get(name)
            if review is None or (result.get("is_error") and review.ok):  # refused before it ran, or by a hook after
                review = Review(name, error=str(result.get("content") or "no report"), attempts=0)
            reviews.append(review)
        return reviews

    async def stop(self, decision: str):
        """The turn ends on the decision: the Stop hooks judge it."""
        return await self.loop.fire_stop(StopGuard(), decision)

    async def review(self, tool_input: dict, parent: AgentResult) -> str:
        """The lead's Agent tool: the reviewer the call names, with a timeout, retried once."""
        entry = self.loop.persona(tool_input)
        name = rules.reviewer_name(entry.qualified)
        self.on_event(ShipEvent("start", name))
        started, reason = time.monotonic(), ""
        for attempt in (1, 2):
            if attempt == 2:
                self.on_event(ShipEvent("retry", name, reason))
            try:
                async with asyncio.timeout(self.reviewer_timeout):
                    result = await self.loop.run_subagent(entry, str(tool_input.get("prompt", "")))
            except ModelError as error:
                if error.kind.value in RUN_FAULTS:
                    raise  # no retry, no other reviewer gets past it: fan_out stops the run
                reason = error.message
                continue
            except TimeoutError:
                reason = f"no report within {self.reviewer_timeout:g} s"
                continue
            except (OSError, RuntimeError, ValueError) as error:  # e.g. its transcript cannot be written
                log.warning("reviewer %s failed", name, exc_info=True)
                reason = f"{type(error).__name__}: {error}"
                continue
            add_usage(parent, result)
            findings = rules.findings_of(result.text)
            if findings is None:
                reason = f"its report did not end with the findings block (it stopped: {result.stop_reason})"
                continue
            review = Review(name, result.text, tuple(findings), None, attempt, time.monotonic() - started)
            self.reviews[name] = review
            self.on_event(ShipEvent("done", name, review.counts()))
            return result.text
        review = Review(name, error=reason, attempts=2, seconds=time.monotonic() - started)
        self.reviews[name] = review
        self.on_event(ShipEvent("done", name, f"failed: {reason}"))
        raise agent_tools.ToolError(f"{name} failed twice: {reason}")


def reviewer_prompt(change: Change, reviewers: list[str], budget: int = DIFF_BUDGET) -> str:
    diff, omitted = diff_for_review(change, budget)
    sensitive = {name: ", ".join(rules.sensitive_areas(name)) for name in change.files if rules.sensitive_areas(name)}
    return render("ship-reviewer.md.j2", reviewers=reviewers, base=change.base,
                  merge_base=change.merge_base[:12], files=list(change.files), added=change.added,
                  removed=change.removed, sensitive=sensitive, omitted=omitted, diff=diff)


_PATH_LINES = ("rename from ", "rename to ", "copy from ", "copy to ", "--- a/", "+++ b/")


def _paths_of(chunk: str) -> set[str]:
    """Every path one file's diff names: its header's, and the exact ones of its rename and ---/+++ lines
    (a header alone is ambiguous when a path holds " b/")."""
    head = chunk.split("\n@@", 1)[0].split("\nGIT binary patch", 1)[0]
    first, *lines = head.split("\n")
    paths = {first.rsplit(" b/", 1)[-1], first.removeprefix("diff --git a/").split(" b/", 1)[0]}
    return paths | {line.split(prefix, 1)[1].rstrip("\t") for line in lines for prefix in _PATH_LINES
                    if line.startswith(prefix)}


def diff_for_review(change: Change, budget: int) -> tuple[str, list[str]]:
    """The diff as reviewers see it: secrets files and binary content left out, sensitive files
    first when it does not all fit in `budget` characters; (text, the files left out)."""
    pieces = []
    for chunk in change.diff.decode("utf-8", "replace").split("\ndiff --git "):
        chunk = chunk if chunk.startswith("diff --git ") else "diff --git " + chunk
        header = chunk.split("\n", 1)[0]
        name = header.rsplit(" b/", 1)[-1]
        if any(is_secret_file(Path(change.root, path)) for path in _paths_of(chunk)):
            chunk = f"{header}\n(a secrets file changed; its content is not shown)"
        elif "\nGIT binary patch\n" in chunk:
            chunk = chunk.split("\nGIT binary patch\n", 1)[0] + "\n(binary content changed)"
        pieces.append((name, chunk))
    text = "\n".join(chunk for _, chunk in pieces)
    if len(text) <= budget:
        return text, []
    ordered = sorted(pieces, key=lambda piece: not rules.sensitive_areas(piece[0]))
    kept, omitted, used = [], [], 0
    for name, chunk in ordered:
        if used + len(chunk) <= budget:
            kept.append(chunk)
            used += len(chunk) + 1
        else:
            omitted.append(name)
    return "\n".join(kept), omitted

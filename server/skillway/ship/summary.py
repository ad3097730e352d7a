"""A /ship result as data (for `skillway ship --json`, print mode and the editor), and the name of
the ship command in a session."""

from __future__ import annotations

from typing import Any

from skillway.agent.context import RunContext
from skillway.ship.orchestrator import ShipResult, fan_out_command


def command_name(session: RunContext) -> str:
    """The ship command to run: `/ship` when that name is unambiguous, else the bundled one."""
    entry = fan_out_command(session, "/ship")
    return entry.qualified if entry is not None else "skillway:ship"


def summary(result: ShipResult) -> dict[str, Any]:
    """The decision as data, for CI (`skillway ship --json`) and print mode."""
    change, decision = result.change, result.decision
    return {
        "decision": result.verdict,
        "outcome": "failed" if decision is not None and decision.failed else "verdict",
        "complete": result.gate_passed,
        "skipped": result.skipped,
        "base": change.base if change else None,
        "merge_base": change.merge_base if change else None,
        "diff_sha256": change.digest if change else None,
        "files": list(change.files) if change else [],
        "lines": change.lines if change else 0,
        "blockers": decision.blockers if decision else [],
        "findings": [{"severity": f.severity, "file": f.file, "line": f.line, "message": f.message,
                      "reviewers": list(f.reviewers)} for f in (decision.findings if decision else [])],
        "accepted_risks": [{"file": f.file, "line": f.line, "message": f.message, "accepted_with": text}
                           for f, text in (decision.accepted if decision else [])],
        "reviewers": [{"name": r.reviewer, "ok": r.ok, "attempts": r.attempts, "seconds": round(r.seconds, 3),
                       "error": r.error, "findings": len(r.findings)} for r in result.reviews],
        "gate": {"passed": result.gate_passed, "reasons": result.gate_reasons, "recorded": result.record is not None},
        "fan_out_seconds": round(result.fan_out_seconds, 3),
        "usage": {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens,
                  "total_cost_usd": round(result.usage.cost_usd, 6)},
        "document": result.document,
    }

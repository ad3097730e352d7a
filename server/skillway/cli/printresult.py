"""The last thing print mode prints: the `result` event in the shape `claude -p` gives it (the JSON
output, and the stream's final line), with the exit code that goes with it."""

from __future__ import annotations

import uuid
from typing import Any

from skillway.app.run import RunOutcome, Status
from skillway.ship.summary import summary as ship_summary

EXIT_OK, EXIT_ERROR, EXIT_BLOCKED = 0, 1, 2
# How an answered run that did not do its task ended (AgentResult.stop_reason), as Claude Code's subtype.
_ERROR_SUBTYPES = {"max_turns": "error_max_turns", "budget": "error_max_budget_usd",
                   "structured_output_retries": "error_max_structured_output_retries"}


def result_event(outcome: RunOutcome, session_id: str, seconds: float, index: int = 0,
                 session_cost: float | None = None) -> tuple[int, dict[str, Any]]:
    """(exit code, result event) of a run that took `seconds`: the `index`th turn of the process, whose
    turns have cost `session_cost` so far (Claude Code's total_cost_usd sums them)."""
    result = outcome.result
    code, subtype = EXIT_OK, "success"
    if outcome.status is not Status.ANSWERED:
        code, subtype = (EXIT_BLOCKED if outcome.blocked else EXIT_ERROR), "error_during_execution"
    elif result is not None and result.stop_reason in _ERROR_SUBTYPES:
        code, subtype = EXIT_ERROR, _ERROR_SUBTYPES[result.stop_reason]
    event: dict[str, Any] = {
        "type": "result",
        "subtype": subtype,
        "is_error": code != EXIT_OK,
        "result": outcome.text,
        # --json-schema: what the StructuredOutput call was given (`result` holds it as JSON text)
        **({"structured_output": result.structured_output} if result and result.structured_output is not None else {}),
        "session_id": session_id,
        "num_turns": result.turns if result else 0,
        "duration_ms": round(seconds * 1000),
        "duration_api_ms": round(result.api_ms) if result else 0,
        "total_cost_usd": round(session_cost if session_cost is not None else result.cost_usd if result else 0.0, 6),
        "usage": {"input_tokens": result.input_tokens if result else 0,
                  "output_tokens": result.output_tokens if result else 0,
                  "cache_creation_input_tokens": result.cache_write_tokens if result else 0,
                  "cache_read_input_tokens": result.cache_read_tokens if result else 0},
        "stop_reason": result.stop_reason if result else None,
        "permission_denials": [],
        "result_index": index,
        "uuid": str(uuid.uuid4()),
    }
    if result is not None and result.errors:  # a run that gave up on its task says why, and has no result
        del event["result"]
        event["errors"] = list(result.errors)
    if outcome.ship is not None:
        event["ship"] = ship_summary(outcome.ship)
    return code, event

"""What hooks decided: one handler's output read per the contract, and all handlers merged.

Exit 0 with JSON (first non-blank character `{`) or plain text; exit 2 blocks; any other exit is a
warning, unless a valid JSON object on stdout decides. Legacy output shapes are accepted with a
warning naming the plugin, so that its author can fix it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from skillway.plugins.model import HookEvent

# Plain stdout joins the model's context only for these events; elsewhere it is just logged.
# Events whose plain stdout is read (PreCompact's adds to the compaction's instructions, as in Claude Code).
PLAIN_TEXT_CONTEXT_EVENTS = frozenset({HookEvent.SESSION_START, HookEvent.USER_PROMPT_SUBMIT, HookEvent.PRE_COMPACT})
# Exit 2 or `decision: block` stops the action for these; elsewhere the reason is only shown.
# (PermissionRequest's exit 2 decides nothing, as in Claude Code: only its JSON decision answers the prompt.)
BLOCKABLE_EVENTS = frozenset({HookEvent.PRE_TOOL_USE, HookEvent.POST_TOOL_USE, HookEvent.USER_PROMPT_SUBMIT, HookEvent.STOP,
                              HookEvent.SUBAGENT_STOP})
DECISION_EVENTS = frozenset({HookEvent.USER_PROMPT_SUBMIT, HookEvent.POST_TOOL_USE, HookEvent.STOP, HookEvent.SUBAGENT_STOP})
_PERMISSION_RANK = {"allow": 1, "ask": 2, "deny": 3}


@dataclass
class HandlerReport:
    """One handler's run, as `hooks run --json` shows it."""

    label: str
    plugin: str
    exit_code: int | None
    duration: float
    timed_out: bool
    started: float
    ended: float
    run_async: bool = False


@dataclass
class HookOutcome:
    event: HookEvent | str
    blocked: bool = False
    reasons: list[str] = field(default_factory=list)  # why it blocked (deny, exit 2, decision: block)
    ask_reasons: list[str] = field(default_factory=list)  # PreToolUse "ask": what to tell the user when asking
    stop: bool = False  # `continue: false`: the whole turn ends
    stop_reason: str | None = None
    permission: str | None = None  # PreToolUse: allow | ask | deny, merged deny > ask > allow; PermissionRequest: allow | deny
    interrupt: bool = False  # PermissionRequest deny with `interrupt: true`: the whole run stops
    additional_context: list[str] = field(default_factory=list)
    context_plugins: list[str] = field(default_factory=list)  # the plugin behind each additional_context item
    system_messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    updated_input: dict | None = None
    handlers: list[HandlerReport] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        return "\n".join(self.reasons) if self.reasons else None

    def to_json(self) -> dict:
        return {
            "event": self.event,
            "blocked": self.blocked,
            "reason": self.reason,
            "continue": not self.stop,
            "stop_reason": self.stop_reason,
            "permission_decision": self.permission,
            "ask_reason": "\n".join(self.ask_reasons) or None,
            "additional_context": self.additional_context,
            "system_messages": self.system_messages,
            "warnings": self.warnings,
            "updated_input": self.updated_input,
            "handlers": [
                {"hook": h.label, "plugin": h.plugin, "exit_code": h.exit_code, "duration_ms": round(h.duration * 1000, 1),
                 "timed_out": h.timed_out, "async": h.run_async}
                for h in self.handlers
            ],
        }


def read_output(outcome: HookOutcome, plugin: str, label: str, exit_code: int | None, stdout: str, stderr: str,
                timed_out: bool, timeout: float) -> None:
    """Fold one handler's result into `outcome`."""
    event = outcome.event
    if timed_out:
        outcome.warnings.append(f"{label}: timed out after {timeout:g} s; its output is ignored")
        return
    data, json_problem = _json_object(stdout)
    if exit_code == 2:
        if data is not None and data.get("continue") is False:
            _stop(outcome, data)  # `continue: false` wins over everything, exit 2 included
        reason = (data or {}).get("reason") if isinstance((data or {}).get("reason"), str) else None
        _block(outcome, reason or stderr.strip() or f"{label} exited with code 2", shown_to_user=event not in BLOCKABLE_EVENTS)
        return
    if data is not None:
        _read_json(outcome, plugin, label, data)
        return
    if exit_code != 0:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no error output"
        what = "command not found" if exit_code == 127 else f"exited with code {exit_code}"
        outcome.warnings.append(f"{label}: {what}: {detail}")
        return
    if json_problem:
        outcome.warnings.append(f"{label}: output starts with '{{' but is not valid JSON ({json_problem}); it is ignored")
        return
    text = stdout.strip()
    if text and event in PLAIN_TEXT_CONTEXT_EVENTS:
        outcome.additional_context.append(text)


def _json_object(stdout: str) -> tuple[dict | None, str | None]:
    text = stdout.strip()
    if not text.startswith("{"):
        return None, None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, exc.msg
    return (data, None) if isinstance(data, dict) else (None, "not an object")


def _block(outcome: HookOutcome, reason: str, *, shown_to_user: bool) -> None:
    if shown_to_user:  # SessionStart, SessionEnd and others cannot block: the user sees why it tried
        outcome.system_messages.append(reason)
        return
    outcome.blocked = True
    outcome.reasons.append(reason)
    if outcome.event in (HookEvent.PRE_TOOL_USE, HookEvent.PERMISSION_REQUEST):
        _permission(outcome, "deny")


def _permission(outcome: HookOutcome, decision: str) -> None:
    if _PERMISSION_RANK.get(decision, 0) > _PERMISSION_RANK.get(outcome.permission or "", 0):
        outcome.permission = decision


def _stop(outcome: HookOutcome, data: dict) -> None:
    outcome.stop = True
    stop_reason = data.get("stopReason")
    if isinstance(stop_reason, str) and stop_reason:
        outcome.stop_reason = "\n".join(filter(None, [outcome.stop_reason, stop_reason]))


def _read_json(outcome: HookOutcome, plugin: str, label: str, data: dict) -> None:
    event = outcome.event
    if data.get("continue") is False:
        _stop(outcome, data)
    if isinstance(data.get("systemMessage"), str) and data["systemMessage"]:
        outcome.system_messages.append(data["systemMessage"])

    decision = data.get("decision")
    reason = data.get("reason") if isinstance(data.get("reason"), str) else None
    if event == HookEvent.PRE_TOOL_USE and decision in ("approve", "block"):
        outcome.warnings.append(f'{label}: "decision: {decision}" is a legacy form for PreToolUse; '
                                "use hookSpecificOutput.permissionDecision")
        if decision == "block":
            _block(outcome, reason or f"blocked by {label}", shown_to_user=False)
        else:
            _permission(outcome, "allow")
    elif decision == "block":
        _block(outcome, reason or f"blocked by {label}", shown_to_user=event not in DECISION_EVENTS)

    specific = data.get("hookSpecificOutput")
    if isinstance(specific, dict):
        if specific.get("hookEventName") != event:
            outcome.warnings.append(f'{label}: hookSpecificOutput.hookEventName must be "{event}"; it is ignored')
        else:
            _read_specific(outcome, label, specific)

    # Legacy shapes seen in real plugins: the text is used, with a warning naming the plugin.
    for key in ("additionalContext", "additional_context"):
        if isinstance(data.get(key), str):
            outcome.additional_context.append(data[key])
            outcome.warnings.append(f'plugin "{plugin}": top-level "{key}" is a legacy output shape; '
                                    "use hookSpecificOutput.additionalContext")
    if "message" in data and "priority" in data and isinstance(data["message"], str):
        outcome.additional_context.append(data["message"])
        outcome.warnings.append(f'plugin "{plugin}": {{"priority", "message"}} is a legacy output shape; '
                                "use hookSpecificOutput.additionalContext")


def _read_specific(outcome: HookOutcome, label: str, specific: dict) -> None:
    context = specific.get("additionalContext")
    if isinstance(context, str) and context:
        outcome.additional_context.append(context)
    if outcome.event == HookEvent.PERMISSION_REQUEST:
        _read_permission_decision(outcome, label, specific.get("decision"))
    if outcome.event != HookEvent.PRE_TOOL_USE:
        return
    decision = specific.get("permissionDecision")
    reason = specific.get("permissionDecisionReason")
    if decision == "deny":
        outcome.blocked = True
        outcome.reasons.append(reason if isinstance(reason, str) and reason else f"denied by {label}")
    if decision in _PERMISSION_RANK:
        _permission(outcome, decision)
        if decision == "ask" and isinstance(reason, str) and reason:
            outcome.ask_reasons.append(reason)
    elif decision is not None:
        outcome.warnings.append(f'{label}: permissionDecision must be "allow", "deny" or "ask", not {decision!r}')
    if isinstance(specific.get("updatedInput"), dict):
        outcome.updated_input = specific["updatedInput"]


def _read_permission_decision(outcome: HookOutcome, label: str, decision: object) -> None:
    """PermissionRequest's answer to the permission prompt: `{behavior: allow, updatedInput?}` or
    `{behavior: deny, message?, interrupt?}`. Without one, the prompt is left to the user."""
    if decision is None:
        return
    behavior = decision.get("behavior") if isinstance(decision, dict) else None
    if not isinstance(decision, dict) or behavior not in ("allow", "deny"):
        outcome.warnings.append(f'{label}: hookSpecificOutput.decision must be {{"behavior": "allow"}} or '
                                f'{{"behavior": "deny"}}; it is ignored')
        return
    if behavior == "deny":
        message = decision.get("message")
        _block(outcome, message if isinstance(message, str) and message else "Permission denied by hook",
               shown_to_user=False)
        outcome.interrupt = outcome.interrupt or decision.get("interrupt") is True
        return
    _permission(outcome, "allow")
    if isinstance(decision.get("updatedInput"), dict):
        outcome.updated_input = decision["updatedInput"]

"""Hooks for people (text) and programs (JSON): what `skillway hooks list|run` print."""

from __future__ import annotations

from skillway.hooks.outcome import HookOutcome
from skillway.hooks.registry import RegisteredHook
from skillway.plugins.model import HookEvent

# The input field a hook's matcher is tested against, per event.
MATCH_FIELDS = {
    HookEvent.PRE_TOOL_USE: "tool_name", HookEvent.POST_TOOL_USE: "tool_name", HookEvent.POST_TOOL_USE_FAILURE: "tool_name",
    HookEvent.PERMISSION_REQUEST: "tool_name", HookEvent.SESSION_START: "source", HookEvent.SESSION_END: "reason",
    HookEvent.SUBAGENT_START: "agent_type", HookEvent.SUBAGENT_STOP: "agent_type", HookEvent.NOTIFICATION: "notification_type",
}
DEFAULT_FIELDS: dict[str, dict[str, object]] = {
    HookEvent.SESSION_START: {"source": "startup"}, HookEvent.SESSION_END: {"reason": "other"},
    HookEvent.STOP: {"stop_hook_active": False}, HookEvent.USER_PROMPT_SUBMIT: {"prompt": ""}}


def hook_rows(hooks: list[RegisteredHook], may_run) -> list[dict]:
    return [
        {"event": h.event, "matcher": h.matcher.source, "plugin": h.plugin.name, "source": h.plugin.source.value,
         "type": h.handler.type, "command": h.handler.command, "args": list(h.handler.args) if h.handler.args else None,
         "timeout": h.handler.timeout, "async": h.handler.run_async, "trusted": may_run(h), "file": h.origin}
        for h in hooks
    ]


def hook_rows_text(rows: list[dict]) -> str:
    if not rows:
        return "no hooks"
    lines = []
    for row in rows:
        command = row["command"] + (" " + " ".join(row["args"]) if row["args"] else "")
        state = "" if row["trusted"] else "  [not run: workspace not trusted]"
        lines.append(f"{row['event']} [{row['matcher'] or '*'}] {row['plugin']} ({row['source']}): {command}{state}")
    return "\n".join(lines)


def outcome_text(outcome: HookOutcome) -> str:
    lines = [f"{outcome.event}: {'BLOCKED' if outcome.blocked else 'not blocked'}"
             + (" (continue: false)" if outcome.stop else "")]
    if outcome.permission:
        lines.append(f"permission: {outcome.permission}")
    if outcome.reason:
        lines.append("reason: " + outcome.reason)
    if outcome.stop_reason:
        lines.append("stop reason: " + outcome.stop_reason)
    for title, items in (("context", outcome.additional_context), ("message", outcome.system_messages),
                         ("warning", outcome.warnings)):
        lines += [f"{title}: {item}" for item in items]
    for handler in outcome.handlers:
        code = "timed out" if handler.timed_out else f"exit {handler.exit_code}"
        lines.append(f"  {handler.label}: {code} in {handler.duration * 1000:.0f} ms")
    return "\n".join(lines)

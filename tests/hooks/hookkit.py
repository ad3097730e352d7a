"""Helpers for hook tests: real plugin folders with real hook scripts, and a session to fire them in."""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path

from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings

ABSENT = object()  # a matcher group with no "matcher" key

# Minimal event fields per event, and the value its matcher is tested against.
EVENT_FIELDS: dict[str, tuple[dict, str | None]] = {
    "PreToolUse": ({"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "toolu_1"}, "Bash"),
    "PostToolUse": ({"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "toolu_1",
                     "tool_response": {"stdout": "a\nb\n", "stderr": "", "interrupted": False}}, "Bash"),
    "UserPromptSubmit": ({"prompt": "hello"}, None),
    "Stop": ({"stop_hook_active": False, "last_assistant_message": "Done."}, None),
    "SubagentStop": ({"stop_hook_active": False, "agent_id": "agent-1", "agent_type": "general-purpose",
                      "agent_transcript_path": "/nonexistent/agent-1.jsonl", "last_assistant_message": "Done."},
                     "general-purpose"),
    "SessionStart": ({"source": "startup"}, "startup"),
    "SessionEnd": ({"reason": "other"}, "other"),
}


def write_script(path: Path, body: str, shebang: str = "#!/bin/sh") -> Path:
    """An executable script at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{shebang}\n{body.strip()}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def sh(path: Path, body: str) -> str:
    """Write a shell script; return a command that runs it."""
    return shlex.quote(str(write_script(path, body)))


def py(path: Path, body: str) -> str:
    """Write a python3 script; return a command that runs it."""
    return shlex.quote(str(write_script(path, body, "#!/usr/bin/env python3")))


def emits(path: Path, output: dict | str, *, code: int = 0, stderr: str = "") -> str:
    """A shell script printing `output` (JSON when a dict) on stdout and `stderr` on stderr, exiting `code`."""
    text = json.dumps(output) if isinstance(output, dict) else output
    body = f"cat <<'SKILLWAY_EOF'\n{text}\nSKILLWAY_EOF\n"
    if stderr:
        body += f"cat >&2 <<'SKILLWAY_EOF'\n{stderr}\nSKILLWAY_EOF\n"
    return sh(path, body + f"exit {code}")


def command(cmd: str, **fields) -> dict:
    return {"type": "command", "command": cmd, **fields}


def group(*handlers: dict, matcher=ABSENT) -> dict:
    entry: dict = {"hooks": list(handlers)}
    if matcher is not ABSENT:
        entry["matcher"] = matcher
    return entry


def make_plugin(root: Path, name: str, hooks: dict[str, list[dict]]) -> Path:
    """A plugin folder: `.claude-plugin/plugin.json` and `hooks/hooks.json` with `hooks`."""
    (root / ".claude-plugin").mkdir(parents=True, exist_ok=True)
    (root / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": name, "version": "1.0.0"}), encoding="utf-8")
    (root / "hooks").mkdir(parents=True, exist_ok=True)
    (root / "hooks" / "hooks.json").write_text(json.dumps({"hooks": hooks}, indent=2), encoding="utf-8")
    return root


def open_session(workspace: Path, *plugin_dirs: Path, settings: Settings | None = None) -> Session:
    workspace.mkdir(parents=True, exist_ok=True)
    settings = settings or Settings()
    plugins = discover(workspace, settings, list(plugin_dirs), include_bundled=False)
    errors = [p.format() for p in plugins.all_problems() if p.is_error]
    assert not errors, errors
    return Session(workspace, plugins, settings)


async def fire(session: Session, event: str, fields: dict | None = None, match: str | object | None = ABSENT):
    """Fire `event` with its default fields (overridden by `fields`) and its default match value."""
    default_fields, default_match = EVENT_FIELDS.get(event, ({}, None))
    return await session.hooks.fire(event, {**default_fields, **(fields or {})},
                                    match=default_match if match is ABSENT else match)


def summary(outcome) -> dict:
    """Every decision an outcome carries, warnings and handlers aside."""
    return {
        "blocked": outcome.blocked, "reason": outcome.reason, "permission": outcome.permission,
        "ask_reason": "\n".join(outcome.ask_reasons) or None,
        "stop": outcome.stop, "stop_reason": outcome.stop_reason,
        "additional_context": outcome.additional_context, "system_messages": outcome.system_messages,
        "updated_input": outcome.updated_input,
    }


# The summary of an outcome in which no hook decided or said anything.
NOTHING = {"blocked": False, "reason": None, "permission": None, "ask_reason": None, "stop": False, "stop_reason": None,
           "additional_context": [], "system_messages": [], "updated_input": None}


# --- processes ---------------------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text.rsplit(")", 1)[1].split()  # [state, ppid, pgrp, ...]


def running(pid: int) -> bool:
    """True while `pid` is a live process. A zombie is not: it has exited, only its parent has not reaped it
    (in some containers PID 1 never reaps orphans)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


def wait_gone(pids: list[int], pgid: int | None = None, within: float = 1.0) -> list[int]:
    """The processes still alive after up to `within` seconds (a SIGKILL is delivered, not instant)."""
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in pids if running(pid)] + (group_members(pgid) if pgid else [])
        if not left or time.monotonic() > deadline:
            return sorted(set(left))
        time.sleep(0.02)

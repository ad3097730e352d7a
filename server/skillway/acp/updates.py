"""A conversation's messages as an ACP client shows them: text and thought chunks, tool calls (kind,
title, locations, a diff for Edit and Write) and their results. The same mapping serves a live
turn and a stored session played back by `session/load`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp import (
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_tool_call,
    update_user_message_text,
)
from acp.schema import ToolCallLocation, ToolCallProgress, ToolCallStart, ToolKind

KINDS: dict[str, ToolKind] = {"Read": "read", "Edit": "edit", "Write": "edit", "Bash": "execute", "Glob": "search",
                              "Grep": "search", "WebFetch": "fetch", "WebSearch": "fetch", "Agent": "think",
                              "Task": "think", "ToolSearch": "search"}
RESULT_CHARS = 20_000  # of a tool's result shown in the editor (the model gets all of it)


def kind_of(name: str) -> ToolKind:
    return KINDS.get(name, "other")


def title_of(name: str, tool_input: dict[str, Any]) -> str:
    """What the editor's tool card says: `Read src/app.py`, `` `npm test` ``, `server: tool`."""
    if name == "Bash":
        return f"`{tool_input.get('command', '')}`"
    if name in ("Read", "Edit", "Write"):
        return f"{name} {tool_input.get('file_path', '')}"
    if name in ("Glob", "Grep"):
        return f"{'Find' if name == 'Glob' else 'Search'} {tool_input.get('pattern', '')}"
    if name in ("Agent", "Task"):
        return f"Agent {tool_input.get('subagent_type', '')}: {tool_input.get('description', '')}".rstrip(": ")
    if name == "Skill":
        return f"Skill {tool_input.get('skill', '')}"
    if name.startswith("mcp__"):
        server, _, tool = name[len("mcp__"):].partition("__")
        return f"{server}: {tool}"
    return name


def _absolute(workspace: Path, path: object) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    return str(Path(path) if Path(path).is_absolute() else workspace / path)


def tool_call_start(block: dict[str, Any], workspace: Path, *, live: bool) -> ToolCallStart:
    """A `tool_use` block as a tool call. `live`: it has not run yet, so a Write's diff is against the
    file as it is now; a stored one's file has changed since, so its diff shows the new text only."""
    name, tool_input = str(block.get("name", "")), block.get("input") or {}
    path = _absolute(workspace, tool_input.get("file_path"))
    content = []
    if path is not None and name == "Edit":
        content = [tool_diff_content(path, str(tool_input.get("new_string", "")), str(tool_input.get("old_string", "")))]
    elif path is not None and name == "Write":
        content = [tool_diff_content(path, str(tool_input.get("content", "")), _old_text(Path(path)) if live else None)]
    return start_tool_call(str(block.get("id", "")), title_of(name, tool_input), kind=kind_of(name), status="pending",
                           content=content or None, locations=[ToolCallLocation(path=path)] if path else None,
                           raw_input=tool_input)


def _old_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def tool_call_done(block: dict[str, Any]) -> ToolCallProgress:
    """A `tool_result` block as the end of its tool call."""
    text = text_of(block.get("content"))
    shown = text if len(text) <= RESULT_CHARS else text[:RESULT_CHARS] + f"\n… {len(text) - RESULT_CHARS} more characters"
    return update_tool_call(str(block.get("tool_use_id", "")), status="failed" if block.get("is_error") else "completed",
                            content=[tool_content(text_block(shown))] if shown else None, raw_output=text)


def text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def live_updates(message: dict[str, Any], workspace: Path) -> list[Any]:
    """What a message added during a turn shows, beyond the text already streamed: its thinking, its
    tool calls, the results of earlier ones."""
    return _updates(message, workspace, live=True)


def replayed_updates(message: dict[str, Any], workspace: Path) -> list[Any]:
    """A stored message, all of it: the person's prompt, the answer's text, its tool calls and results."""
    return _updates(message, workspace, live=False)


def _updates(message: dict[str, Any], workspace: Path, *, live: bool) -> list[Any]:
    content = message.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content if isinstance(content, list) else []
    updates: list[Any] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if message.get("role") == "assistant":
            if kind == "thinking" and block.get("thinking"):
                updates.append(update_agent_thought_text(str(block["thinking"])))
            elif kind == "text" and block.get("text") and not live:
                updates.append(update_agent_message_text(str(block["text"])))
            elif kind == "tool_use":
                updates.append(tool_call_start(block, workspace, live=live))
        elif kind == "tool_result":
            updates.append(tool_call_done(block))
        elif kind == "text" and block.get("text") and not live and not message.get("isSynthetic"):
            updates.append(update_user_message_text(str(block["text"])))
    return updates

"""The lines of print mode's `--output-format stream-json`, in the shapes `claude -p` prints them: the
`system`/`init` line of each turn, one `assistant` line per content block of an answer (its
`stop_reason` still null, as Claude Code prints a block as soon as it is complete), and a `user`
line per message of tool results. The prompt itself is not printed back."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from skillway import __version__


def init_line(session, model: str, tools: list[str], permission_mode: str) -> dict[str, Any]:
    catalog = session.catalog
    return {"type": "system", "subtype": "init", "cwd": str(session.workspace), "session_id": session.session_id,
            "tools": tools, "mcp_servers": [{"name": s["name"], "status": s["status"]} for s in session.mcp.status()],
            "model": model, "permissionMode": permission_mode,
            "slash_commands": [entry.qualified for entry in catalog.commands],
            "apiKeySource": "ANTHROPIC_API_KEY" if os.environ.get("ANTHROPIC_API_KEY") else "none",
            "skillway_version": __version__, "output_style": "default",
            "agents": [entry.qualified for entry in catalog.agents],
            "skills": [entry.qualified for entry in catalog.commands if entry.kind == "skill"],
            "plugins": [{"name": p.name, "path": str(p.root), "source": p.source.value} for p in session.plugins.plugins
                        if p.loaded],
            "uuid": str(uuid.uuid4()), "transcript_path": str(session.transcript.path)}


def message_lines(message: dict, session_id: str) -> list[dict[str, Any]]:
    """The lines one message of the conversation prints as: none for a prompt; a message skillway
    adds itself (the reminder to call StructuredOutput) is marked `isSynthetic`, as Claude Code marks it."""
    common = {"parent_tool_use_id": None, "session_id": session_id}
    content = message.get("content")
    if message.get("isSynthetic"):
        return [{"type": "user", "message": {"role": "user", "content": content}, **common, "uuid": str(uuid.uuid4()),
                 "isSynthetic": True}]
    if message.get("role") == "assistant":
        blocks = content if isinstance(content, list) else [{"type": "text", "text": str(content)}]
        return [{"type": "assistant", "message": {
            "id": message.get("id"), "type": "message", "role": "assistant", "model": message.get("model"),
            "content": [block], "stop_reason": None, "stop_sequence": None, "usage": message.get("usage")},
            **common, "uuid": str(uuid.uuid4())} for block in blocks]
    if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        return [{"type": "user", "message": {"role": "user", "content": content}, **common, "uuid": str(uuid.uuid4())}]
    return []


def system_line(event: dict, session_id: str) -> dict[str, Any] | None:
    """The line of an event of the agent loop other than a streaming event: a switch to the fallback
    model (`model_fallback`), a request about to be sent (`status` requesting)."""
    if event["type"] == "model_fallback":
        return {"type": "system", "subtype": "model_fallback", "uuid": str(uuid.uuid4()),
                **{key: event[key] for key in ("trigger", "original_model", "fallback_model", "content")},
                "session_id": session_id}
    if event["type"] == "requesting":
        return {"type": "system", "subtype": "status", "status": "requesting", "session_id": session_id,
                "uuid": str(uuid.uuid4())}
    return None


class PartialMessages:
    """`--include-partial-messages`: each streaming event of an answer as a `stream_event` line, and
    each content block's `assistant` line as soon as the block is complete (just before its
    content_block_stop), as Claude Code prints them; the answer's own lines are then not printed again."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.json: dict[int, list[str]] = {}

    def lines(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        kind, index = raw.get("type"), raw.get("index")
        lines: list[dict[str, Any]] = []
        if kind == "message_start":
            self.message, self.blocks, self.json = dict(raw.get("message") or {}), {}, {}
        elif kind == "content_block_start" and isinstance(index, int):
            self.blocks[index] = dict(raw.get("content_block") or {})
        elif kind == "content_block_delta" and index in self.blocks:
            self._add(index, raw.get("delta") or {})
        elif kind == "content_block_stop" and index in self.blocks:
            lines.append(self._assistant(index))
        line = {"type": "stream_event", "event": raw, "session_id": self.session_id, "parent_tool_use_id": None,
                "uuid": str(uuid.uuid4())}
        if self.message.get("id"):
            line["api_message_id"] = self.message["id"]
        return [*lines, line]

    def _add(self, index: int, delta: dict[str, Any]) -> None:
        block = self.blocks[index]
        if delta.get("type") == "text_delta":
            block["text"] = block.get("text", "") + delta.get("text", "")
        elif delta.get("type") == "input_json_delta":
            self.json.setdefault(index, []).append(delta.get("partial_json", ""))
        elif delta.get("type") == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
        elif delta.get("type") == "signature_delta":
            block["signature"] = delta.get("signature", "")

    def _assistant(self, index: int) -> dict[str, Any]:
        block = self.blocks[index]
        if index in self.json:
            text = "".join(self.json.pop(index))
            try:
                block["input"] = json.loads(text) if text.strip() else {}
            except ValueError:
                block["input"] = {}
        message = self.message
        return {"type": "assistant", "message": {
            "id": message.get("id"), "type": "message", "role": "assistant", "model": message.get("model"),
            "content": [block], "stop_reason": None, "stop_sequence": None, "usage": message.get("usage")},
            "parent_tool_use_id": None, "session_id": self.session_id, "uuid": str(uuid.uuid4())}

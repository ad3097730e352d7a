"""The lines of print mode's `--output-format stream-json`, in the shapes `claude -p` prints them: the
`system`/`init` line of each turn, one `assistant` line per content block of an answer (its
`stop_reason` still null, as Claude Code prints a block as soon as it is complete), and a `user`
line per message of tool results. The prompt itself is not printed back."""

from __future__ import annotations

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
    """The lines one message of the conversation prints as: none for a prompt."""
    common = {"parent_tool_use_id": None, "session_id": session_id}
    content = message.get("content")
    if message.get("role") == "assistant":
        blocks = content if isinstance(content, list) else [{"type": "text", "text": str(content)}]
        return [{"type": "assistant", "message": {
            "id": message.get("id"), "type": "message", "role": "assistant", "model": message.get("model"),
            "content": [block], "stop_reason": None, "stop_sequence": None, "usage": message.get("usage")},
            **common, "uuid": str(uuid.uuid4())} for block in blocks]
    if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        return [{"type": "user", "message": {"role": "user", "content": content}, **common, "uuid": str(uuid.uuid4())}]
    return []

"""A session's transcript: one JSON line per API message, in the shape Claude Code writes.

Hooks receive its path (`transcript_path`) and read it, so the file exists from the session's start.
A sub-agent writes its own file beside it (`agent_transcript_path`).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from skillway.core.secrets import redact


class Transcript:
    def __init__(self, path: Path, session_id: str, cwd: Path) -> None:
        self.path = path
        self.session_id = session_id
        self.cwd = cwd
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        if path.stat().st_size:  # a last line a crash cut off must not swallow the next one
            with path.open("rb+") as stream:
                stream.seek(-1, os.SEEK_END)
                if stream.read(1) != b"\n":
                    stream.write(b"\n")
        records = self.records()
        self.last_uuid: str | None = records[-1].get("uuid") if records else None  # a resumed one goes on its chain

    def append(self, message: dict) -> str:
        """Append one API message (`{"role": ..., "content": ...}`, an assistant one with its `id`)."""
        line_id = str(uuid.uuid4())
        record = {
            "type": "assistant" if message.get("role") == "assistant" else "user",
            "message": message,
            "uuid": line_id,
            "parentUuid": self.last_uuid,
            "sessionId": self.session_id,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "cwd": str(self.cwd),
        }
        text = redact(json.dumps(record, ensure_ascii=False))
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(text + "\n")
        self.last_uuid = line_id
        return line_id

    def subagent(self, agent_id: str) -> Transcript:
        """The transcript of a sub-agent started in this session."""
        return Transcript(self.path.with_suffix("") / "subagents" / f"agent-{agent_id}.jsonl", self.session_id, self.cwd)

    def records(self) -> list[dict]:
        """Every line written so far; a line that is not a JSON object (cut off by a crash) is left out."""
        records = []
        with self.path.open(encoding="utf-8", errors="replace") as stream:
            for line in stream:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and (isinstance(record.get("message"), dict) or record.get("type") == "system"):
                    records.append(record)
        return records

    def messages(self) -> list[dict]:
        """The API messages written so far, in order."""
        return [record["message"] for record in self.records() if "message" in record]

    def append_boundary(self, trigger: str, tokens_before: int) -> None:
        """Mark a compaction: the conversation to send again starts after it (everything before stays
        in the file), as Claude Code's `compact_boundary` line marks it."""
        line_id = str(uuid.uuid4())
        record = {"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted",
                  "uuid": line_id, "parentUuid": None, "logicalParentUuid": self.last_uuid,
                  "sessionId": self.session_id, "cwd": str(self.cwd),
                  "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                  "compactMetadata": {"trigger": trigger, "preTokens": tokens_before}}
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
        self.last_uuid = line_id

    def conversation(self) -> list[dict]:
        """The messages to send again when the session goes on, as the model saw them (role and content
        only), from the last compaction on; an answer whose tool calls never got their results (the
        run was cut off) is left out, as the API would refuse it."""
        records = self.records()
        boundaries = [i for i, record in enumerate(records) if record.get("subtype") == "compact_boundary"]
        since = records[boundaries[-1] + 1:] if boundaries else records
        messages = [{"role": m["role"], "content": m["content"]} for r in since if isinstance(m := r.get("message"), dict)
                    and m.get("role") in ("user", "assistant") and "content" in m]
        while messages and messages[-1]["role"] == "assistant" and _calls_tools(messages[-1]):
            messages.pop()
        return messages


def _calls_tools(message: dict) -> bool:
    content = message["content"]
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content)

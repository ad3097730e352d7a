"""A session's transcript: one JSON line per API message, in the shape Claude Code writes.

Hooks receive its path (`transcript_path`) and read it, so the file exists from the session's start.
A sub-agent writes its own file beside it (`agent_transcript_path`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from skillway.core.secrets import redact


class Transcript:
    def __init__(self, path: Path, session_id: str, cwd: Path) -> None:
        self.path = path
        self.session_id = session_id
        self.cwd = cwd
        self.last_uuid: str | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)

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

    def messages(self) -> list[dict]:
        """The API messages written so far, in order."""
        with self.path.open(encoding="utf-8") as stream:
            return [json.loads(line)["message"] for line in stream if line.strip()]

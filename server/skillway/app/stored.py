"""Stored sessions: every session's transcript, found again by id (from any workspace, as Claude
Code's `--resume` finds it) or as a workspace's latest, summed up for `skillway sessions list`, and
forked into a new session that starts from a copy of it."""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from skillway.agent.transcript import Transcript
from skillway.model.prices import estimate_cost

TITLE_LENGTH = 80
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def project_slug(workspace: Path) -> str:
    """The folder a workspace's transcripts are kept in, named as Claude Code names it."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(workspace))


def is_session_id(text: str) -> bool:
    """Whether `text` is a UUID, as Claude Code checks a session id (any 8-4-4-4-12 hex digits)."""
    return bool(_UUID.match(text))


def transcripts_dir(data_dir: Path) -> Path:
    return data_dir / "transcripts"


def find(data_dir: Path, session_id: str) -> Path | None:
    """The transcript of the session `session_id`, whichever workspace it ran in."""
    if not is_session_id(session_id):
        return None
    found = sorted(transcripts_dir(data_dir).glob(f"*/{session_id}.jsonl"))
    return found[0] if found else None


def latest(data_dir: Path, workspace_slug: str) -> str | None:
    """The id of the workspace's session written to last, or None when it has none with anything in it."""
    folder = transcripts_dir(data_dir) / workspace_slug
    stored = [p for p in folder.glob("*.jsonl") if is_session_id(p.stem) and p.stat().st_size > 0] if folder.is_dir() else []
    return max(stored, key=lambda p: p.stat().st_mtime_ns).stem if stored else None


def fork(source: Path, new_id: str) -> Path:
    """A new session's transcript beside `source`, holding a copy of its lines under the new id (the
    original is left as it is), as Claude Code's `--fork-session` makes it."""
    target = source.with_name(f"{new_id}.jsonl")
    lines = []
    for record in Transcript(source, "", Path()).records():
        record["sessionId"] = new_id
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_text("".join(lines), encoding="utf-8")
    os.replace(temporary, target)
    return target


class SessionRefused(Exception):
    """The session asked for cannot be had (Claude Code's words say why); nothing has started."""


def choose(data_dir: Path, workspace: Path, *, resume: str | None = None, continue_latest: bool = False,
           session_id: str | None = None, fork_session: bool = False) -> tuple[str | None, Path | None, bool]:
    """(the session's id, the transcript it goes on writing, whether it resumes one), as Claude Code
    decides them from --resume, --continue, --session-id and --fork-session."""
    if session_id is not None and not is_session_id(session_id):
        raise SessionRefused("Invalid session ID. Must be a valid UUID.")
    if (resume is not None or continue_latest) and session_id and not fork_session:
        raise SessionRefused("--session-id with --continue or --resume also needs --fork-session.")
    source: Path | None = None
    if resume is not None:
        source = find(data_dir, resume)
        if source is None:
            raise SessionRefused(f"No conversation found with session ID: {resume}" if is_session_id(resume)
                                 else f'--resume needs a session ID: "{resume}" is not a UUID')
    elif continue_latest:
        found = latest(data_dir, project_slug(workspace.resolve()))
        source = find(data_dir, found) if found else None  # none yet: a new session, as Claude Code starts one
    if session_id and find(data_dir, session_id) is not None:
        raise SessionRefused(f"Session ID {session_id} is already in use.")
    if source is None:
        return session_id, None, False
    if fork_session:
        new_id = session_id or new_session_id()
        return new_id, fork(source, new_id), True
    return source.stem, source, True


@dataclass(frozen=True)
class StoredSession:
    id: str
    workspace: str
    started: str  # the first line's timestamp
    updated: str  # the last line's
    turns: int  # the prompts a person sent
    input_tokens: int
    output_tokens: int
    cost_usd: float
    title: str  # the first prompt, cut short

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "workspace": self.workspace, "started": self.started, "updated": self.updated,
                "turns": self.turns, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost_usd": round(self.cost_usd, 6), "title": self.title}


def list_sessions(data_dir: Path, workspace_slug: str | None = None) -> list[StoredSession]:
    """Every stored session (or a workspace's), the one written to last first."""
    folder = transcripts_dir(data_dir)
    paths = [p for p in folder.glob(f"{workspace_slug or '*'}/*.jsonl") if is_session_id(p.stem)] if folder.is_dir() else []
    summaries = [found for path in paths if (found := summary(path)) is not None]
    return sorted(summaries, key=lambda s: s.updated, reverse=True)


def summary(path: Path) -> StoredSession | None:
    """One stored session summed up; None when nothing is in it yet."""
    records = Transcript(path, path.stem, Path()).records()
    if not records:
        return None
    messages = [record["message"] for record in records if "message" in record]
    prompts = [text for message in messages if (text := _prompt_text(message)) is not None]
    tokens_in = tokens_out = 0
    cost = 0.0
    for message in messages:
        usage = message.get("usage") if message.get("role") == "assistant" else None
        if not isinstance(usage, dict):
            continue
        counts = [int(usage.get(key) or 0) for key in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                                        "cache_read_input_tokens")]
        tokens_in += counts[0] + counts[2] + counts[3]
        tokens_out += counts[1]
        cost += estimate_cost(str(message.get("model") or ""), counts[0], counts[1], counts[2], counts[3]) or 0.0
    title = " ".join(prompts[0].split())[:TITLE_LENGTH] if prompts else ""
    return StoredSession(path.stem, str(records[0].get("cwd") or ""), str(records[0].get("timestamp") or ""),
                         str(records[-1].get("timestamp") or ""), len(prompts), tokens_in, tokens_out, cost, title)


def _prompt_text(message: dict[str, object]) -> str | None:
    """What a person typed, when `message` is a prompt (not a tool result, not an answer)."""
    if message.get("role") != "user" or message.get("compact_summary"):
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        return texts[-1] if texts else None  # attachments come first; the prompt is the last text
    return None


def new_session_id() -> str:
    return str(uuid.uuid4())

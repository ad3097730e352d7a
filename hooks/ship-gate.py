#!/usr/bin/env python3
"""Stop hook of the skillway plugin: a /ship turn may end only when the fan-out really happened.

Standard library only, so it runs under skillway and under Claude Code. It reads the Stop input on
stdin, then the turn in the transcript (both shapes: one line per message, or one line per content
block sharing a message id). It blocks (exit 2, the reason on stderr) unless every reviewer named in
the ship command's `fan-out` was started in ONE assistant message, every report came back, the
decision has its sections, a GO has a rollback plan and no critical finding it did not accept - or
the change is small enough to skip the review.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

SECTIONS = ("### Blockers", "### Recommended fixes", "### Acknowledged risks", "### Rollback plan", "### Specialist reports")
DECISION = re.compile(r"^## Ship Decision: (GO|NO-GO)\s*$", re.MULTILINE)
SHIP_MARKERS = ("<command-name>/ship", "<!-- skillway:ship -->")
SENSITIVE = re.compile(r"auth|login|password|payment|billing|invoice|data.?access|repositor|(^|/)db(/|$)|database|"
                       r"migration|config|settings|(^|/)\.?env|secret|credential", re.IGNORECASE)
FENCED_JSON = re.compile(r"```json\s*\n(.*?)\n```", re.DOTALL)


def reviewers_from(ship_command: Path) -> list:
    text = ship_command.read_text(encoding="utf-8") if ship_command.is_file() else ""
    match = re.search(r"^fan-out:\s*\[(.*?)\]\s*$", text, re.MULTILINE)
    return [name.strip().strip("'\"") for name in match.group(1).split(",") if name.strip()] if match else []


def load_messages(path: Path) -> list:
    """API messages in order; lines sharing an assistant message id are one message."""
    messages = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        message = record.get("message")
        if record.get("type") not in ("user", "assistant") or not isinstance(message, dict):
            continue
        content = message.get("content")
        content = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        last = messages[-1] if messages else None
        if last and message.get("id") and last.get("id") == message.get("id"):
            last["content"] += content
        else:
            messages.append({"role": message.get("role", record["type"]), "id": message.get("id"), "content": content})
    return messages


def text_of(message: dict) -> str:
    return "\n".join(b.get("text", "") for b in message["content"] if b.get("type") == "text")


def result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def section(decision: str, title: str) -> str:
    start = decision.find(title)
    if start < 0:
        return ""
    rest = decision[start + len(title):]
    following = [rest.find(t) for t in SECTIONS + ("\n## ",) if rest.find(t) >= 0]
    return rest[: min(following)] if following else rest


def problems(messages: list, reviewers: list) -> list:
    """What is missing from the last /ship turn; [] when it may end (or when it is not one)."""
    starts = [i for i, m in enumerate(messages) if m["role"] == "user" and any(k in text_of(m) for k in SHIP_MARKERS)]
    if not starts:
        return []
    turn = messages[starts[-1] + 1:]
    calls = {}  # reviewer -> (message index, tool_use id)
    for index, message in enumerate(turn):
        for block in message["content"] if message["role"] == "assistant" else ():
            if block.get("type") == "tool_use" and block.get("name") in ("Agent", "Task"):
                kind = str(block.get("input", {}).get("subagent_type", "")).split(":")[-1]
                if kind in reviewers and kind not in calls:
                    calls[kind] = (index, block.get("id"))
    found = []
    missing = [r for r in reviewers if r not in calls]
    if missing:
        found.append("these reviewers were never started: " + ", ".join(missing))
    if len({index for index, _ in calls.values()}) > 1:
        found.append("the reviewers were started in separate messages; start all of them with Agent calls in ONE "
                     "message so that they run in parallel")
    results = {b.get("tool_use_id"): result_text(b) for m in turn if m["role"] == "user"
               for b in m["content"] if b.get("type") == "tool_result"}
    silent = [r for r, (_, call_id) in calls.items() if not results.get(call_id, "").strip()]
    if silent:
        found.append("no report came back from: " + ", ".join(silent))
    replies = [text_of(m) for m in turn if m["role"] == "assistant" and DECISION.search(text_of(m))]
    if not replies:
        return found + ["there is no '## Ship Decision: GO' or '## Ship Decision: NO-GO' section"]
    decision = replies[-1]
    absent = [title for title in SECTIONS if title not in decision]
    if absent:
        found.append("the decision lacks its sections: " + ", ".join(absent))
    if DECISION.search(decision).group(1) == "GO":
        if not section(decision, "### Rollback plan").strip(" \n-*_"):
            found.append("a GO needs a rollback plan under '### Rollback plan'")
        accepted = section(decision, "### Acknowledged risks").lower()
        for reviewer, (_, call_id) in calls.items():
            for finding in findings(results.get(call_id, "")):
                if finding.get("severity") == "critical" and str(finding.get("message", "")).lower()[:40] not in accepted:
                    where = f"{finding.get('file', '?')}:{finding.get('line', '?')}"
                    found.append(f"critical finding from {reviewer} is neither fixed nor accepted: {where} "
                                 f"{finding.get('message', '')} (make it NO-GO, or accept the risk explicitly)")
    return found


def findings(report: str) -> list:
    found = []
    for block in FENCED_JSON.findall(report):
        try:
            value = json.loads(block)
        except ValueError:
            continue
        found += [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    return found


def small_change(cwd: str) -> bool:
    """The skip rule: at most 2 files, fewer than 50 changed lines, nothing sensitive."""
    def git(*args):
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        return done.stdout if done.returncode == 0 else None

    base = None
    for ref in ("@{upstream}", "main", "master"):
        base = git("merge-base", "HEAD", ref)
        if base:
            break
    stats = (git("diff", "--numstat", base.strip()) if base else git("diff", "--numstat", "HEAD")) or ""
    files, lines = [], 0
    for row in stats.splitlines():
        added, removed, name = (row.split("\t") + ["", ""])[:3]
        files.append(name)
        lines += int(added) if added.isdigit() else 0
        lines += int(removed) if removed.isdigit() else 0
    untracked = (git("ls-files", "--others", "--exclude-standard") or "").split()
    files += untracked
    return bool(files) and len(files) <= 2 and lines < 50 and not any(SENSITIVE.search(f) for f in files)


def main() -> int:
    try:
        data = json.load(sys.stdin)
    except ValueError:
        return 0
    transcript = Path(data.get("transcript_path") or "")
    if not transcript.is_file():
        return 0
    root = Path(os.environ.get("CLAUDE_PLUGIN_ROOT") or Path(__file__).resolve().parent.parent)
    reviewers = reviewers_from(root / "commands" / "ship.md")
    missing = problems(load_messages(transcript), reviewers)
    if missing and not small_change(data.get("cwd") or os.getcwd()):
        print("The /ship turn cannot end yet:\n- " + "\n- ".join(missing), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Stop hook of the skillway plugin: a /ship turn may end only when the fan-out really happened.

Standard library only, so it runs under skillway and under Claude Code. It reads the Stop input on
stdin, then the turn in the transcript (both shapes: one line per message, or one line per content
block sharing a message id). It blocks (exit 2, the reason on stderr) unless every reviewer named in
the ship command's `fan-out` was started in ONE assistant message, every report came back, the
decision has its sections, a GO has a rollback plan and no critical finding it did not accept - or
the change is small enough to skip the review. Every /ship turn it judges goes into the ship ledger
under the git dir, keyed by the hash of the diff; only a turn it let end counts as complete.
"""

import json
import os
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # the plugin's folder may be read-only, and stays as it was installed
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ship_rules as rules  # noqa: E402 - beside this script, in the plugin

COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.DOTALL)


def load_messages(path: Path) -> list:
    """API messages in order; lines sharing an assistant message id are one message."""
    messages = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        message = record.get("message") if isinstance(record, dict) else None
        if record is None or record.get("type") not in ("user", "assistant") or not isinstance(message, dict):
            continue
        content = message.get("content")
        content = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        content = [block for block in content if isinstance(block, dict)]
        last = messages[-1] if messages else None
        if last and message.get("id") and last.get("id") == message.get("id"):
            last["content"] += content
        else:
            messages.append({"role": message.get("role", record["type"]), "id": message.get("id"),
                             "content": content, "timestamp": record.get("timestamp")})
    return messages


def text_of(message: dict) -> str:
    return "\n".join(str(b.get("text", "")) for b in message["content"] if b.get("type") == "text")


def result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def ship_turn(messages: list):
    """(the prompt that started the last /ship turn, the messages after it), or None."""
    starts = [i for i, m in enumerate(messages) if m["role"] == "user" and rules.SHIP_PROMPT.search(text_of(m))]
    if not starts:
        return None
    return text_of(messages[starts[-1]]), messages[starts[-1] + 1:]


def judge(turn: list, reviewers: list) -> tuple:
    """(what is missing, what the turn shows) for one /ship turn."""
    calls = {}  # reviewer -> [(message index, tool_use id)] of every Agent call that started it
    for index, message in enumerate(turn):
        for block in message["content"] if message["role"] == "assistant" else ():
            if block.get("type") == "tool_use" and block.get("name") in ("Agent", "Task"):
                kind = rules.reviewer_name(block.get("input", {}).get("subagent_type"))
                if kind in reviewers:
                    calls.setdefault(kind, []).append((index, block.get("id")))
    found = []
    missing = [r for r in reviewers if r not in calls]
    if missing:
        found.append("these reviewers were never started: " + ", ".join(missing))
    # A failed reviewer may be started again later; the fan-out itself is one message starting them all.
    if calls and not set.intersection(*({index for index, _ in started} for started in calls.values())):
        found.append("the reviewers were started in separate messages; start all of them with Agent calls in ONE "
                     "message so that they run in parallel")
    results = {b.get("tool_use_id"): b for m in turn if m["role"] == "user"
               for b in m["content"] if b.get("type") == "tool_result"}
    reports, silent, failed = {}, [], []
    for reviewer, started in calls.items():
        answers = [results[call_id] for _, call_id in started if result_text(results.get(call_id) or {}).strip()]
        good = [result_text(block).strip() for block in answers if not block.get("is_error")]
        if good:
            reports[reviewer] = good[-1]
        elif answers:
            failed.append(f"{reviewer} ({result_text(answers[-1]).strip().splitlines()[0][:200]})")
        else:
            silent.append(reviewer)
    if silent:
        found.append("no report came back from: " + ", ".join(silent))
    if failed:
        found.append("these reviewers failed and returned no report: " + "; ".join(failed))
    shown = {"calls": calls, "reports": reports, "verdict": None}
    replies = [text_of(m) for m in turn if m["role"] == "assistant" and rules.DECISION.search(text_of(m))]
    if not replies:
        return found + ["there is no '## Ship Decision: GO' or '## Ship Decision: NO-GO' section"], shown
    decision = replies[-1]
    verdicts = rules.DECISION.findall(decision)
    shown["verdict"] = verdicts[0]
    if len(set(verdicts)) > 1:
        found.append("the decision says both GO and NO-GO; write exactly one '## Ship Decision' heading")
    absent = [title for title in rules.SECTIONS if title not in decision]
    if absent:
        found.append("the decision lacks its sections: " + ", ".join(absent))
    if verdicts[0] == "GO":
        if not rules.section(decision, "### Rollback plan").strip(" \n-*_"):
            found.append("a GO needs a rollback plan under '### Rollback plan'")
        if failed or silent:
            found.append("a GO needs every report; a reviewer that failed makes it NO-GO")
        acknowledged = rules.section(decision, "### Acknowledged risks")
        for reviewer, report in reports.items():
            for finding in rules.findings_of(report) or []:
                if finding["severity"] == "critical" and not rules.is_accepted(finding, acknowledged):
                    found.append(f"critical finding from {reviewer} is neither fixed nor accepted: "
                                 f"{finding['file']}:{finding['line']} {finding['message']} "
                                 "(make it NO-GO, or accept the risk explicitly)")
    return found, shown


def base_of(prompt: str):
    """The base ref the /ship turn was asked to judge: skillway's change marker, or Claude Code's
    command arguments; None for the default."""
    marker = rules.CHANGE_MARKER.search(prompt)
    if marker:
        return marker["base"]
    arguments = COMMAND_ARGS.search(prompt)
    words = arguments.group(1).split() if arguments else []
    return words[0] if words and not words[0].startswith("-") else None


def record(data: dict, prompt: str, change, problems: list, shown: dict, skipped: bool) -> None:
    session_id = str(data.get("session_id") or "")
    recorded = {r["reviewer"]: r for r in rules.read_reviews(os.environ.get("CLAUDE_PLUGIN_DATA"), session_id)
                if r.get("reviewer")}
    reviewers = []
    for name in shown["calls"]:
        report = shown["reports"].get(name)
        seen = recorded.get(name, {})
        reviewers.append({"name": name, "agent_id": seen.get("agent_id"), "started": seen.get("started"),
                          "ended": seen.get("ended"), "seconds": rules.seconds_between(seen.get("started"), seen.get("ended")),
                          "failed": report is None, "findings": rules.findings_of(report or "") or []})
    marker = rules.CHANGE_MARKER.search(prompt)
    rules.append_record(change.root, {
        "version": 1, "recorded_at": rules.now(), "session_id": session_id,
        "transcript_path": str(data.get("transcript_path") or ""),
        "base": change.base, "merge_base": change.merge_base, "head": change.head,
        "diff_sha256": marker["digest"] if marker else change.digest,
        "files": list(change.files), "lines": change.lines,
        "decision": shown["verdict"], "complete": not problems, "skipped": skipped,
        "problems": problems, "reviewers": reviewers,
    })


def main() -> int:
    try:
        data = json.load(sys.stdin)
    except ValueError:
        return 0
    if not isinstance(data, dict) or not Path(str(data.get("transcript_path") or "")).is_file():
        return 0
    transcript = Path(data["transcript_path"])
    root = Path(os.environ.get("CLAUDE_PLUGIN_ROOT") or Path(__file__).resolve().parent.parent)
    reviewers = rules.reviewers_from(root / "commands" / "ship.md")
    turn = ship_turn(load_messages(transcript))
    if turn is None:
        return 0
    try:
        return decide(data, reviewers, *turn)
    except Exception as exc:  # noqa: BLE001 - a gate that crashes must not wave a /ship turn through
        print(f"The /ship turn cannot end: the ship gate failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2


def decide(data: dict, reviewers: list, prompt: str, messages: list) -> int:
    problems, shown = judge(messages, reviewers)
    cwd = data.get("cwd") or os.getcwd()
    try:
        change = rules.compute_change(cwd, base_of(prompt))
    except rules.ChangeError:
        change = None  # not a repository (or no commits): judged on the transcript alone, not recorded
    marker = rules.CHANGE_MARKER.search(prompt)
    if change is not None and marker and marker["digest"] != change.digest:
        problems.append("the change moved while it was reviewed (files changed during /ship); run /ship again")
    skipped = bool(problems) and change is not None and change.may_skip()
    if skipped:
        problems = []
    if change is not None:
        try:
            record(data, prompt, change, problems, shown, skipped)
        except (OSError, rules.ChangeError) as exc:
            print(f"skillway ship gate: the decision was not recorded: {exc}", file=sys.stderr)
    if problems:
        print("The /ship turn cannot end yet:\n- " + "\n- ".join(problems), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

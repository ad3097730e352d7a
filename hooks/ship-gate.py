#!/usr/bin/env python3
"""Stop hook of the skillway plugin: a /ship turn may end only when the fan-out really happened.

Standard library only, so it runs under skillway and under Claude Code. It reads the Stop input on
stdin, then the turn in the transcript (both shapes: one line per message, or one line per content
block sharing a message id). It blocks (exit 2, the reason on stderr) unless every reviewer named in
the ship command's `fan-out` was started in ONE assistant message, every report came back (a NO-GO
may instead name the reviewer that failed), the decision has its sections, a GO has a rollback plan
and no critical finding that `--accept-risk` did not name - or the change is small enough to skip
the review. Every /ship turn it judges goes into the ship ledger under the git dir, keyed by the hash
of the diff; only a turn it let end counts as complete, and a NO-GO only because reviewers failed
(no finding at all) is recorded as a failed run (`"outcome": "failed"`), which replaces no decision.
"""

import json
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # the plugin's folder may be read-only, and stays as it was installed
PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
# The rules are the module skillway.ship.rules (standard library only). The folder holding the
# `skillway` package is `server/` in a source checkout or a marketplace clone, and two folders up
# from the plugin in an installed wheel (where the plugin is `skillway/_bundled`).
_SERVER = os.path.join(PLUGIN_ROOT, "server")
sys.path.insert(0, _SERVER if os.path.isdir(os.path.join(_SERVER, "skillway")) else os.path.dirname(os.path.dirname(PLUGIN_ROOT)))
from skillway.ship import rules  # noqa: E402 - found from the plugin root, above


def load_messages(path: Path) -> list:
    """API messages in order; lines sharing an assistant message id are one message. Lines that are
    not messages (summaries, metadata, a torn last line) are skipped."""
    messages = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line) if line.strip() else None
        except (ValueError, RecursionError):
            continue
        message = record.get("message") if isinstance(record, dict) else None
        if not isinstance(message, dict) or record.get("type") not in ("user", "assistant"):
            continue
        content = message.get("content")
        content = [{"type": "text", "text": content}] if isinstance(content, str) else content
        content = [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
        last = messages[-1] if messages else None
        if last and message.get("id") and last.get("id") == message.get("id"):
            last["content"] += content
        else:
            messages.append({"role": message.get("role", record["type"]), "id": message.get("id"), "content": content,
                             "meta": bool(record.get("isMeta"))})  # text the host added, not the user's
    return messages


def text_of(message: dict) -> str:
    return "\n".join(str(b.get("text", "")) for b in message["content"] if b.get("type") == "text")


def result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def ship_turn(messages: list, continuing: bool):
    """(the /ship prompt, the messages after it) when the turn now ending is a /ship turn, else None.

    The turn's prompt is the latest text the user wrote: not text the host added (a skill's body,
    the expansion of a command), not a tool result, and - while a Stop hook keeps the turn going
    (`continuing`) - not this gate's own feedback. An earlier /ship followed by another prompt is
    over and judged no more.
    """
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        text = text_of(message) if message["role"] == "user" and not message["meta"] else ""
        if any(block.get("type") == "tool_result" for block in message["content"]):
            continue
        if not text.strip() or (continuing and rules.GATE_FEEDBACK in text):
            continue
        if not rules.SHIP_PROMPT.search(text):
            return None
        # The host may add the command's expansion right after it (Claude Code: an isMeta message).
        following = [text_of(m) for m in messages[index + 1:] if m["role"] == "user" and m["meta"]]
        return "\n".join([text, *following]), messages[index + 1:]
    return None


def judge(turn: list, reviewers: list, accepted_risks: list) -> tuple:
    """(what is missing, what the turn shows) for one /ship turn."""
    calls = {}  # reviewer -> [(message index, tool_use id)] of every Agent call that started it
    for index, message in enumerate(turn):
        for block in message["content"] if message["role"] == "assistant" else ():
            if block.get("type") == "tool_use" and block.get("name") in ("Agent", "Task"):
                tool_input = block.get("input") if isinstance(block.get("input"), dict) else {}
                kind = rules.reviewer_name(tool_input.get("subagent_type"))
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
    reports, failed = {}, {}  # reviewer -> its reports (every run counts) / why there is none
    for reviewer, started in calls.items():
        answers = [results[call_id] for _, call_id in started if result_text(results.get(call_id) or {}).strip()]
        good = [result_text(block).strip() for block in answers if not block.get("is_error")]
        if good:
            reports[reviewer] = good
        else:
            failed[reviewer] = result_text(answers[-1]).strip().splitlines()[0][:200] if answers else "it returned nothing"
    shown = {"calls": calls, "reports": reports, "verdict": None}
    replies = [text_of(m) for m in turn if m["role"] == "assistant" and rules.DECISION.search(text_of(m))]
    if not replies:
        found += [f"no report came back from {reviewer} ({why})" for reviewer, why in failed.items()]
        return found + ["there is no '## Ship Decision: GO' or '## Ship Decision: NO-GO' section"], shown
    decision = replies[-1]
    verdicts = rules.DECISION.findall(decision)
    shown["verdict"] = verdicts[0]
    if len(set(verdicts)) > 1:
        found.append("the decision says both GO and NO-GO; write exactly one '## Ship Decision' heading")
    absent = [title for title in rules.SECTIONS if title not in decision]
    if absent:
        found.append("the decision lacks its sections: " + ", ".join(absent))
    blockers = rules.section(decision, "### Blockers")
    for reviewer, why in failed.items():  # a NO-GO may end without it when its Blockers say so
        if verdicts[0] == "GO" or reviewer not in blockers:
            found.append(f"no report came back from {reviewer} ({why}): run it again, or decide NO-GO and name it "
                         "under '### Blockers'")
    if verdicts[0] == "GO":
        found += go_problems(decision, reports, accepted_risks)
    return found, shown


def go_problems(decision: str, reports: dict, accepted_risks: list) -> list:
    found = []
    if not rules.section(decision, "### Rollback plan").strip(" \n-*_"):
        found.append("a GO needs a rollback plan under '### Rollback plan'")
    acknowledged = rules.section(decision, "### Acknowledged risks")
    for reviewer, texts in reports.items():
        parsed = [rules.findings_of(text) for text in texts]
        if any(findings is None for findings in parsed):
            found.append(f"the report of {reviewer} does not end with its findings block, so it cannot be GO")
            continue
        for finding in (finding for findings in parsed for finding in findings):
            if finding["severity"] != "critical":
                continue
            where = f"{finding['file']}:{finding['line']} {finding['message']}".strip()
            if rules.accepted_by(finding, accepted_risks) is None:
                found.append(f"critical finding from {reviewer} is not accepted: {where} (make it NO-GO, or run /ship "
                             "again with --accept-risk naming it)")
            elif not rules.is_listed(finding, acknowledged):
                found.append(f"the accepted critical finding {where} is not listed under '### Acknowledged risks'")
    return found


def record(data: dict, change, request: dict, problems: list, shown: dict, skipped: bool) -> None:
    session_id = str(data.get("session_id") or "")
    recorded = {r["reviewer"]: r for r in rules.read_reviews(os.environ.get("CLAUDE_PLUGIN_DATA"), session_id)
                if r.get("reviewer")}
    reviewers = []
    for name in shown["calls"]:
        texts = shown["reports"].get(name) or []
        seen = recorded.get(name, {})
        reviewers.append({"name": name, "agent_id": seen.get("agent_id"), "started": seen.get("started"),
                          "ended": seen.get("ended"), "seconds": rules.seconds_between(seen.get("started"), seen.get("ended")),
                          "failed": not texts, "findings": [f for text in texts for f in rules.findings_of(text) or []]})
    failed, findings = sum(1 for r in reviewers if r["failed"]), sum(len(r["findings"]) for r in reviewers)
    rules.append_record(change.root, {
        "version": 1, "recorded_at": rules.now(), "session_id": session_id,
        "transcript_path": str(data.get("transcript_path") or ""),
        "base": change.base, "merge_base": change.merge_base, "head": change.head,
        "diff_sha256": change.digest,  # what is judged is what is there: a stamp that differs is a problem
        "files": list(change.files), "lines": change.lines,
        "decision": shown["verdict"], "complete": not problems, "skipped": skipped,
        # a NO-GO only because reviewers failed is a failed run, not a verdict: it replaces no decision
        "outcome": "failed" if rules.failed_run(shown["verdict"], failed, findings) else "verdict",
        "accepted_risks": request["accept_risks"], "problems": problems, "reviewers": reviewers,
    })


def judge_turn(data: dict, prompt: str, messages: list) -> int:
    request = rules.ship_request(prompt)
    reviewers = rules.required_reviewers(PLUGIN_ROOT)
    if not reviewers:
        problems, shown = ["the ship command lists no reviewers (its `fan-out`), so the turn cannot be judged"], None
    else:
        problems, shown = judge(messages, reviewers, request["accept_risks"])
    try:
        change = rules.compute_change(data.get("cwd") or os.getcwd(), request["base"])
    except rules.ChangeError:
        change = None  # not a repository (or no commits): judged on the transcript alone, not recorded
    skipped = bool(problems) and change is not None and change.may_skip()
    if skipped:
        problems = []
    if change is not None and request["diff"] and request["diff"] != change.digest:
        problems.append("the change moved while it was reviewed (files changed during /ship); run /ship again")
    if change is not None and shown is not None:
        try:
            record(data, change, request, problems, shown, skipped)
        except (OSError, rules.ChangeError) as exc:
            print(f"skillway ship gate: the decision was not recorded: {exc}", file=sys.stderr)
    if problems:
        print(f"{rules.GATE_FEEDBACK} yet:\n- " + "\n- ".join(problems), file=sys.stderr)
        return 2
    return 0


def main() -> int:
    try:
        data = json.load(sys.stdin)
    except ValueError:
        return 0
    if not isinstance(data, dict) or not Path(str(data.get("transcript_path") or "")).is_file():
        return 0
    try:
        turn = ship_turn(load_messages(Path(data["transcript_path"])), bool(data.get("stop_hook_active")))
    except OSError:
        return 0  # the transcript cannot be read: nothing shows a /ship turn
    if turn is None:
        return 0
    try:
        return judge_turn(data, *turn)
    except Exception as exc:
        print(f"{rules.GATE_FEEDBACK}: the ship gate failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

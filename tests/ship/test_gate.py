"""The ship gate hook, run as a plain `python3` script on hand-written transcripts, in both shapes
(one line per message, and Claude Code's one line per content block sharing a message id)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

GATE = REPO_ROOT / "hooks" / "ship-gate.py"
REVIEWERS = ["code-reviewer", "security-auditor", "test-engineer"]
SHIP_PROMPT = "<!-- skillway:ship -->\nRun the ship gate."
FINDINGS_NONE = "Report.\n```json\n[]\n```"
CRITICAL = 'Report.\n```json\n[{"severity": "critical", "file": "src/auth.py", "line": 12, "message": "token compared with =="}]\n```'


def decision(verdict="GO", rollback="Revert the merge commit and redeploy the previous tag.", risks="None."):
    return (f"## Ship Decision: {verdict}\n\n### Blockers\nNone.\n\n### Recommended fixes\nNone.\n\n"
            f"### Acknowledged risks\n{risks}\n\n### Rollback plan\n{rollback}\n\n### Specialist reports\nAll three.\n")


def agent_call(index, reviewer):
    return {"type": "tool_use", "id": f"toolu_{index}", "name": "Agent",
            "input": {"description": reviewer, "prompt": "Review the diff", "subagent_type": f"skillway:{reviewer}"}}


def run_turn(*, reviewers=REVIEWERS, one_message=True, reports=None, final=None, prompt=SHIP_PROMPT):
    """The messages of a /ship turn: the prompt, the Agent calls, their results, the decision."""
    reports = reports or {r: FINDINGS_NONE for r in reviewers}
    messages = [{"role": "user", "content": prompt}]
    calls = [agent_call(i, r) for i, r in enumerate(reviewers)]
    results = [{"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": reports.get(r, "")}
               for i, r in enumerate(reviewers)]
    if one_message:
        messages += [{"role": "assistant", "id": "msg_calls", "content": calls},
                     {"role": "user", "content": results}]
    else:
        for number, (call, result) in enumerate(zip(calls, results)):
            messages += [{"role": "assistant", "id": f"msg_call_{number}", "content": [call]},
                         {"role": "user", "content": [result]}]
    messages.append({"role": "assistant", "id": "msg_final", "content": [{"type": "text", "text": final or decision()}]})
    return messages


def write(tmp_path, messages, shape):
    lines = []
    for message in messages:
        kind = message["role"]
        if shape == "claude-code" and kind == "assistant":
            for block in message["content"]:  # one line per content block, sharing the message id
                lines.append({"type": kind, "message": {"id": message["id"], "role": kind, "content": [block]}})
        else:
            record = {"type": kind, "message": {k: v for k, v in message.items() if v is not None and k != "meta"}}
            lines.append(record | ({"isMeta": True} if message.get("meta") else {}))
    path = tmp_path / f"{shape}.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def gate(tmp_path, messages, shape):
    transcript = write(tmp_path, messages, shape)
    stdin = json.dumps({"hook_event_name": "Stop", "transcript_path": str(transcript), "cwd": str(tmp_path),
                        "stop_hook_active": False})
    env = {"CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(GATE)], input=stdin, capture_output=True, text=True, env=env, timeout=30)


SHAPES = pytest.mark.parametrize("shape", ["skillway", "claude-code"])


@SHAPES
def test_a_correct_run_passes(tmp_path, shape):
    result = gate(tmp_path, run_turn(), shape)
    assert (result.returncode, result.stderr) == (0, "")


@SHAPES
def test_reviewers_started_one_per_message_are_blocked(tmp_path, shape):
    result = gate(tmp_path, run_turn(one_message=False), shape)
    assert result.returncode == 2
    assert "started in separate messages; start all of them with Agent calls in ONE message" in result.stderr


@SHAPES
def test_a_missing_reviewer_is_blocked_by_name(tmp_path, shape):
    result = gate(tmp_path, run_turn(reviewers=["code-reviewer", "test-engineer"]), shape)
    assert result.returncode == 2
    assert "these reviewers were never started: security-auditor" in result.stderr


@SHAPES
def test_a_missing_report_is_blocked(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": "", "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports), shape)
    assert result.returncode == 2
    assert ("no report came back from security-auditor (it returned nothing): run it again, or decide NO-GO and "
            "name it under '### Blockers'") in result.stderr


@SHAPES
def test_go_without_a_rollback_plan_is_blocked(tmp_path, shape):
    result = gate(tmp_path, run_turn(final=decision(rollback="")), shape)
    assert result.returncode == 2
    assert "a GO needs a rollback plan under '### Rollback plan'" in result.stderr


@SHAPES
def test_a_decision_without_its_sections_is_blocked(tmp_path, shape):
    result = gate(tmp_path, run_turn(final="## Ship Decision: NO-GO\n\nToo risky."), shape)
    assert result.returncode == 2
    assert "the decision lacks its sections: ### Blockers" in result.stderr


@SHAPES
def test_an_unaccepted_critical_finding_blocks_a_go(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": CRITICAL, "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports), shape)
    assert result.returncode == 2
    assert ("critical finding from security-auditor is not accepted: src/auth.py:12 token compared with == (make it "
            "NO-GO, or run /ship again with --accept-risk naming it)") in result.stderr


ACCEPTING = "<command-name>/ship</command-name>\n<command-args>--accept-risk src/auth.py:12</command-args>"
LISTED = "- src/auth.py:12 token compared with == (security-auditor). Accepted: fixed next sprint."


@SHAPES
def test_a_critical_finding_is_fine_when_the_decision_is_no_go(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": CRITICAL, "test-engineer": FINDINGS_NONE}
    assert gate(tmp_path, run_turn(reports=reports, final=decision("NO-GO", rollback="")), shape).returncode == 0


@SHAPES
def test_a_critical_finding_named_by_accept_risk_and_listed_passes_a_go(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": CRITICAL, "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports, prompt=ACCEPTING, final=decision(risks=LISTED)), shape)
    assert (result.returncode, result.stderr) == (0, "")


@SHAPES
def test_a_critical_finding_listed_as_accepted_without_accept_risk_is_blocked(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": CRITICAL, "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports, final=decision(risks=LISTED)), shape)
    assert result.returncode == 2 and "critical finding from security-auditor is not accepted" in result.stderr


@SHAPES
def test_a_critical_finding_accepted_but_not_listed_is_blocked(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": CRITICAL, "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports, prompt=ACCEPTING), shape)
    assert result.returncode == 2
    assert ("the accepted critical finding src/auth.py:12 token compared with == is not listed under "
            "'### Acknowledged risks'") in result.stderr


@SHAPES
def test_a_critical_finding_without_a_message_is_never_taken_as_listed(tmp_path, shape):
    silent = 'Report.\n```json\n[{"severity": "critical", "file": "src/db.py", "line": 3}]\n```'
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": silent, "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports), shape)
    assert result.returncode == 2 and "critical finding from security-auditor is not accepted: src/db.py:3" in result.stderr


@SHAPES
def test_a_go_on_a_report_without_its_findings_block_is_blocked(tmp_path, shape):
    reports = {"code-reviewer": "Looks fine.", "security-auditor": FINDINGS_NONE, "test-engineer": FINDINGS_NONE}
    result = gate(tmp_path, run_turn(reports=reports), shape)
    assert result.returncode == 2
    assert "the report of code-reviewer does not end with its findings block, so it cannot be GO" in result.stderr


@SHAPES
def test_a_turn_that_is_not_ship_passes(tmp_path, shape):
    messages = [{"role": "user", "content": "explain app.py"},
                {"role": "assistant", "id": "m", "content": [{"type": "text", "text": "It prints."}]}]
    assert gate(tmp_path, messages, shape).returncode == 0


def test_a_small_change_may_skip_the_review(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "README.md").write_text("hello\n")
    subprocess.run(git + ["add", "."], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "init"], cwd=repo, check=True)
    (repo / "README.md").write_text("hello world\n")
    transcript = write(tmp_path, [{"role": "user", "content": SHIP_PROMPT},
                                  {"role": "assistant", "id": "m", "content": [{"type": "text", "text": "Small change."}]}],
                       "skillway")
    stdin = json.dumps({"transcript_path": str(transcript), "cwd": str(repo)})
    result = subprocess.run([sys.executable, str(GATE)], input=stdin, capture_output=True, text=True,
                            env={"CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}, timeout=30)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_small_change_touching_config_may_not_skip(tmp_path):
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "config" / "settings.py").write_text("DEBUG = False\n")
    subprocess.run(git + ["add", "."], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "init"], cwd=repo, check=True)
    (repo / "config" / "settings.py").write_text("DEBUG = True\n")
    transcript = write(tmp_path, [{"role": "user", "content": SHIP_PROMPT},
                                  {"role": "assistant", "id": "m", "content": [{"type": "text", "text": "Small change."}]}],
                       "skillway")
    result = subprocess.run([sys.executable, str(GATE)], input=json.dumps({"transcript_path": str(transcript), "cwd": str(repo)}),
                            capture_output=True, text=True, env={"CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
                            timeout=30)
    assert result.returncode == 2
    assert "these reviewers were never started: code-reviewer, security-auditor, test-engineer" in result.stderr


@SHAPES
def test_a_failed_reviewer_blocks_a_go(tmp_path, shape):
    messages = run_turn()
    messages[2]["content"][1] |= {"content": "security-auditor failed twice: rate limited", "is_error": True}
    result = gate(tmp_path, messages, shape)
    assert result.returncode == 2
    assert "no report came back from security-auditor (security-auditor failed twice: rate limited)" in result.stderr


@SHAPES
def test_a_no_go_naming_the_failed_reviewer_under_blockers_passes(tmp_path, shape):
    final = decision("NO-GO", rollback="").replace("### Blockers\nNone.", "### Blockers\n- security-auditor returned no report")
    messages = run_turn(final=final)
    messages[2]["content"][1] |= {"content": "security-auditor failed twice: rate limited", "is_error": True}
    named = gate(tmp_path, messages, shape)
    messages[-1]["content"][0]["text"] = decision("NO-GO", rollback="")
    unnamed = gate(tmp_path, messages, shape)
    assert (named.returncode, unnamed.returncode) == (0, 2)


@SHAPES
def test_a_decision_with_both_verdicts_is_blocked(tmp_path, shape):
    result = gate(tmp_path, run_turn(final=decision() + "\n## Ship Decision: NO-GO\n"), shape)
    assert result.returncode == 2
    assert "the decision says both GO and NO-GO" in result.stderr


def ship_repo(tmp_path):
    from tests.ship.helpers import lines, make_repo

    repo = make_repo(tmp_path / "repo", {"src/app.py": "x = 1\n"})
    (repo / "src/app.py").write_text(lines(80))
    return repo


def gate_in(repo, tmp_path, messages, session_id="s-1", active=False):
    transcript = write(tmp_path, messages, "skillway")
    stdin = json.dumps({"hook_event_name": "Stop", "transcript_path": str(transcript), "cwd": str(repo),
                        "session_id": session_id, "stop_hook_active": active})
    return subprocess.run([sys.executable, str(GATE)], input=stdin, capture_output=True, text=True, timeout=30,
                          env={"CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})


def ledger(repo):
    path = repo / ".git" / "skillway" / "ship-ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_passed_ship_turn_is_recorded_complete_under_the_hash_of_its_diff(tmp_path):
    from skillway.ship import rules

    repo = ship_repo(tmp_path)
    assert gate_in(repo, tmp_path, run_turn()).returncode == 0
    (record,) = ledger(repo)
    assert (record["decision"], record["complete"], record["skipped"]) == ("GO", True, False)
    assert record["diff_sha256"] == rules.compute_change(repo).digest
    assert [r["name"] for r in record["reviewers"]] == REVIEWERS


def test_a_blocked_ship_turn_is_recorded_incomplete_with_its_problems(tmp_path):
    repo = ship_repo(tmp_path)
    assert gate_in(repo, tmp_path, run_turn(one_message=False)).returncode == 2
    (record,) = ledger(repo)
    assert record["complete"] is False
    assert record["problems"][0].startswith("the reviewers were started in separate messages")


def test_a_turn_that_is_not_ship_records_nothing(tmp_path):
    repo = ship_repo(tmp_path)
    messages = [{"role": "user", "content": "explain app.py"},
                {"role": "assistant", "id": "m", "content": [{"type": "text", "text": "It prints."}]}]
    assert gate_in(repo, tmp_path, messages).returncode == 0
    assert ledger(repo) == []


def test_claude_codes_command_arguments_name_the_base(tmp_path):
    from tests.ship.helpers import git

    repo = ship_repo(tmp_path)
    git(repo, "checkout", "-qb", "feature")
    git(repo, "commit", "-qam", "work")
    git(repo, "branch", "release", "HEAD~1")
    messages = run_turn()
    messages[0]["content"] = "<command-name>/skillway:ship</command-name>\n<command-args>release</command-args>"
    assert gate_in(repo, tmp_path, messages).returncode == 0
    assert ledger(repo)[0]["base"] == "release"


def failed_turn(reports=None):
    """A NO-GO whose Blockers name the reviewers that failed, as a model would write it in Claude Code."""
    reports = reports or {}
    final = decision("NO-GO", rollback="").replace("### Blockers\nNone.", "### Blockers\n" + "".join(
        f"- {name} returned no report\n" for name in REVIEWERS if name not in reports))
    messages = run_turn(final=final, reports={name: reports.get(name, "") for name in REVIEWERS})
    for result in messages[2]["content"]:
        if not result["content"]:
            result |= {"content": "failed twice: The API failed (HTTP 500); try again.", "is_error": True}
    return messages


def test_a_no_go_only_because_reviewers_failed_is_recorded_as_a_failed_run_and_keeps_the_earlier_go(tmp_path):
    from skillway.ship import rules

    repo = ship_repo(tmp_path)
    assert gate_in(repo, tmp_path, run_turn(), session_id="s-1").returncode == 0
    assert gate_in(repo, tmp_path, failed_turn(), session_id="s-2").returncode == 0
    go, failure = ledger(repo)
    assert (go["outcome"], failure["decision"], failure["complete"], failure["outcome"]) == ("verdict", "NO-GO", True, "failed")
    assert rules.check_change(repo).record == go


def test_a_no_go_with_a_finding_beside_a_failed_reviewer_is_recorded_as_a_verdict(tmp_path):
    suggestion = 'Report.\n```json\n[{"severity": "suggestion", "file": "src/app.py", "line": 1, "message": "name it"}]\n```'
    repo = ship_repo(tmp_path)
    assert gate_in(repo, tmp_path, failed_turn({"code-reviewer": suggestion, "test-engineer": FINDINGS_NONE})).returncode == 0
    (record,) = ledger(repo)
    assert (record["decision"], record["complete"], record["outcome"]) == ("NO-GO", True, "verdict")


@SHAPES
def test_a_failed_reviewer_started_again_later_passes_once_its_report_came_back(tmp_path, shape):
    messages = run_turn()
    messages[2]["content"][1] |= {"content": "security-auditor failed: overloaded", "is_error": True}
    again = agent_call(9, "security-auditor")
    messages[3:3] = [{"role": "assistant", "id": "msg_again", "content": [again]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": FINDINGS_NONE}]}]
    result = gate(tmp_path, messages, shape)
    assert (result.returncode, result.stderr) == (0, "")


def test_an_earlier_ship_turn_is_not_judged_again_at_a_later_stop(tmp_path):
    repo = ship_repo(tmp_path)
    messages = run_turn()
    assert gate_in(repo, tmp_path, messages).returncode == 0
    (repo / "backdoor.py").write_text("import os\n")
    messages += [{"role": "user", "content": "rename a variable"},
                 {"role": "assistant", "id": "m2", "content": [{"type": "text", "text": "Renamed."}]}]
    assert gate_in(repo, tmp_path, messages).returncode == 0
    assert len(ledger(repo)) == 1


def test_a_blocked_ship_turn_is_judged_again_after_the_gates_feedback(tmp_path):
    repo = ship_repo(tmp_path)
    messages = run_turn(final=decision(rollback=""))
    assert gate_in(repo, tmp_path, messages).returncode == 2
    messages += [{"role": "user", "content": "Stop hook feedback:\nThe /ship turn cannot end yet:\n- a GO needs a rollback plan"},
                 {"role": "assistant", "id": "m3", "content": [{"type": "text", "text": decision()}]}]
    assert gate_in(repo, tmp_path, messages, active=True).returncode == 0
    assert [r["complete"] for r in ledger(repo)] == [False, True]


def test_a_ship_command_without_reviewers_cannot_be_judged(tmp_path):
    plugin = tmp_path / "plugin"
    (plugin / "commands").mkdir(parents=True)
    (plugin / "commands" / "ship.md").write_text("---\ndescription: Ship\n---\nShip it.\n")
    transcript = write(tmp_path, run_turn(), "skillway")
    # Outside any repository: the gate must not judge the change of whatever tree the tests run in.
    result = subprocess.run([sys.executable, str(GATE)], input=json.dumps({"transcript_path": str(transcript)}),
                            capture_output=True, text=True, timeout=30, cwd=tmp_path,
                            env={"CLAUDE_PLUGIN_ROOT": str(plugin), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "the ship command lists no reviewers" in result.stderr


def stamp_of(digest: str, risks=()) -> str:
    return "<!-- skillway:ship-change " + json.dumps({"base": "main", "diff": digest, "accept_risks": list(risks)}) + " -->"


def test_only_the_last_stamp_counts_and_a_moved_change_is_never_skipped(tmp_path):
    from tests.ship.helpers import make_repo

    repo = make_repo(tmp_path / "small", {"README.md": "hello\n"})
    (repo / "README.md").write_text("hello world\n")
    typed = stamp_of("f" * 64)  # what a user could type into the arguments
    prompt = f"{SHIP_PROMPT}\nArguments given by the user: {typed}\n\n{stamp_of('0' * 64)}"
    result = gate_in(repo, tmp_path, run_turn(prompt=prompt))
    assert result.returncode == 2 and "the change moved while it was reviewed" in result.stderr
    assert ledger(repo)[-1]["diff_sha256"] != "0" * 64


@SHAPES
def test_claude_codes_command_line_and_its_expansion_are_one_prompt(tmp_path, shape):
    reports = {"code-reviewer": FINDINGS_NONE, "security-auditor": CRITICAL, "test-engineer": FINDINGS_NONE}
    messages = run_turn(reports=reports, prompt=ACCEPTING, final=decision(risks=LISTED))
    messages.insert(1, {"role": "user", "content": SHIP_PROMPT, "meta": True})
    result = gate(tmp_path, messages, shape)
    assert (result.returncode, result.stderr) == (0, "")


@SHAPES
def test_text_the_host_adds_mid_turn_does_not_end_the_ship_turn(tmp_path, shape):
    messages = run_turn(reviewers=["code-reviewer"])
    messages.insert(3, {"role": "user", "content": "Base directory for this skill: /x", "meta": True})
    result = gate(tmp_path, messages, shape)
    assert result.returncode == 2 and "these reviewers were never started: security-auditor" in result.stderr


@SHAPES
def test_a_reviewer_run_again_keeps_the_critical_finding_of_its_first_report(tmp_path, shape):
    messages = run_turn(reports={"code-reviewer": CRITICAL, "security-auditor": FINDINGS_NONE, "test-engineer": FINDINGS_NONE})
    messages[3:3] = [{"role": "assistant", "id": "msg_again", "content": [agent_call(9, "code-reviewer")]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": FINDINGS_NONE}]}]
    result = gate(tmp_path, messages, shape)
    assert result.returncode == 2 and "critical finding from code-reviewer is not accepted" in result.stderr


@pytest.mark.parametrize("severity", ["CRITICAL!", "blocker", ""])
def test_a_severity_that_is_none_of_the_three_counts_as_critical(tmp_path, severity):
    odd = f'R.\n```json\n[{{"Severity": "{severity}", "file": "a.py", "line": 1, "message": "bad"}}]\n```'
    result = gate(tmp_path, run_turn(reports={"code-reviewer": odd, "security-auditor": FINDINGS_NONE,
                                              "test-engineer": FINDINGS_NONE}), "skillway")
    assert result.returncode == 2 and "critical finding from code-reviewer is not accepted: a.py:1 bad" in result.stderr


def test_a_new_prompt_quoting_the_gates_words_is_a_new_turn(tmp_path):
    messages = run_turn(final=decision(rollback=""))
    messages += [{"role": "user", "content": "Why did it say 'The /ship turn cannot end yet'?"},
                 {"role": "assistant", "id": "m9", "content": [{"type": "text", "text": "Because..."}]}]
    assert gate(tmp_path, messages, "skillway").returncode == 0


def test_an_unreadable_line_in_the_transcript_is_skipped(tmp_path):
    transcript = write(tmp_path, run_turn(), "skillway")
    transcript.write_text(transcript.read_text() + "[" * 100_000 + "\n")
    result = subprocess.run([sys.executable, str(GATE)], input=json.dumps({"transcript_path": str(transcript)}),
                            capture_output=True, text=True, timeout=30,
                            env={"CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert (result.returncode, result.stderr) == (0, "")

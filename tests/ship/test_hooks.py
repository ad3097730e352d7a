"""The other two /ship hooks as plain `python3` scripts: the delegation check (PreToolUse on
Agent|Task) and the report recorder (SubagentStop); and the delegation check inside skillway's loop."""

import json
import subprocess
import sys

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import REPO_ROOT, write_tree
from tests.fakes.anthropic_server import FakeAnthropic, Reply, Text, ToolUse
from tests.ship.helpers import make_repo, report

DELEGATION = REPO_ROOT / "hooks" / "ship-delegation.py"
RECORDER = REPO_ROOT / "hooks" / "ship-record.py"


def run(script, data: dict, plugin_data=None):
    env = {"CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(script)], input=json.dumps(data), capture_output=True, text=True,
                          timeout=30, env=env | ({"CLAUDE_PLUGIN_DATA": str(plugin_data)} if plugin_data else {}))


def agent_call(caller: str | None, wanted: str = "security-auditor") -> dict:
    fields = {"agent_id": "a1", "agent_type": caller} if caller else {}
    return {"hook_event_name": "PreToolUse", "tool_name": "Agent", "tool_input": {"prompt": "x", "subagent_type": wanted},
            **fields}


def test_a_reviewer_starting_another_reviewer_is_denied_with_the_reason():
    result = run(DELEGATION, agent_call("skillway:code-reviewer"))
    decision = json.loads(result.stdout)["hookSpecificOutput"]
    assert (result.returncode, decision["permissionDecision"]) == (0, "deny")
    assert decision["permissionDecisionReason"].startswith(
        "code-reviewer is a /ship reviewer: reviewers only read and report, and may not start other agents "
        "(it tried to start security-auditor)")


def test_a_reviewer_starting_any_agent_is_denied():
    assert json.loads(run(DELEGATION, agent_call("test-engineer", "general-purpose")).stdout)[
        "hookSpecificOutput"]["permissionDecision"] == "deny"


@pytest.mark.parametrize("caller", [None, "skillway:planner"])
def test_the_main_agent_and_other_sub_agents_may_start_reviewers(caller):
    result = run(DELEGATION, agent_call(caller, "code-reviewer"))
    assert (result.returncode, result.stdout) == (0, "")


def stop_of(repo, tmp_path, message: str, active=False, agent_type="skillway:security-auditor"):
    """The recorder on a reviewer's SubagentStop; it records into `tmp_path / "data"`."""
    agent_transcript = tmp_path / "agent.jsonl"
    agent_transcript.write_text(json.dumps({"type": "user", "timestamp": "2026-12-01T10:00:00.000Z",
                                            "message": {"role": "user", "content": "review"}}) + "\n")
    return run(RECORDER, {"hook_event_name": "SubagentStop", "session_id": "s-1", "cwd": str(repo), "agent_id": "ag1",
                          "agent_type": agent_type, "agent_transcript_path": str(agent_transcript),
                          "last_assistant_message": message, "stop_hook_active": active}, tmp_path / "data")


def test_a_reviewers_report_is_recorded_in_the_plugin_data_folder(tmp_path):
    repo = make_repo(tmp_path / "repo")
    finding = {"severity": "critical", "file": "a.py", "line": 3, "message": "sql built from input"}
    assert stop_of(repo, tmp_path, report([finding])).returncode == 0
    record = json.loads((tmp_path / "data/ship-reviews/s-1/ag1.json").read_text())
    assert (record["reviewer"], record["started"], record["findings"]) == ("security-auditor", "2026-12-01T10:00:00.000Z", [finding])


def test_a_report_without_its_findings_block_is_sent_back_once(tmp_path):
    repo = make_repo(tmp_path / "repo")
    first = stop_of(repo, tmp_path, "All fine.")
    again = stop_of(repo, tmp_path, "All fine.", active=True)
    assert first.returncode == 2 and first.stderr.startswith("End your report with a fenced ```json block")
    assert again.returncode == 0 and json.loads((tmp_path / "data/ship-reviews/s-1/ag1.json").read_text())["findings"] is None


def test_a_sub_agent_that_is_not_a_reviewer_is_not_recorded(tmp_path):
    repo = make_repo(tmp_path / "repo")
    assert stop_of(repo, tmp_path, "done", agent_type="planner").returncode == 0
    assert not (tmp_path / "data").exists()


async def test_inside_skillways_loop_a_reviewer_cannot_start_another(tmp_path, monkeypatch):
    # A plugin's own "code-reviewer" that was given the Agent tool: the bundled check still stops it.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-0123456789")
    plugin = write_tree(tmp_path / "eager", {"agents/code-reviewer.md": (
        "---\nname: code-reviewer\ndescription: Reviews and delegates\ntools: Agent, Read\n---\nYou review.\n")})
    workspace = make_repo(tmp_path / "ws")
    with FakeAnthropic() as fake:
        fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "review", "subagent_type": "eager:code-reviewer"}, id="t1")]),
                     Reply(content=[ToolUse("Agent", {"prompt": "you too", "subagent_type": "skillway:security-auditor"}, id="t2")]),
                     Reply(content=[Text(report())]), Reply(content=[Text("done")]))
        settings = Settings(base_url=fake.base_url)
        session = Session(workspace, discover(workspace, settings, [plugin]), settings)
        await AgentLoop(session).run("review the change")
        denied = fake.requests[2].body["messages"][-1]["content"][0]
    assert denied["is_error"] is True
    assert denied["content"].startswith("denied by a PreToolUse hook: code-reviewer is a /ship reviewer")

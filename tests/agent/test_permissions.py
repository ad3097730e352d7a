"""Who decides whether a tool call runs: PreToolUse hooks, the permission rules of the workspace's
Claude Code settings, PermissionRequest hooks answering the prompt, and the person asked."""

import json

import pytest

from skillway.agent.loop import AgentLoop, RunInterrupted
from skillway.app.session import Session
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.hooks.hookkit import command, py

pytestmark = pytest.mark.usefixtures("api_key")


def workspace_with(tmp_path, settings: dict | None = None, hooks: dict | None = None):
    files = {"src/app.py": "x = 1\n", "secrets/token.txt": "t\n"}
    if settings is not None:
        files[".claude/settings.json"] = json.dumps(settings)
    workspace = write_tree(tmp_path / "ws", files)
    plugin = write_tree(tmp_path / "guard", {"hooks/hooks.json": json.dumps({"hooks": hooks or {}})})
    return workspace, plugin


def open_session(workspace, plugin, fake, monkeypatch, *, trusted: bool) -> Session:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    session = Session.open(workspace, [plugin])
    if trusted:
        session.trust_workspace()
    return session


def refusal_of(fake) -> tuple[bool, str]:
    (result,) = [b for b in fake.requests[1].body["messages"][-1]["content"] if b.get("type") == "tool_result"]
    return bool(result.get("is_error")), result["content"]


def person_answering(answer: bool, questions: list[str]):
    """A person who gives `answer` to every question, which `questions` records."""
    async def ask(asked):
        questions.append(asked.question)
        return answer
    return ask


async def run_one_call(session, fake, tool: str, tool_input: dict, **loop_options) -> None:
    fake.enqueue(Reply(content=[ToolUse(tool, tool_input, id="t1")]), Reply(content=[Text("done")]))
    await AgentLoop(session, **loop_options).run("go")


async def test_a_deny_rule_in_claude_settings_refuses_even_a_read_only_tool(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"deny": ["Read(./secrets/**)"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Read", {"file_path": str(workspace / "secrets" / "token.txt")})
    assert refusal_of(fake) == (True, "Permission to use Read was denied by the rule Read(./secrets/**)")


async def test_deny_rules_apply_before_the_workspace_is_trusted(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"deny": ["Grep"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=False)
    await run_one_call(session, fake, "Grep", {"pattern": "x"})
    assert refusal_of(fake) == (True, "Permission to use Grep was denied by the rule Grep")


async def test_an_edit_rule_covers_write(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"deny": ["Edit(src/**)"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Write", {"file_path": "src/new.py", "content": "y = 2\n"},
                       allowed_tools=("Write",))
    assert refusal_of(fake) == (True, "Permission to use Write was denied by the rule Edit(src/**)")
    assert not (workspace / "src" / "new.py").exists()


async def test_allow_rules_of_an_untrusted_workspace_let_nothing_run(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"allow": ["Bash(echo:*)"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=False)
    await run_one_call(session, fake, "Bash", {"command": "echo hi"})
    assert refusal_of(fake) == (True, "Bash is not permitted (add it to allowed-tools)")
    assert "permissions.allow" in session.settings.held_back


async def test_allow_rules_of_a_trusted_workspace_run_the_tool_unasked(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"allow": ["Bash(echo:*)"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "echo hi"})
    assert refusal_of(fake) == (False, "hi\n")


async def test_a_hook_s_allow_does_not_pass_a_deny_rule(tmp_path, fake, monkeypatch):
    allow = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow"}}
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"deny": ["Bash(rm:*)"]}}, {
        "PreToolUse": [{"hooks": [command(f"echo '{json.dumps(allow)}'")]}]})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "rm -rf src"})
    assert refusal_of(fake) == (True, "Permission to use Bash was denied by the rule Bash(rm:*)")
    assert (workspace / "src" / "app.py").exists()


async def test_an_ask_rule_with_nobody_to_ask_refuses_and_says_which_rule(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"ask": ["Read(src/**)"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Read", {"file_path": "src/app.py"})
    assert refusal_of(fake) == (True, "needs your approval, which was not given: "
                                      "(the rule Read(src/**) in your settings asks first)")


async def test_an_ask_rule_asks_the_person_even_for_a_read_only_tool(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"ask": ["Read"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    questions: list[str] = []
    ask = person_answering(True, questions)
    await run_one_call(session, fake, "Read", {"file_path": "src/app.py"}, ask=ask)
    assert questions == ["Allow Read? (the rule Read in your settings asks first)"]
    assert refusal_of(fake) == (False, "     1\tx = 1")


async def test_a_wrong_rule_is_left_out_with_a_warning_naming_the_file(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, {"permissions": {"deny": ["Read", "not a rule!"]}})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    (problem,) = [p for p in session.settings.problems if "permissions" in p.message]
    assert problem.path == workspace / ".claude" / "settings.json"
    assert problem.message == "\"permissions.deny[1]\" is not a permission rule such as \"Bash(npm test:*)\": 'not a rule!' is ignored"
    assert session.settings.tool_permissions.deny == ("Read",)


# --- PermissionRequest ----------------------------------------------------------------------------

def answering(tmp_path, decision: dict | None, *, log: str = "request.json") -> dict:
    """PermissionRequest hooks: one writing its input to `log`, and one answering `decision`."""
    output = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}} if decision else {}
    script = py(tmp_path / "answer.py", f"""
import json, sys
open({str(tmp_path / log)!r}, "w").write(sys.stdin.read())
print({json.dumps(json.dumps(output))})
""")
    return {"PermissionRequest": [{"matcher": "Bash", "hooks": [command(script)]}]}


async def test_a_permission_request_allow_runs_the_call_nobody_allowed(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, {"behavior": "allow"}))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "echo from-the-hook"})
    assert refusal_of(fake) == (False, "from-the-hook\n")


async def test_permission_request_input_has_claude_code_s_fields(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, None))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "ls -la"})
    sent = json.loads((tmp_path / "request.json").read_text())
    assert sent == {"session_id": session.session_id, "transcript_path": str(session.transcript.path),
                    "cwd": str(workspace), "hook_event_name": "PermissionRequest", "permission_mode": "default",
                    "tool_name": "Bash", "tool_input": {"command": "ls -la"},
                    "permission_suggestions": [{"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "ls:*"}],
                                                "behavior": "allow", "destination": "localSettings"}]}


async def test_a_permission_request_deny_message_is_what_the_model_gets(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, {"behavior": "deny", "message": "not today"}))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "echo x"})
    assert refusal_of(fake) == (True, "not today")


async def test_a_permission_request_deny_without_message_says_the_hook_denied_it(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, {"behavior": "deny"}))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "echo x"})
    assert refusal_of(fake) == (True, "Permission denied by hook")


async def test_a_permission_request_allow_may_replace_the_input(tmp_path, fake, monkeypatch):
    decision = {"behavior": "allow", "updatedInput": {"command": "echo rewritten"}}
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, decision))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "echo original"})
    assert refusal_of(fake) == (False, "rewritten\n")


async def test_a_permission_request_deny_with_interrupt_stops_the_run(tmp_path, fake, monkeypatch):
    decision = {"behavior": "deny", "message": "stop everything", "interrupt": True}
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, decision))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo x"}, id="t1")]), Reply(content=[Text("done")]))
    with pytest.raises(RunInterrupted, match="stop everything"):
        await AgentLoop(session).run("go")
    assert len(fake.requests) == 1


async def test_a_call_a_rule_allows_fires_no_permission_request(tmp_path, fake, monkeypatch):
    workspace, plugin = workspace_with(tmp_path, hooks=answering(tmp_path, {"behavior": "deny"}))
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    await run_one_call(session, fake, "Bash", {"command": "echo allowed"}, allowed_tools=("Bash(echo:*)",))
    assert refusal_of(fake) == (False, "allowed\n")
    assert not (tmp_path / "request.json").exists()


async def test_the_person_is_asked_only_when_no_permission_request_hook_answers(tmp_path, fake, monkeypatch):
    notified = tmp_path / "notification.json"
    hooks = answering(tmp_path, None) | {"Notification": [{"matcher": "permission_prompt", "hooks": [
        command(f"cat > {notified}")]}]}
    workspace, plugin = workspace_with(tmp_path, hooks=hooks)
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    questions: list[str] = []
    ask = person_answering(False, questions)
    await run_one_call(session, fake, "Bash", {"command": "echo x"}, ask=ask)
    assert questions == ["Allow Bash echo x?"]
    sent = json.loads(notified.read_text())
    assert (sent["hook_event_name"], sent["notification_type"], sent["message"]) == (
        "Notification", "permission_prompt", "skillway needs your permission to use Bash")


async def test_every_hook_of_one_prompt_carries_its_prompt_id_and_stop_its_empty_task_lists(tmp_path, fake, monkeypatch):
    from skillway.app.run import QuietInterface, run_prompt

    log = tmp_path / "inputs.jsonl"
    dump = {"hooks": [command(f"cat >> {log}; echo >> {log}")]}
    workspace, plugin = workspace_with(tmp_path, hooks={"UserPromptSubmit": [dump], "PreToolUse": [dump], "Stop": [dump]})
    session = open_session(workspace, plugin, fake, monkeypatch, trusted=True)
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="r")]), Reply(content=[Text("one")]),
                 Reply(content=[Text("two")]))
    await run_prompt(session, "first", QuietInterface())
    await run_prompt(session, "second", QuietInterface())
    seen = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert [s["hook_event_name"] for s in seen] == ["UserPromptSubmit", "PreToolUse", "Stop", "UserPromptSubmit", "Stop"]
    first, second = {s["prompt_id"] for s in seen[:3]}, {s["prompt_id"] for s in seen[3:]}
    assert len(first) == len(second) == 1 and first != second
    assert (seen[2]["background_tasks"], seen[2]["session_crons"]) == ([], [])

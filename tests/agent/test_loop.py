"""The agent loop against the fake API, scripting multi-turn tool use."""

import json

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse

pytestmark = pytest.mark.usefixtures("api_key")  # every test here runs with a key set


def session_for(tmp_path, fake, hooks: dict | None = None, include_bundled: bool = True) -> Session:
    workspace = write_tree(tmp_path / "ws", {"src/app.py": "def main():\n    return 42\n", ".env": "KEY=1\n"})
    plugin_dirs = []
    if hooks:
        plugin_dirs.append(write_tree(tmp_path / "guard", {"hooks/hooks.json": json.dumps({"hooks": hooks})}))
    settings = Settings(base_url=fake.base_url)
    return Session(workspace, discover(workspace, settings, plugin_dirs, include_bundled=include_bundled), settings)


def tool_results(request) -> list[dict]:
    return [block for block in request.body["messages"][-1]["content"] if block.get("type") == "tool_result"]


async def test_a_skill_is_loaded_on_demand(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Skill", {"skill": "skillway:code-review"}, id="toolu_1")]),
                 Reply(content=[Text("Reviewed.")]))
    result = await AgentLoop(session_for(tmp_path, fake)).run("review src/app.py")
    (skill_result,) = tool_results(fake.requests[1])
    assert result.text == "Reviewed." and result.turns == 2
    assert skill_result["tool_use_id"] == "toolu_1" and not skill_result.get("is_error")
    assert skill_result["content"].startswith("Skill skillway:code-review")
    assert "# " in skill_result["content"]  # the body, not just the description


async def test_tools_of_one_message_all_return_in_the_next_user_message(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="a"),
                                ToolUse("Glob", {"pattern": "**/*.py"}, id="b"),
                                ToolUse("Grep", {"pattern": "return"}, id="c")]),
                 Reply(content=[Text("Done.")]))
    await AgentLoop(session_for(tmp_path, fake)).run("look around")
    results = {r["tool_use_id"]: r["content"] for r in tool_results(fake.requests[1])}
    assert results == {"a": "     1\tdef main():\n     2\t    return 42", "b": "src/app.py", "c": "src/app.py:2: return 42"}


async def test_reading_outside_the_workspace_or_a_secret_is_an_error_result(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "../outside"}, id="a"), ToolUse("Read", {"file_path": ".env"}, id="b")]),
                 Reply(content=[Text("ok")]))
    await AgentLoop(session_for(tmp_path, fake)).run("read")
    results = {r["tool_use_id"]: (r["content"], r["is_error"]) for r in tool_results(fake.requests[1])}
    assert results == {"a": ("../outside is outside the workspace", True), "b": (".env looks like a secrets file; it is not read", True)}


async def test_a_pre_tool_use_deny_stops_the_tool_and_the_model_sees_the_reason(tmp_path, fake):
    deny = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": "no reading on Fridays"}}
    hooks = {"PreToolUse": [{"matcher": "Read", "hooks": [{"type": "command", "command": f"echo '{json.dumps(deny)}'"}]}]}
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="a")]), Reply(content=[Text("ok")]))
    await AgentLoop(session_for(tmp_path, fake, hooks)).run("read")
    (refused,) = tool_results(fake.requests[1])
    assert (refused["is_error"], refused["content"]) == (True, "denied by a PreToolUse hook: no reading on Fridays")


async def test_a_blocking_stop_hook_sends_the_model_back_and_the_guard_ends_it_after_8(tmp_path, fake):
    hooks = {"Stop": [{"hooks": [{"type": "command", "command": "echo 'Run the tests first.' >&2; exit 2"}]}]}
    result = await AgentLoop(session_for(tmp_path, fake, hooks)).run("fix it")
    assert len(fake.requests) == 9  # the first answer, then 8 times sent back
    assert fake.requests[1].body["messages"][-1] == {"role": "user", "content": "Run the tests first."}
    assert result.turns == 9
    assert "Stop hooks blocked 8 times in a row; the turn ends anyway" in result.notices


async def test_stop_hook_input_says_whether_it_is_already_active(tmp_path, fake):
    log = tmp_path / "stop.log"
    script = write_tree(tmp_path / "s", {"stop.py": (
        "import json, sys\n"
        f"data = json.load(sys.stdin); open({str(log)!r}, 'a').write(json.dumps(data['stop_hook_active']) + '\\n')\n"
        "sys.exit(0 if data['stop_hook_active'] else 2)\n")}) / "stop.py"
    hooks = {"Stop": [{"hooks": [{"type": "command", "command": f"python3 {script}"}]}]}
    await AgentLoop(session_for(tmp_path, fake, hooks)).run("go")
    assert log.read_text().split() == ["false", "true"]


async def test_max_turns_ends_the_run(tmp_path, fake):
    for _ in range(3):
        fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "*"})]))
    result = await AgentLoop(session_for(tmp_path, fake), max_turns=2).run("loop")
    assert (result.stop_reason, result.turns, len(fake.requests)) == ("max_turns", 2, 2)


async def test_every_message_goes_to_the_transcript(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "*"}, id="g")]), Reply(content=[Text("fin")]))
    session = session_for(tmp_path, fake)
    await AgentLoop(session).run("list")
    lines = [json.loads(line) for line in session.transcript.path.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["user", "assistant", "user", "assistant"]
    assert lines[1]["message"]["id"].startswith("msg_") and lines[1]["message"]["content"][0]["type"] == "tool_use"


async def test_a_tool_outside_the_list_is_refused(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "rm -rf /"}, id="x")]), Reply(content=[Text("ok")]))
    await AgentLoop(session_for(tmp_path, fake), tools=["Read"]).run("clean up")
    (refused,) = tool_results(fake.requests[1])
    assert (refused["is_error"], refused["content"]) == (True, "the tool Bash is not available here")


async def test_bash_is_off_unless_allowed(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="x"), ToolUse("Bash", {"command": "echo hi"}, id="y")]),
                 Reply(content=[Text("ok")]))
    session = session_for(tmp_path, fake)
    await AgentLoop(session, allowed_tools=("Bash(echo:*)",)).run("run")
    results = {r["tool_use_id"]: (r["content"], r["is_error"]) for r in tool_results(fake.requests[1])}
    assert results == {"x": ("Bash is not permitted (add it to allowed-tools)", True), "y": ("hi\n", False)}
    assert not (session.workspace / "made").exists()


async def test_edits_need_accept_edits(tmp_path, fake):
    edit = ToolUse("Edit", {"file_path": "src/app.py", "old_string": "42", "new_string": "43"}, id="e")
    fake.enqueue(Reply(content=[edit]), Reply(content=[Text("ok")]), Reply(content=[edit]), Reply(content=[Text("ok")]))
    session = session_for(tmp_path, fake)
    await AgentLoop(session).run("change it")
    assert "return 42" in (session.workspace / "src/app.py").read_text()
    assert tool_results(fake.requests[1])[0]["content"].startswith("Edit is not permitted: file changes need --permission-mode acceptEdits")
    session.hooks.context.permission_mode = "acceptEdits"
    await AgentLoop(session).run("change it")
    assert "return 43" in (session.workspace / "src/app.py").read_text()


async def test_three_agent_calls_in_one_message_run_at_the_same_time(tmp_path, fake):
    calls = [ToolUse("Agent", {"description": f"review {n}", "prompt": f"Review part {n}", "subagent_type": persona}, id=f"t{n}")
             for n, persona in enumerate(["code-reviewer", "security-auditor", "test-engineer"])]
    report = "report one two three\n```json\n[]\n```"  # the findings block the bundled recorder asks for
    fake.enqueue(Reply(content=calls), *[Reply(content=[Text(report)], token_delay=0.1)] * 3,
                 Reply(content=[Text("## Ship Decision: GO")]))
    result = await AgentLoop(session_for(tmp_path, fake)).run("/ship")
    _main_first, *reviewers, main_last = fake.requests
    assert len(reviewers) == 3
    assert max(r.started for r in reviewers) < min(r.ended for r in reviewers)  # each started before any finished
    systems = sorted(r.body["system"][-1]["text"] for r in reviewers)
    assert all("json" in text for text in systems)  # each persona's body is its system prompt
    assert {r["content"] for r in tool_results(main_last)} == {report}
    assert result.text == "## Ship Decision: GO"


async def test_subagent_hooks_fire_with_the_agent_type_and_its_own_transcript(tmp_path, fake):
    log = tmp_path / "events.log"
    record = f"python3 -c \"import json,sys; d=json.load(sys.stdin); open({str(log)!r},'a').write(json.dumps(d)+chr(10))\""
    hooks = {"SubagentStart": [{"hooks": [{"type": "command", "command": record}]}],
             "SubagentStop": [{"matcher": "skillway:code-reviewer", "hooks": [{"type": "command", "command": record}]}]}
    fake.enqueue(Reply(content=[ToolUse("Task", {"prompt": "Review", "subagent_type": "code-reviewer"}, id="t")]),
                 Reply(content=[Text("all good\n```json\n[]\n```")]), Reply(content=[Text("done")]))
    await AgentLoop(session_for(tmp_path, fake, hooks)).run("review")
    start, stop = [json.loads(line) for line in log.read_text().splitlines()]
    assert (start["hook_event_name"], start["agent_type"]) == ("SubagentStart", "skillway:code-reviewer")
    assert (stop["hook_event_name"], stop["last_assistant_message"], stop["agent_id"]) == ("SubagentStop", "all good\n```json\n[]\n```", start["agent_id"])
    sub_lines = [json.loads(line) for line in open(stop["agent_transcript_path"])]
    assert [line["type"] for line in sub_lines] == ["user", "assistant"]


async def test_an_unknown_agent_type_is_an_error_result(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "x", "subagent_type": "nobody"}, id="t")]), Reply(content=[Text("ok")]))
    await AgentLoop(session_for(tmp_path, fake)).run("go")
    (refused,) = tool_results(fake.requests[1])
    assert (refused["is_error"], refused["content"]) == (True, 'no agent named "nobody"')


async def test_a_cost_budget_stops_the_run_cleanly(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "*"})], usage={"input_tokens": 400_000, "output_tokens": 10}),
                 Reply(content=[Text("never asked")]))
    result = await AgentLoop(session_for(tmp_path, fake), max_cost_usd=1.0).run("go")
    assert (result.stop_reason, result.turns, len(fake.requests)) == ("budget", 1, 1)
    assert result.notices == ["stopped: the run cost $1.2002 of its $1.00 budget"]


async def test_a_token_budget_stops_the_run_cleanly(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "*"})], usage={"input_tokens": 900, "output_tokens": 200}))
    result = await AgentLoop(session_for(tmp_path, fake), max_tokens=1000).run("go")
    assert (result.stop_reason, result.notices) == ("budget", ["stopped: the run used 1,100 tokens of its 1,000-token budget"])


async def test_an_ask_decision_asks_and_follows_the_answer(tmp_path, fake):
    ask = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "ask",
                                  "permissionDecisionReason": "it lists files"}}
    hooks = {"PreToolUse": [{"matcher": "Glob", "hooks": [{"type": "command", "command": f"echo '{json.dumps(ask)}'"}]}]}
    questions = []

    async def answer(asked) -> bool:
        questions.append(asked.question)
        return len(questions) == 1  # yes the first time, no the second

    for _ in range(2):
        fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "src/*"}, id="g")]), Reply(content=[Text("ok")]))
    session = session_for(tmp_path, fake, hooks)
    await AgentLoop(session, ask=answer).run("list")
    await AgentLoop(session, ask=answer).run("list again")
    allowed, refused = tool_results(fake.requests[1])[0], tool_results(fake.requests[3])[0]
    assert questions == ["Allow Glob? it lists files"] * 2
    assert (allowed["is_error"], allowed["content"]) == (False, "src/app.py")
    assert (refused["is_error"], refused["content"]) == (True, "needs your approval, which was not given: it lists files")


async def test_allowed_tools_from_the_settings_apply_to_every_run(tmp_path, fake):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo from settings"}, id="b")]), Reply(content=[Text("ok")]))
    session = session_for(tmp_path, fake)
    session.apply_settings(Settings(base_url=fake.base_url, allowed_tools=("Bash(echo:*)",)))
    await AgentLoop(session).run("run")
    assert tool_results(fake.requests[1])[0]["content"] == "from settings\n"


def test_a_sub_agent_at_the_depth_limit_cannot_start_another(tmp_path, fake):
    session = session_for(tmp_path, fake)
    assert "Agent" in AgentLoop(session, depth=2).tool_names
    assert "Agent" not in AgentLoop(session, depth=3).tool_names


async def test_workspace_rules_apply_only_once_the_workspace_is_trusted(tmp_path, fake):
    session = session_for(tmp_path, fake)
    session.apply_settings(Settings(base_url=fake.base_url, workspace_allowed_tools=("Bash",)))
    assert AgentLoop(session).rules == []
    session.trust_workspace()
    assert [rule.tool for rule in AgentLoop(session).rules] == ["Bash"]


async def test_the_agent_tool_lists_the_agent_types_the_model_may_start(tmp_path, fake):
    fake.enqueue(Reply(content=[Text("ok")]))
    await AgentLoop(session_for(tmp_path, fake)).run("hi")
    (agent_tool,) = [tool for tool in fake.requests[0].body["tools"] if tool["name"] == "Agent"]
    listed = agent_tool["description"].split("Available agent types:\n")[1].splitlines()
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in listed] == [
        "- skillway:code-reviewer", "- skillway:general-purpose", "- skillway:security-auditor", "- skillway:test-engineer"]
    assert listed[0].endswith("(Tools: Read, Grep, Glob)")

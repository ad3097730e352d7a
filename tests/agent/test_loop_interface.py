"""The agent loop's public interface for a run no model drives (skillway's /ship lead): its Agent
tool replaced by a call, fields added to every hook's input, tool calls and Stop run directly."""

import json

import pytest

from skillway.agent import tools as agent_tools
from skillway.agent.loop import AgentLoop, AgentResult
from skillway.hooks.engine import StopGuard
from skillway.model.errors import ModelError
from tests.agent.test_loop import session_for, tool_results
from tests.fakes.anthropic_server import Reply, StatusError, Text, ToolUse

pytestmark = pytest.mark.usefixtures("api_key")


def recording_hooks(log) -> dict:
    record = f"python3 -c \"import json,sys; d=json.load(sys.stdin); open({str(log)!r},'a').write(json.dumps(d)+chr(10))\""
    return {event: [{"hooks": [{"type": "command", "command": record}]}] for event in ("PreToolUse", "PostToolUse", "Stop")}


async def test_the_agent_tool_runs_the_given_call_and_the_hooks_get_the_extra_fields(tmp_path, fake):
    log = tmp_path / "events.log"
    asked = []

    async def delegate(tool_input: dict, parent: AgentResult) -> str:
        asked.append(tool_input["subagent_type"])
        if tool_input["subagent_type"] == "nobody":
            raise agent_tools.ToolError("no such reviewer")
        parent.input_tokens += 5
        return "the delegate's report"

    fake.enqueue(Reply(content=[ToolUse("Agent", {"prompt": "x", "subagent_type": "code-reviewer"}, id="a"),
                                ToolUse("Agent", {"prompt": "x", "subagent_type": "nobody"}, id="b")]),
                 Reply(content=[Text("done")]))
    loop = AgentLoop(session_for(tmp_path, fake, recording_hooks(log)), run_agent=delegate,
                     hook_fields={"transcript_path": "/elsewhere.jsonl"})
    result = await loop.run("review")
    results = {r["tool_use_id"]: (r["content"], r["is_error"]) for r in tool_results(fake.requests[1])}
    assert sorted(asked) == ["code-reviewer", "nobody"] and len(fake.requests) == 2  # no sub-agent asked the model
    assert results == {"a": ("the delegate's report", False), "b": ("no such reviewer", True)}
    assert result.input_tokens >= 5
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert {e["hook_event_name"] for e in events} == {"PreToolUse", "PostToolUse", "Stop"}
    assert {e["transcript_path"] for e in events} == {"/elsewhere.jsonl"}


async def test_tool_calls_and_stop_run_without_a_model(tmp_path, fake):
    log = tmp_path / "events.log"
    loop = AgentLoop(session_for(tmp_path, fake, recording_hooks(log)), tools=["Read"])
    messages: list[dict] = []
    loop.append(messages, {"role": "user", "content": "read it"})
    read = await loop.use_tool({"type": "tool_use", "id": "r", "name": "Read", "input": {"file_path": "src/app.py"}},
                               AgentResult())
    refused = await loop.use_tool({"type": "tool_use", "id": "g", "name": "Grep", "input": {"pattern": "x"}}, AgentResult())
    outcome = await loop.fire_stop(StopGuard(), "all read")
    assert (read["content"].endswith("return 42"), read["is_error"]) == (True, False)
    assert (refused["content"], refused["is_error"]) == ("the tool Grep is not available here", True)
    assert not outcome.blocked and messages == [{"role": "user", "content": "read it"}]
    assert [json.loads(line)["hook_event_name"] for line in log.read_text().splitlines()] == ["PreToolUse", "PostToolUse", "Stop"]
    assert not fake.requests


async def test_a_failed_tool_call_fires_post_tool_use_failure_with_its_error_and_not_post_tool_use(tmp_path, fake):
    log = tmp_path / "events.log"
    record = f"python3 -c \"import json,sys; d=json.load(sys.stdin); open({str(log)!r},'a').write(json.dumps(d)+chr(10))\""
    hooks = {event: [{"hooks": [{"type": "command", "command": record}]}]
             for event in ("PostToolUse", "PostToolUseFailure")}
    loop = AgentLoop(session_for(tmp_path, fake, hooks), tools=["Read"])
    failed = await loop.use_tool({"type": "tool_use", "id": "m", "name": "Read", "input": {"file_path": "missing.py"}},
                                 AgentResult())
    [event] = [json.loads(line) for line in log.read_text().splitlines()]
    assert failed["is_error"] is True
    assert {key: event[key] for key in ("hook_event_name", "tool_name", "tool_input", "tool_use_id", "error",
                                        "is_interrupt")} == {
        "hook_event_name": "PostToolUseFailure", "tool_name": "Read", "tool_input": {"file_path": "missing.py"},
        "tool_use_id": "m", "error": failed["content"], "is_interrupt": False}
    assert "tool_response" not in event and isinstance(event["duration_ms"], int)


async def test_a_turn_ending_on_an_api_error_fires_stop_failure_and_not_stop(tmp_path, fake):
    log = tmp_path / "events.log"
    record = f"python3 -c \"import json,sys; d=json.load(sys.stdin); open({str(log)!r},'a').write(json.dumps(d)+chr(10))\""
    hooks = {event: [{"hooks": [{"type": "command", "command": record}]}] for event in ("Stop", "StopFailure")}
    fake.enqueue(StatusError(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(ModelError):
        await AgentLoop(session_for(tmp_path, fake, hooks)).run("hello")
    [event] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (event["hook_event_name"], event["error"]) == ("StopFailure", "authentication_failed")
    assert event["last_assistant_message"].startswith("API Error: ")

"""Print mode's options as Claude Code 2.1.328 has them: --json-schema (the StructuredOutput tool),
--fallback-model, --system-prompt[-file] and --append-system-prompt-file, --tools, --settings,
--agents and --include-partial-messages."""

import json

import pytest

from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, StatusError, Text, ToolUse
from tests.test_print_mode import run

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "count": {"type": "integer"}},
          "required": ["name", "count"]}
NUDGE = ("[structured-output-enforce] You MUST call the StructuredOutput tool to complete this request. "
         "Call this tool now.")


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"src/app.py": "def main():\n    return 42\n"})


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def tool_names(request) -> list[str]:
    return [tool["name"] for tool in request.body.get("tools", [])]


def last_tool_result(request) -> dict:
    return request.body["messages"][-1]["content"][0]


def schema_run(fake, workspace, *args, schema=SCHEMA):
    return run(fake, workspace, "-p", "describe it", "--json-schema", json.dumps(schema), "--bare", *args)


# --- --json-schema ------------------------------------------------------------------------------------

def test_json_schema_is_offered_as_the_structured_output_tool_with_the_schema_verbatim(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("StructuredOutput", {"name": "x", "count": 3})]))
    schema_run(fake, workspace)
    tool = next(t for t in fake.requests[0].body["tools"] if t["name"] == "StructuredOutput")
    assert (tool["input_schema"], tool["description"]) == (SCHEMA, (
        "Use this tool to return your final response in the requested structured format. You MUST call this "
        "tool exactly once at the end of your response to provide the structured output."))


def test_a_matching_structured_output_call_ends_the_run_with_it_as_structured_output_and_as_json_text(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("StructuredOutput", {"name": "x", "count": 3})]))
    result = schema_run(fake, workspace, "--output-format", "json")
    data = json.loads(result.stdout)
    assert (result.returncode, len(fake.requests)) == (0, 1)
    assert (data["subtype"], data["is_error"], data["result"], data["structured_output"], data["stop_reason"],
            data["num_turns"]) == ("success", False, '{"name":"x","count":3}', {"name": "x", "count": 3}, "tool_use", 2)
    assert list(data)[list(data).index("result") + 1] == "structured_output"


def test_text_output_of_a_structured_answer_is_its_json_text(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("StructuredOutput", {"name": "x", "count": 3})]))
    result = schema_run(fake, workspace)
    assert (result.returncode, result.stdout) == (0, '{"name":"x","count":3}\n')


def test_a_structured_output_call_that_does_not_match_is_told_what_is_wrong_and_the_model_tries_again(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("StructuredOutput", {"name": 5})]),
                 Reply(content=[ToolUse("StructuredOutput", {"name": "x", "count": 3})]))
    result = schema_run(fake, workspace, "--output-format", "json")
    assert last_tool_result(fake.requests[1]) == {
        "type": "tool_result", "tool_use_id": fake.requests[1].body["messages"][1]["content"][0]["id"],
        "content": "Output does not match required schema: root: 'count' is a required property, "
                   "/name: 5 is not of type 'string'", "is_error": True}
    assert (result.returncode, json.loads(result.stdout)["num_turns"]) == (0, 3)


def test_a_structured_output_call_that_does_not_match_twice_exits_1_with_error_max_structured_output_retries(fake, workspace):
    fake.enqueue(*[Reply(content=[ToolUse("StructuredOutput", {"name": "x"})]) for _ in range(2)])
    result = schema_run(fake, workspace, "--output-format", "json")
    data = json.loads(result.stdout)
    assert (result.returncode, len(fake.requests), data["subtype"], data["is_error"], data["num_turns"]) == (
        1, 2, "error_max_structured_output_retries", True, 3)
    assert data["errors"] == ["Failed to provide valid structured output after 2 attempts — last StructuredOutput "
                              "error: Output does not match required schema: root: 'count' is a required property"]
    assert "result" not in data and "structured_output" not in data


def test_a_text_answer_under_a_json_schema_is_reminded_once_to_call_the_tool(fake, workspace):
    fake.enqueue(Reply(content=[Text("It is x.")]), Reply(content=[ToolUse("StructuredOutput", {"name": "x", "count": 1})]))
    result = schema_run(fake, workspace, "--output-format", "stream-json")
    assert fake.requests[1].body["messages"][-1] == {"role": "user", "content": [{"type": "text", "text": NUDGE}]}
    reminder = next(line for line in lines(result) if line["type"] == "user")
    assert (reminder["message"], reminder["isSynthetic"]) == ({"role": "user", "content": [{"type": "text", "text": NUDGE}]},
                                                              True)


def test_a_second_text_answer_under_a_json_schema_ends_the_run_with_that_text(fake, workspace):
    fake.enqueue(Reply(content=[Text("It is x.")]), Reply(content=[Text("Still x.")]))
    result = schema_run(fake, workspace, "--output-format", "json")
    data = json.loads(result.stdout)
    assert (result.returncode, len(fake.requests), data["subtype"], data["result"]) == (0, 2, "success", "Still x.")
    assert "structured_output" not in data


@pytest.mark.parametrize("value, message", [
    ("notjson", "skillway: --json-schema is not valid JSON: Expecting value: line 1 column 1 (char 0)\n"),
    ("[]", "skillway: --json-schema must be a JSON object\n"),
    ('{"type": "object", "properties": {"a": {"type": "bogus"}}}',
     "skillway: --json-schema is not a valid JSON Schema: /properties/a/type: 'bogus' is not valid under any of the "
     "given schemas\n"),
])
def test_a_json_schema_that_is_not_one_is_refused_before_any_request(fake, workspace, value, message):
    result = run(fake, workspace, "-p", "hi", "--json-schema", value, "--bare")
    assert (result.returncode, result.stdout, result.stderr, fake.requests) == (1, "", message, [])


# --- --fallback-model ---------------------------------------------------------------------------------

def overloaded() -> StatusError:
    return StatusError(529, "overloaded_error", "Overloaded")


def test_an_overloaded_model_falls_back_after_the_clients_retries(fake, workspace):
    fake.enqueue(overloaded(), overloaded(), overloaded(), Reply(content=[Text("fine")]))
    result = run(fake, workspace, "-p", "hi", "--model", "opus", "--fallback-model", "claude-sonnet-4-5", "--bare")
    assert (result.returncode, result.stdout) == (0, "fine\n")
    assert [r.body["model"] for r in fake.requests] == ["claude-opus-4-6"] * 3 + ["claude-sonnet-4-5"]


def test_stream_json_says_the_model_fell_back_before_the_answer(fake, workspace):
    fake.enqueue(overloaded(), overloaded(), overloaded(), Reply(content=[Text("fine")]))
    result = run(fake, workspace, "-p", "hi", "--model", "opus", "--fallback-model", "claude-sonnet-4-5", "--bare",
                 "--output-format", "stream-json")
    events = lines(result)
    assert [e["type"] for e in events] == ["system", "system", "assistant", "result"]
    switch = events[1]
    assert set(switch) == {"type", "subtype", "uuid", "trigger", "original_model", "fallback_model", "content", "session_id"}
    assert (switch["subtype"], switch["trigger"], switch["original_model"], switch["fallback_model"], switch["content"]) == (
        "model_fallback", "overloaded", "claude-opus-4-6", "claude-sonnet-4-5",
        "Switched to claude-sonnet-4-5 due to high demand for claude-opus-4-6")


def test_a_model_that_is_not_found_falls_back_at_once(fake, workspace):
    fake.enqueue(StatusError(404, "not_found_error", "model: claude-nope"), Reply(content=[Text("fine")]))
    result = run(fake, workspace, "-p", "hi", "--model", "claude-nope", "--fallback-model", "claude-sonnet-4-5", "--bare")
    assert (result.returncode, [r.body["model"] for r in fake.requests]) == (0, ["claude-nope", "claude-sonnet-4-5"])
    assert "skillway: Switched to claude-sonnet-4-5 because claude-nope is not available\n" in result.stderr


def test_the_fallback_model_alias_is_resolved_as_the_model_one_is(fake, workspace):
    fake.enqueue(StatusError(404, "not_found_error"), Reply(content=[Text("fine")]))
    run(fake, workspace, "-p", "hi", "--model", "claude-nope", "--fallback-model", "haiku", "--bare")
    assert fake.requests[-1].body["model"] == "claude-haiku-4-5"


def test_the_rest_of_the_run_stays_on_the_fallback_model(fake, workspace):
    fake.enqueue(StatusError(404, "not_found_error"), Reply(content=[ToolUse("Glob", {"pattern": "*"})]),
                 Reply(content=[Text("done")]))
    run(fake, workspace, "-p", "hi", "--model", "claude-nope", "--fallback-model", "haiku", "--bare")
    assert [r.body["model"] for r in fake.requests] == ["claude-nope", "claude-haiku-4-5", "claude-haiku-4-5"]


def test_an_error_that_is_not_overload_or_not_found_does_not_fall_back(fake, workspace):
    fake.enqueue(StatusError(400, "invalid_request_error", "bad thing"))
    result = run(fake, workspace, "-p", "hi", "--fallback-model", "haiku", "--bare")
    assert (result.returncode, len(fake.requests)) == (1, 1)


# --- --system-prompt, --system-prompt-file, --append-system-prompt-file -----------------------------

def system_text(request) -> str:
    return request.body["system"][0]["text"]


def test_system_prompt_replaces_skillways_system_prompt(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--system-prompt", "You are terse.", "--bare")
    assert system_text(fake.requests[0]) == "You are terse."


def test_system_prompt_file_replaces_it_with_the_files_text_verbatim(fake, workspace):
    (workspace / "prompt.txt").write_text("FILE SYSTEM PROMPT\n")
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--system-prompt-file", "prompt.txt", "--bare")
    assert system_text(fake.requests[0]) == "FILE SYSTEM PROMPT\n"


def test_append_system_prompt_file_adds_the_files_text_after_the_system_prompt(fake, workspace):
    (workspace / "extra.txt").write_text("FILE APPEND\n")
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--system-prompt", "X", "--append-system-prompt-file", "extra.txt", "--bare")
    assert system_text(fake.requests[0]) == "X\n\nFILE APPEND\n"


def test_append_system_prompt_extends_skillways_own_prompt(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--append-system-prompt", "Answer in French.", "--bare")
    text = system_text(fake.requests[0])
    assert text.endswith("\n\nAnswer in French.") and len(text) > len("\n\nAnswer in French.")


@pytest.mark.parametrize("flag", ["--system-prompt-file", "--append-system-prompt-file"])
def test_a_missing_system_prompt_file_is_refused_naming_it(fake, workspace, flag):
    result = run(fake, workspace, "-p", "hi", flag, "nope.txt", "--bare")
    assert (result.returncode, result.stdout, result.stderr, fake.requests) == (
        1, "", f"skillway: {flag}: file not found: {workspace / 'nope.txt'}\n", [])


# --- --tools ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["Bash,Read", "Bash Read", "Read, Bash"])
def test_tools_offers_only_the_built_in_tools_named(fake, workspace, value):
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--tools", value, "--bare")
    assert tool_names(fake.requests[0]) == ["Read", "Bash"]


def test_empty_tools_offers_no_tool_at_all(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--tools", "", "--bare")
    assert "tools" not in fake.requests[0].body


def test_tools_default_offers_every_built_in_tool(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]), Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--tools", "default", "--bare")
    run(fake, workspace, "-p", "hi", "--bare")
    assert tool_names(fake.requests[0]) == tool_names(fake.requests[1])


def test_a_name_that_is_no_built_in_tool_is_left_out_silently(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    result = run(fake, workspace, "-p", "hi", "--tools", "Bogus,Read", "--bare")
    assert (result.returncode, result.stderr, tool_names(fake.requests[0])) == (0, "", ["Read"])


def test_the_init_line_lists_the_tools_offered(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    result = run(fake, workspace, "-p", "hi", "--tools", "Bash,Read", "--bare", "--output-format", "stream-json")
    assert lines(result)[0]["tools"] == ["Read", "Bash"]


def test_a_tool_left_out_is_refused_when_the_model_calls_it(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "*"})]), Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--tools", "Read", "--bare")
    assert last_tool_result(fake.requests[1])["content"] == "the tool Glob is not available here"


# --- --settings ---------------------------------------------------------------------------------------

def test_a_settings_allow_rule_lets_a_command_run_unasked(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made.txt"})]), Reply(content=[Text("done")]))
    result = run(fake, workspace, "-p", "make it", "--bare", "--settings",
                 json.dumps({"permissions": {"allow": ["Bash(touch:*)"]}}))
    assert (result.returncode, (workspace / "made.txt").exists()) == (0, True)


def test_a_settings_deny_rule_refuses_a_tool(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"})]), Reply(content=[Text("done")]))
    run(fake, workspace, "-p", "read it", "--bare", "--settings", json.dumps({"permissions": {"deny": ["Read"]}}))
    assert last_tool_result(fake.requests[1])["content"] == "Permission to use Read was denied by the rule Read"


def test_the_hooks_of_a_settings_file_run(fake, workspace, tmp_path):
    settings = tmp_path / "extra-settings.json"
    settings.write_text(json.dumps({"hooks": {"SessionStart": [{"hooks": [
        {"type": "command", "command": "echo 'Settings hook context.'"}]}]}}))
    fake.enqueue(Reply(content=[Text("ok")]))
    result = run(fake, workspace, "-p", "hi", "--settings", str(settings), "--bare")
    assert result.returncode == 0
    assert "Settings hook context." in fake.requests[0].body["system"][1]["text"]


def test_a_settings_value_that_is_not_json_and_no_file_is_refused(fake, workspace):
    result = run(fake, workspace, "-p", "hi", "--settings", "{not json", "--bare")
    assert (result.returncode, result.stdout, result.stderr, fake.requests) == (
        1, "", f"skillway: Settings file not found: {workspace / '{not json'}\n", [])


# --- --agents -----------------------------------------------------------------------------------------

REVIEWER = {"reviewer": {"description": "Reviews code carefully", "prompt": "You are a code reviewer.",
                         "tools": ["Read", "Bash"], "model": "sonnet"}}


def test_agents_adds_an_agent_type_the_agent_tool_lists(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "hi", "--agents", json.dumps(REVIEWER), "--bare")
    agent = next(t for t in fake.requests[0].body["tools"] if t["name"] == "Agent")
    assert "- reviewer: Reviews code carefully (Tools: Read, Bash)" in agent["description"]


def test_an_agents_flag_agent_runs_with_its_prompt_tools_and_model(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Agent", {"subagent_type": "reviewer", "prompt": "review app.py",
                                                  "description": "review"})]),
                 Reply(content=[Text("Looks fine.")]), Reply(content=[Text("The reviewer says it looks fine.")]))
    result = run(fake, workspace, "-p", "review", "--agents", json.dumps(REVIEWER), "--bare")
    agent_request = fake.requests[1]
    assert result.returncode == 0
    assert system_text(agent_request).endswith("\n\nYou are a code reviewer.")
    assert (tool_names(agent_request), agent_request.body["model"]) == (["Read", "Bash"], "claude-sonnet-4-6")


def test_an_agents_flag_agent_shows_in_the_init_line(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    result = run(fake, workspace, "-p", "hi", "--agents", json.dumps(REVIEWER), "--bare", "--output-format",
                 "stream-json")
    assert lines(result)[0]["agents"] == ["reviewer"]


@pytest.mark.parametrize("value, problem", [
    ('{"bad": {"prompt": "p"}}', "bad.description: Invalid input: expected string, received undefined"),
    ('{"bad": {"description": "d"}}', "bad.prompt: Invalid input: expected string, received undefined"),
    ("[]", "Invalid input: expected record, received array"),
    ('{"x": {"description": "d", "prompt": "p", "tools": "Read"}}',
     "x.tools: Invalid input: expected array, received string"),
])
def test_an_invalid_agents_value_is_refused_with_claude_codes_message(fake, workspace, value, problem):
    result = run(fake, workspace, "-p", "hi", "--agents", value, "--bare")
    assert (result.returncode, result.stdout, result.stderr, fake.requests) == (
        1, "", f"skillway: Invalid --agents configuration:\n{problem}\n", [])


def test_an_agents_value_that_is_not_json_is_read_as_a_file_path(fake, workspace):
    result = run(fake, workspace, "-p", "hi", "--agents", "notjson", "--bare")
    assert (result.returncode, result.stderr) == (1, f"skillway: --agents file not found: {workspace / 'notjson'} "
                                                     "(a value that is not a JSON object is read as a file path)\n")


# --- --include-partial-messages -----------------------------------------------------------------------

def partial_run(fake, workspace, *args):
    return run(fake, workspace, "-p", "hi", "--bare", "--output-format", "stream-json",
               "--include-partial-messages", *args)


def shape(line: dict) -> str:
    if line["type"] == "stream_event":
        return line["event"]["type"]
    return "/".join(filter(None, [line["type"], line.get("subtype"), line.get("status")]))


def test_partial_messages_wrap_each_streaming_event_and_print_a_block_as_it_completes(fake, workspace):
    fake.enqueue(Reply(content=[Text("hi there")]))
    result = partial_run(fake, workspace)
    assert [shape(line) for line in lines(result)] == [
        "system/init", "system/status/requesting", "message_start", "content_block_start", "content_block_delta",
        "content_block_delta", "assistant", "content_block_stop", "message_delta", "message_stop", "result/success"]


def test_a_stream_event_line_has_claude_codes_keys_and_the_raw_event(fake, workspace):
    fake.enqueue(Reply(content=[Text("hi")]))
    events = [line for line in lines(partial_run(fake, workspace)) if line["type"] == "stream_event"]
    delta = next(e for e in events if e["event"]["type"] == "content_block_delta")
    start = events[0]["event"]["message"]
    assert set(delta) == {"type", "event", "session_id", "parent_tool_use_id", "uuid", "api_message_id"}
    assert (delta["event"], delta["api_message_id"]) == (
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}}, start["id"])


def test_with_partial_messages_a_tool_call_is_printed_once_with_its_whole_input(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="t1")]), Reply(content=[Text("42.")]))
    answers = [line for line in lines(partial_run(fake, workspace)) if line["type"] == "assistant"]
    assert [a["message"]["content"] for a in answers] == [
        [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "src/app.py"}}],
        [{"type": "text", "text": "42."}]]


def test_without_partial_messages_no_stream_event_or_status_line_is_printed(fake, workspace):
    fake.enqueue(Reply(content=[Text("hi")]))
    result = run(fake, workspace, "-p", "hi", "--bare", "--output-format", "stream-json")
    assert [shape(line) for line in lines(result)] == ["system/init", "assistant", "result/success"]

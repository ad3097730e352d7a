"""`skillway -p` in its three output formats, its exit codes, and slash commands from a plugin."""

import json
import os

import pytest

from tests.cli_runner import run_skillway
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, StatusError, Text, ToolUse


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"src/app.py": "def main():\n    return 42\n"})


@pytest.fixture
def tools_plugin(tmp_path):
    """A third-party-style plugin whose commands use $ARGUMENTS, $0, @file and !cmd."""
    return write_tree(tmp_path / "tools", {
        ".claude-plugin/plugin.json": '{"name": "tools", "version": "1.0.0"}',
        "commands/explain-file.md": "---\ndescription: Explain a file\nargument-hint: FILE\n---\nExplain @$0 briefly.\n",
        "commands/greet.md": "---\ndescription: Greet\n---\nSay hello to $ARGUMENTS.\n",
        "commands/status.md": "---\ndescription: Status\nallowed-tools: Bash(echo:*)\n---\nBranch: !`echo feature-x`\n",
        "hooks/hooks.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [
            {"type": "command", "command": "echo 'Project uses pytest.'"}]}]}}),
    })


def run(fake, workspace, *args, user_dirs=None, stdin=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SKILLWAY_")) or k == "SKILLWAY_NO_DAEMON"}
    home = user_dirs or workspace.parent / "user"
    env.update(ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="sk-test-print-0123",
               SKILLWAY_CONFIG_DIR=str(home / "config"), SKILLWAY_DATA_DIR=str(home / "data"), **(env_extra or {}))
    return run_skillway(args, cwd=workspace, env=env, input=stdin)


def test_text_output_is_the_answer(fake, workspace):
    fake.enqueue(Reply(content=[Text("The answer is 42.")]))
    result = run(fake, workspace, "-p", "what does main return?", "--bare")
    assert (result.returncode, result.stdout) == (0, "The answer is 42.\n")


def test_json_output_has_the_claude_shape(fake, workspace):
    fake.enqueue(Reply(content=[Text("Done.")], usage={"input_tokens": 100, "output_tokens": 7}))
    result = run(fake, workspace, "-p", "hi", "--output-format", "json", "--bare")
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert set(data) == {"type", "subtype", "is_error", "result", "session_id", "num_turns", "duration_ms",
                         "duration_api_ms", "total_cost_usd", "usage", "stop_reason", "permission_denials",
                         "result_index", "uuid"}
    assert (data["type"], data["subtype"], data["is_error"], data["result"], data["num_turns"]) == ("result", "success", False, "Done.", 1)
    assert data["usage"] == {"input_tokens": 100, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    assert data["total_cost_usd"] == pytest.approx((100 * 3 + 7 * 15) / 1e6)


def test_stream_json_prints_one_event_per_line(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="t1")]), Reply(content=[Text("42.")]))
    result = run(fake, workspace, "-p", "read it", "--output-format", "stream-json", "--bare")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    # As claude -p prints them: no echo of the prompt, one assistant line per block, the tool results.
    assert [(e["type"], e.get("subtype")) for e in events] == [
        ("system", "init"), ("assistant", None), ("user", None), ("assistant", None), ("result", "success")]
    assert events[1]["message"]["content"] == [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "src/app.py"}}]
    assert (events[1]["message"]["stop_reason"], events[1]["parent_tool_use_id"]) == (None, None)
    assert events[2]["message"]["content"][0]["type"] == "tool_result"
    assert events[-1]["num_turns"] == 2


def test_a_stream_json_assistant_answer_prints_one_line_per_content_block(fake, workspace):
    fake.enqueue(Reply(content=[Text("Reading."), ToolUse("Read", {"file_path": "src/app.py"}, id="t1")]),
                 Reply(content=[Text("42.")]))
    result = run(fake, workspace, "-p", "read it", "--output-format", "stream-json", "--bare")
    answers = [json.loads(line) for line in result.stdout.splitlines() if json.loads(line)["type"] == "assistant"]
    assert [a["message"]["content"][0]["type"] for a in answers] == ["text", "tool_use", "text"]
    assert answers[0]["message"]["id"] == answers[1]["message"]["id"]  # two blocks of one answer


def test_prompt_from_stdin(fake, workspace):
    fake.enqueue(Reply(content=[Text("ok")]))
    assert run(fake, workspace, "-p", "-", "--bare", stdin="from stdin\n").returncode == 0
    assert fake.requests[0].body["messages"][0]["content"] == "from stdin"


def test_a_model_error_exits_1_with_the_message(fake, workspace):
    fake.enqueue(StatusError(401, "authentication_error"))
    result = run(fake, workspace, "-p", "hi", "--bare")
    assert result.returncode == 1
    assert "The API rejected the credentials (401" in result.stderr


def test_max_turns_exits_1_with_its_subtype(fake, workspace):
    for _ in range(2):
        fake.enqueue(Reply(content=[ToolUse("Glob", {"pattern": "*"})]))
    result = run(fake, workspace, "-p", "loop", "--max-turns", "1", "--output-format", "json", "--bare")
    assert (result.returncode, json.loads(result.stdout)["subtype"]) == (1, "error_max_turns")


def test_a_blocking_user_prompt_hook_exits_2_and_nothing_is_sent(fake, workspace, tmp_path):
    guard = write_tree(tmp_path / "guard", {"hooks/hooks.json": json.dumps({"hooks": {"UserPromptSubmit": [{"hooks": [
        {"type": "command", "command": "echo 'no secrets in prompts' >&2; exit 2"}]}]}})})
    result = run(fake, workspace, "-p", "my password is hunter2", "--plugin-dir", guard)
    assert (result.returncode, fake.requests) == (2, [])
    assert "no secrets in prompts" in result.stderr


def test_session_start_hooks_run_in_print_mode(fake, workspace, tools_plugin):
    fake.enqueue(Reply(content=[Text("ok")]))
    assert run(fake, workspace, "-p", "hi", "--plugin-dir", tools_plugin).returncode == 0
    assert "Project uses pytest." in fake.requests[0].body["system"][1]["text"]


def test_a_command_with_arguments(fake, workspace, tools_plugin):
    fake.enqueue(Reply(content=[Text("Hello!")]))
    result = run(fake, workspace, "-p", "/tools:greet the team", "--plugin-dir", tools_plugin)
    assert result.returncode == 0
    assert fake.requests[0].body["messages"][0]["content"] == "Say hello to the team."


def test_a_command_with_a_positional_file_reference(fake, workspace, tools_plugin):
    fake.enqueue(Reply(content=[Text("It returns 42.")]))
    run(fake, workspace, "-p", "/explain-file src/app.py", "--plugin-dir", tools_plugin)
    prompt = fake.requests[0].body["messages"][0]["content"]
    assert '<file path="src/app.py">\ndef main():\n    return 42\n' in prompt


def test_a_command_running_a_shell_command_from_a_trusted_plugin(fake, workspace, tools_plugin):
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "/status", "--plugin-dir", tools_plugin)
    assert fake.requests[0].body["messages"][0]["content"] == "Branch: feature-x"


def test_shell_commands_of_an_untrusted_workspace_command_are_refused(fake, workspace):
    write_tree(workspace, {".claude/commands/wipe.md": "---\nallowed-tools: Bash\n---\n!`touch wiped`\n"})
    result = run(fake, workspace, "-p", "/wipe")
    assert result.returncode == 1
    assert "workspace is not trusted" in result.stderr
    assert not (workspace / "wiped").exists() and fake.requests == []


def test_an_unknown_command_is_a_clear_error(fake, workspace):
    result = run(fake, workspace, "-p", "/nope", "--bare")
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (1, 'skillway: no command named "nope"')


def test_legacy_plugins_can_count_arguments_from_one(fake, workspace, tmp_path):
    legacy = write_tree(tmp_path / "legacy", {"commands/pair.md": "First $1, second $2.\n"})
    user = tmp_path / "legacy-user"
    (user / "config").mkdir(parents=True)
    (user / "config" / "settings.json").write_text('{"argumentBase": 1}')
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "/pair alpha beta", "--plugin-dir", legacy, user_dirs=user)
    assert fake.requests[0].body["messages"][0]["content"] == "First alpha, second beta."  # placed: nothing appended


def permission_plugin(tmp_path, decision: dict):
    """A plugin whose PermissionRequest hook answers every Bash permission prompt with `decision`."""
    output = json.dumps({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}})
    return write_tree(tmp_path / "answers", {"hooks/hooks.json": json.dumps({"hooks": {"PermissionRequest": [
        {"matcher": "Bash", "hooks": [{"type": "command", "command": f"echo '{output}'"}]}]}})})


def tool_result(request) -> tuple[bool, str]:
    (result,) = [block for block in request.body["messages"][-1]["content"] if block.get("type") == "tool_result"]
    return bool(result.get("is_error")), result["content"]


def test_a_permission_request_hook_answers_the_prompt_in_print_mode(fake, workspace, tmp_path):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo approved"}, id="t1")]), Reply(content=[Text("ok")]))
    result = run(fake, workspace, "-p", "run it", "--plugin-dir", permission_plugin(tmp_path, {"behavior": "allow"}))
    assert result.returncode == 0
    assert tool_result(fake.requests[1]) == (False, "approved\n")


def test_a_permission_request_interrupt_ends_print_mode_with_exit_1(fake, workspace, tmp_path):
    plugin = permission_plugin(tmp_path, {"behavior": "deny", "message": "no shell here", "interrupt": True})
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo x"}, id="t1")]), Reply(content=[Text("ok")]))
    result = run(fake, workspace, "-p", "run it", "--plugin-dir", plugin)
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        1, "skillway: stopped by a PermissionRequest hook: no shell here")
    assert len(fake.requests) == 1


def test_disallowed_tools_refuse_what_allowed_tools_allow(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "rm -f src/app.py"}, id="t1")]), Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "clean", "--bare", "--allowedTools", "Bash", "--disallowedTools", "Bash(rm:*)")
    assert tool_result(fake.requests[1]) == (True, "Permission to use Bash was denied by the rule Bash(rm:*)")
    assert (workspace / "src" / "app.py").exists()


def test_a_command_s_named_arguments_are_filled_from_what_was_typed(fake, workspace, tmp_path):
    plugin = write_tree(tmp_path / "named", {"commands/fix.md": "---\narguments: issue branch\n---\nFix $issue on $branch.\n"})
    fake.enqueue(Reply(content=[Text("ok")]))
    run(fake, workspace, "-p", "/named:fix 42 main", "--plugin-dir", plugin)
    assert fake.requests[0].body["messages"][0]["content"] == "Fix 42 on main."

"""Stored sessions in print mode, as `claude -p` keeps them: `--resume ID` and `--continue` go on with
a session (its earlier messages sent again exactly as before, under the same id), `--fork-session`
goes on from a copy under a new id, `--session-id` names a new one; `--input-format stream-json`
runs one turn per line of stdin, each following the last; `skillway sessions list` sums them up."""

import json

import pytest

from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.test_print_mode import run

OTHER_ID = "12345678-1234-1234-1234-123456789abc"


@pytest.fixture
def workspace(tmp_path):
    from tests.conftest import write_tree

    return write_tree(tmp_path / "ws", {"src/app.py": "def main():\n    return 42\n"})


def first_session(fake, workspace) -> str:
    """A session that read a file, then answered: its id."""
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="t1")]), Reply(content=[Text("It returns 42.")]))
    result = run(fake, workspace, "-p", "what does main return?", "--output-format", "json", "--bare")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["session_id"]


def sent(request) -> str:
    return json.dumps(request.body["messages"], sort_keys=True)


def test_resume_sends_the_earlier_messages_again_exactly_and_keeps_the_session_id(fake, workspace):
    session_id = first_session(fake, workspace)
    before = fake.requests[-1].body["messages"]
    fake.enqueue(Reply(content=[Text("And sub is not there.")]))
    result = run(fake, workspace, "-p", "and sub?", "--resume", session_id, "--output-format", "json", "--bare")
    messages = fake.requests[-1].body["messages"]
    assert json.loads(result.stdout)["session_id"] == session_id
    assert json.dumps(messages[:len(before)]) == json.dumps(before)  # the prefix the model saw, byte for byte
    assert messages[len(before):] == [{"role": "assistant", "content": [{"type": "text", "text": "It returns 42."}]},
                                      {"role": "user", "content": "and sub?"}]


def test_continue_goes_on_with_the_workspace_s_latest_session(fake, workspace):
    session_id = first_session(fake, workspace)
    fake.enqueue(Reply(content=[Text("Yes.")]))
    result = run(fake, workspace, "-p", "sure?", "--continue", "--output-format", "json", "--bare")
    assert json.loads(result.stdout)["session_id"] == session_id
    assert fake.requests[-1].body["messages"][0]["content"] == "what does main return?"


def test_continue_without_a_stored_session_starts_a_new_one(fake, workspace):
    fake.enqueue(Reply(content=[Text("Hello.")]))
    result = run(fake, workspace, "-p", "hi", "--continue", "--bare")
    assert (result.returncode, result.stdout) == (0, "Hello.\n")
    assert fake.requests[-1].body["messages"] == [{"role": "user", "content": "hi"}]


def test_fork_session_goes_on_from_a_copy_under_a_new_id_and_leaves_the_original_alone(fake, workspace):
    session_id = first_session(fake, workspace)
    original = next((workspace.parent / "user" / "data" / "transcripts").glob(f"*/{session_id}.jsonl"))
    kept = original.read_text()
    fake.enqueue(Reply(content=[Text("Forked.")]))
    result = run(fake, workspace, "-p", "go on", "--resume", session_id, "--fork-session", "--session-id", OTHER_ID,
                 "--output-format", "json", "--bare")
    assert json.loads(result.stdout)["session_id"] == OTHER_ID
    assert original.read_text() == kept
    copy = [json.loads(line) for line in original.with_name(f"{OTHER_ID}.jsonl").read_text().splitlines()]
    assert {line["sessionId"] for line in copy} == {OTHER_ID}
    assert fake.requests[-1].body["messages"][0]["content"] == "what does main return?"


@pytest.mark.parametrize(("args", "said"), [
    (["--session-id", "not-a-uuid"], "skillway: Invalid session ID. Must be a valid UUID.\n"),
    (["--resume", OTHER_ID], f"skillway: No conversation found with session ID: {OTHER_ID}\n"),
    (["--resume", "yesterday"], 'skillway: --resume needs a session ID: "yesterday" is not a UUID\n'),
    (["--continue", "--session-id", OTHER_ID], "skillway: --session-id with --continue or --resume also needs --fork-session.\n"),
])
def test_a_session_that_cannot_be_had_is_refused_with_exit_1_and_nothing_sent(fake, workspace, args, said):
    result = run(fake, workspace, "-p", "hi", "--bare", *args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", said)
    assert fake.requests == []


def test_a_session_id_already_in_use_is_refused(fake, workspace):
    session_id = first_session(fake, workspace)
    result = run(fake, workspace, "-p", "hi", "--bare", "--session-id", session_id)
    assert (result.returncode, result.stderr) == (1, f"skillway: Session ID {session_id} is already in use.\n")


def turns(*prompts: str) -> str:
    return "".join(json.dumps({"type": "user", "message": {"role": "user", "content": p}}) + "\n" for p in prompts)


def test_stream_json_input_runs_a_turn_per_line_each_following_the_last(fake, workspace):
    fake.enqueue(Reply(content=[Text("One.")]), Reply(content=[Text("Two.")]), Reply(content=[Text("Three.")]))
    result = run(fake, workspace, "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--bare",
                 stdin=turns("first", "second", "third"))
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["type"], e.get("subtype")) for e in events] == [
        ("system", "init"), ("assistant", None), ("result", "success")] * 3
    assert [(e["result_index"], e["result"]) for e in events if e["type"] == "result"] == [
        (0, "One."), (1, "Two."), (2, "Three.")]
    assert len({e["session_id"] for e in events}) == 1
    assert fake.requests[2].body["messages"] == [
        {"role": "user", "content": "first"}, {"role": "assistant", "content": [{"type": "text", "text": "One."}]},
        {"role": "user", "content": "second"}, {"role": "assistant", "content": [{"type": "text", "text": "Two."}]},
        {"role": "user", "content": "third"}]


def test_a_stream_json_line_that_is_not_json_ends_the_run_with_exit_1(fake, workspace):
    fake.enqueue(Reply(content=[Text("One.")]))
    result = run(fake, workspace, "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--bare",
                 stdin=turns("first") + "{oops\n" + turns("never"))
    assert result.returncode == 1
    assert result.stderr == "skillway: Error parsing streaming input line (5 chars): not JSON\n"
    assert [json.loads(line)["type"] for line in result.stdout.splitlines()] == ["system", "assistant", "result"]
    assert len(fake.requests) == 1


def test_stream_json_input_needs_stream_json_output(fake, workspace):
    result = run(fake, workspace, "-p", "--input-format", "stream-json", "--bare", stdin=turns("x"))
    assert (result.returncode, result.stderr) == (1, "skillway: --input-format=stream-json requires output-format=stream-json.\n")


def test_sessions_list_shows_each_session_with_its_turns_tokens_cost_and_title(fake, workspace):
    session_id = first_session(fake, workspace)
    result = run(fake, workspace, "sessions", "list", "--json")
    (row,) = json.loads(result.stdout)["sessions"]
    assert (row["id"], row["workspace"], row["turns"], row["title"]) == (session_id, str(workspace), 1, "what does main return?")
    assert row["output_tokens"] > 0 and row["cost_usd"] > 0

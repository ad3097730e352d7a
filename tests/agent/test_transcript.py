"""Transcripts are JSONL in Claude Code's shape; the API key never reaches them."""

import json

from skillway.agent.transcript import Transcript


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_file_exists_as_soon_as_the_transcript_is_made(tmp_path):
    transcript = Transcript(tmp_path / "t" / "s1.jsonl", "s1", tmp_path)
    assert transcript.path.read_text() == ""


def test_each_message_is_one_line_chained_to_the_previous(tmp_path):
    transcript = Transcript(tmp_path / "s1.jsonl", "s1", tmp_path)
    first = transcript.append({"role": "user", "content": "Review this"})
    assistant = {"id": "msg_1", "role": "assistant", "content": [
        {"type": "text", "text": "Starting"},
        {"type": "tool_use", "id": "toolu_1", "name": "Agent", "input": {"subagent_type": "code-reviewer"}}]}
    second = transcript.append(assistant)
    one, two = lines(transcript.path)
    assert (one["type"], one["uuid"], one["parentUuid"], one["sessionId"], one["cwd"]) == ("user", first, None, "s1", str(tmp_path))
    assert (two["type"], two["uuid"], two["parentUuid"], two["message"]) == ("assistant", second, first, assistant)
    assert one["timestamp"].endswith("Z")


def test_messages_reads_back_the_api_messages(tmp_path):
    transcript = Transcript(tmp_path / "s1.jsonl", "s1", tmp_path)
    transcript.append({"role": "user", "content": "a"})
    transcript.append({"role": "assistant", "id": "m", "content": [{"type": "text", "text": "b"}]})
    assert [m["role"] for m in transcript.messages()] == ["user", "assistant"]


def test_a_subagent_writes_its_own_file_beside_the_session(tmp_path):
    transcript = Transcript(tmp_path / "s1.jsonl", "s1", tmp_path)
    sub = transcript.subagent("a1b2")
    sub.append({"role": "user", "content": "review"})
    assert sub.path == tmp_path / "s1" / "subagents" / "agent-a1b2.jsonl"
    assert transcript.path.read_text() == ""


def test_the_api_key_is_redacted_from_anything_written(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    transcript = Transcript(tmp_path / "s1.jsonl", "s1", tmp_path)
    transcript.append({"role": "user", "content": "my key is sk-ant-test-0123456789"})
    assert "sk-ant-test" not in transcript.path.read_text()
    assert transcript.messages()[0]["content"] == "my key is [REDACTED]"


def test_the_conversation_to_resume_leaves_out_an_answer_whose_tool_calls_never_got_results(tmp_path):
    transcript = Transcript(tmp_path / "t.jsonl", "s", tmp_path)
    transcript.append({"role": "user", "content": "read it"})
    transcript.append({"id": "m1", "role": "assistant", "model": "m", "usage": {"input_tokens": 1},
                       "content": [{"type": "text", "text": "Sure."}]})
    transcript.append({"role": "user", "content": "and the other one"})
    transcript.append({"id": "m2", "role": "assistant", "model": "m",
                       "content": [{"type": "tool_use", "id": "t", "name": "Read", "input": {}}]})  # cut off here
    assert transcript.conversation() == [
        {"role": "user", "content": "read it"}, {"role": "assistant", "content": [{"type": "text", "text": "Sure."}]},
        {"role": "user", "content": "and the other one"}]


def test_a_resumed_transcript_goes_on_from_its_last_line(tmp_path):
    first = Transcript(tmp_path / "t.jsonl", "s", tmp_path)
    last = first.append({"role": "user", "content": "hi"})
    with (tmp_path / "t.jsonl").open("a") as stream:
        stream.write('{"cut off')  # a line a crash left half written
    again = Transcript(tmp_path / "t.jsonl", "s", tmp_path)
    again.append({"role": "user", "content": "again"})
    assert again.records()[-1]["parentUuid"] == last
    assert [r["message"]["content"] for r in again.records()] == ["hi", "again"]

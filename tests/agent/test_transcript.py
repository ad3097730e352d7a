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

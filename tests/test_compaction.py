"""Compaction: a session's conversation summed up by the model in one message it goes on from; the
transcript keeps everything; PreCompact, SessionStart (source compact) and PostCompact fire in
Claude Code's order with its fields; a long enough conversation is compacted before its next turn."""

import json

import pytest

from skillway.app.compaction import compact, needs_compaction, summary_of
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text

pytestmark = pytest.mark.usefixtures("api_key")


def hooked_session(tmp_path, fake, **settings) -> tuple[Session, object]:
    """A session whose plugin's compaction hooks write their input to a file (and PreCompact adds a line)."""
    dump = tmp_path / "hooks.jsonl"
    command = f"cat >> {dump}; echo >> {dump}"
    hooks = {"PreCompact": [{"hooks": [{"type": "command", "command": f"{command}; echo 'Keep the test names.'"}]}],
             "SessionStart": [{"matcher": "compact", "hooks": [{"type": "command", "command": command}]}],
             "PostCompact": [{"hooks": [{"type": "command", "command": command}]}]}
    plugin = write_tree(tmp_path / "kit", {".claude-plugin/plugin.json": '{"name": "kit"}',
                                           "hooks/hooks.json": json.dumps({"hooks": hooks})})
    workspace = write_tree(tmp_path / "ws", {"a.txt": "x\n"})
    chosen = Settings(base_url=fake.base_url, **settings)
    session = Session(workspace, discover(workspace, chosen, [plugin], include_bundled=False), chosen)
    return session, dump


def talked(session: Session, usage_tokens: int = 10) -> None:
    session.transcript.append({"role": "user", "content": "make the tests pass"})
    session.transcript.append({"id": "m1", "role": "assistant", "model": "claude-sonnet-4-5", "content": [
        {"type": "text", "text": "Fixed test_add."}], "usage": {"input_tokens": usage_tokens, "output_tokens": 5}})


async def test_compact_sums_the_conversation_up_and_the_next_turn_goes_on_from_the_summary(tmp_path, fake):
    session, _ = hooked_session(tmp_path, fake)
    talked(session)
    fake.enqueue(Reply(content=[Text("Thinking it over.\n<summary>The tests pass now; test_add was fixed.</summary>")]))
    done = await compact(session, trigger="manual", instructions="keep the file names")
    sent = fake.requests[0].body["messages"]
    assert sent[:2] == [{"role": "user", "content": "make the tests pass"},
                        {"role": "assistant", "content": [{"type": "text", "text": "Fixed test_add."}]}]
    assert sent[2]["content"].endswith("Also keep in mind:\nkeep the file names\n\nKeep the test names.")
    assert done.summary == "The tests pass now; test_add was fixed."
    (summary,) = session.transcript.conversation()
    assert summary["role"] == "user" and "The tests pass now; test_add was fixed." in summary["content"]
    assert str(session.transcript.path) in summary["content"]
    assert [m["content"] for m in session.transcript.messages()][:1] == ["make the tests pass"]  # all of it is kept


async def test_the_compaction_hooks_fire_in_claude_code_s_order_with_its_fields(tmp_path, fake):
    session, dump = hooked_session(tmp_path, fake)
    talked(session)
    fake.enqueue(Reply(content=[Text("<summary>short</summary>")]))
    await compact(session, trigger="manual", instructions="")
    inputs = [json.loads(line) for line in dump.read_text().splitlines() if line.strip()]
    assert [(i["hook_event_name"], i.get("trigger"), i.get("source")) for i in inputs] == [
        ("PreCompact", "manual", None), ("SessionStart", None, "compact"), ("PostCompact", "manual", None)]
    assert inputs[0]["custom_instructions"] is None
    assert inputs[2]["compact_summary"] == "<summary>short</summary>"
    assert "permission_mode" not in inputs[0] and "permission_mode" not in inputs[2]


async def test_an_empty_conversation_is_not_compacted(tmp_path, fake):
    session, dump = hooked_session(tmp_path, fake)
    assert await compact(session, trigger="manual") is None
    assert (fake.requests, dump.exists()) == ([], False)


async def test_a_failed_summary_changes_nothing(tmp_path, fake):
    from skillway.model.errors import ModelError
    from tests.fakes.anthropic_server import StatusError

    session, _ = hooked_session(tmp_path, fake)
    talked(session)
    before = session.transcript.conversation()
    fake.enqueue(StatusError(400, "invalid_request_error"))
    with pytest.raises(ModelError):
        await compact(session, trigger="manual")
    assert session.transcript.conversation() == before


def test_a_conversation_is_due_for_compaction_once_its_last_request_reaches_the_setting(tmp_path, fake):
    session, _ = hooked_session(tmp_path, fake, auto_compact_tokens=1000)
    talked(session, usage_tokens=900)
    assert not needs_compaction(session)
    talked(session, usage_tokens=995)
    assert needs_compaction(session)


def test_the_summary_is_what_the_summary_tags_hold_or_the_whole_answer():
    assert (summary_of("a <summary> b </summary> c"), summary_of("just text")) == ("b", "just text")


def stream_turns(*prompts: str) -> str:
    return "".join(json.dumps({"type": "user", "message": {"role": "user", "content": p}}) + "\n" for p in prompts)


def test_compact_typed_in_print_mode_sums_up_and_the_next_turn_goes_on_from_the_summary(fake, tmp_path):
    from tests.test_print_mode import run

    workspace = write_tree(tmp_path / "ws", {"a.txt": "x\n"})
    fake.enqueue(Reply(content=[Text("One.")]), Reply(content=[Text("<summary>We said one.</summary>")]),
                 Reply(content=[Text("Two.")]))
    result = run(fake, workspace, "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--bare",
                 stdin=stream_turns("first", "/compact keep the numbers", "second"))
    results = [json.loads(line) for line in result.stdout.splitlines() if json.loads(line)["type"] == "result"]
    assert [r["result"].splitlines()[0].split(":")[0] for r in results] == ["One.", "Compacted", "Two."]
    assert results[1]["result"].endswith("tokens of conversation summed up.\n\nWe said one.")
    assert fake.requests[1].body["messages"][-1]["content"].endswith("Also keep in mind:\nkeep the numbers")
    after = fake.requests[2].body["messages"]
    assert [m["role"] for m in after] == ["user", "user"]
    assert "We said one." in after[0]["content"] and after[1] == {"role": "user", "content": "second"}


def test_a_conversation_past_the_setting_is_compacted_before_its_next_turn(fake, tmp_path):
    from tests.test_print_mode import run

    workspace = write_tree(tmp_path / "ws", {"a.txt": "x\n"})
    write_tree(tmp_path / "user" / "config", {"settings.json": json.dumps({"autoCompactTokens": 100})})
    fake.enqueue(Reply(content=[Text("One.")], usage={"input_tokens": 120, "output_tokens": 5}),
                 Reply(content=[Text("<summary>Said one.</summary>")]), Reply(content=[Text("Two.")]))
    result = run(fake, workspace, "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--bare",
                 stdin=stream_turns("first", "second"))
    assert "skillway: the conversation was compacted: 125 tokens summed up" in result.stderr
    assert "Said one." in fake.requests[2].body["messages"][0]["content"]
    assert fake.requests[2].body["messages"][-1] == {"role": "user", "content": "second"}
    # The next request is shorter than the summary's, which carried the whole conversation.
    assert len(json.dumps(fake.requests[2].body["messages"])) < len(json.dumps(fake.requests[1].body["messages"]))
    transcript = next((tmp_path / "user" / "data" / "transcripts").glob("*/*.jsonl"))
    kept = [json.loads(line).get("message", {}).get("content") for line in transcript.read_text().splitlines()]
    assert "first" in kept and "second" in kept and [{"type": "text", "text": "One."}] in kept  # every turn

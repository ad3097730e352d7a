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

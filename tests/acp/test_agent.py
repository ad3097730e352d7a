"""`skillway acp` driven by the SDK's client side, as an editor's agent panel drives it, against the
fake API: streamed answers and stop reasons, slash commands, tool calls with diffs through the
editor's files and terminal, permission requests, cancel, stored sessions played back, /ship's plan."""

from __future__ import annotations

import json

import acp
import pytest

from tests.acp.client import RecordingClient, capabilities, connected
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse


@pytest.fixture
def workspace(tmp_path):
    return write_tree(tmp_path / "ws", {"src/app.py": "def main():\n    return 42\n"})


def text(value: str):
    return [acp.text_block(value)]


async def test_a_prompt_streams_its_answer_in_chunks_and_ends_the_turn(fake, workspace):
    fake.enqueue(Reply(content=[Text("The answer is forty-two.")]))
    client = RecordingClient()
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        response = await conn.prompt(session_id=session.session_id, prompt=text("what does main return?"))
        await client.wait_for(lambda: client.answer_text() == "The answer is forty-two.", "the whole answer")
    assert response.stop_reason == "end_turn"
    assert len(client.of_kind("agent_message_chunk")) > 1  # it came as it was written
    assert fake.requests[0].body["messages"][-1]["content"] == "what does main return?"

"""A chat buffer: Send streams the answer into the buffer, a /command line is expanded, a cancel
keeps what arrived marked as cancelled, and nothing but the end of the buffer is touched."""

import asyncio

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcRequestCancelled

from tests.fakes.anthropic_server import Reply, Text
from tests.lsp.harness import code_actions, open_document, send_raw, serving, span, wait_for

START = "## You\n\n/skillway:explain app.py\n"


def applied_text(text: str, edits: list[lsp.ApplyWorkspaceEditParams]) -> str:
    """The buffer after the editor applied `edits` in order (as an editor would)."""
    for params in edits:
        for change in params.edit.document_changes:
            for edit in change.edits:
                lines = text.split("\n")
                start = sum(len(line) + 1 for line in lines[:edit.range.start.line]) + edit.range.start.character
                end = sum(len(line) + 1 for line in lines[:edit.range.end.line]) + edit.range.end.character
                text = text[:start] + edit.new_text + text[end:]
    return text


async def test_send_streams_the_answer_into_the_buffer(tmp_path):
    async with serving(tmp_path, files={"app.py": "print('hello')\n"}) as served:
        client, fake = served.client, served.fake
        uri = open_document(client, served.workspace / "talk.chat.md", START, language="markdown")
        actions = await code_actions(client, uri, span(0, 0, 0, 0))
        send = next(a for a in actions if a.title == "skillway: Send")
        fake.enqueue(Reply(content=[Text("It prints hello to the terminal.")], token_delay=0.06))
        result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command=send.command.command, arguments=send.command.arguments))
        assert result == {"ok": True}
        assert applied_text(START, client.applied_edits) == (
            START + "\n## skillway\n\nIt prints hello to the terminal.\n\n## You\n\n")
        assert len(client.applied_edits) > 3  # the answer arrived in several edits, as it streamed
        sent = fake.requests[0].body["messages"]
        assert sent[0]["role"] == "user" and "app.py" in sent[0]["content"] and not sent[0]["content"].startswith("/")


async def test_cancelling_send_keeps_what_arrived_and_marks_it(tmp_path):
    async with serving(tmp_path) as served:
        client, fake = served.client, served.fake
        text = "## You\n\nTell me a long story.\n"
        uri = open_document(client, served.workspace / "story.chat.md", text, language="markdown")
        fake.enqueue(Reply(content=[Text("Once upon a time there was a very long story that went on and on")],
                           token_delay=0.3))
        request = asyncio.ensure_future(send_raw(client, lsp.WORKSPACE_EXECUTE_COMMAND,
                                                 {"command": "skillway.sendChat", "arguments": [uri]}, msg_id="chat-1"))
        await asyncio.to_thread(fake.wait_for_requests, 1)
        await wait_for(lambda: "Once upon" in applied_text(text, client.applied_edits))  # a few words arrived
        client.protocol.notify("$/cancelRequest", lsp.CancelParams(id="chat-1"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(request, 10)
        # The cancel is answered at once; the mark follows as the handler winds down.
        final = await wait_for(lambda: (t := applied_text(text, client.applied_edits)).endswith("\n\n_[cancelled]_\n") and t)
        assert final.startswith(text + "\n## skillway\n\nOnce upon")
        assert "went on and on" not in final
        record = await asyncio.to_thread(fake.wait_until_finished, 0)
        assert record.disconnected_early is True


async def test_send_needs_a_message_from_the_user(tmp_path):
    async with serving(tmp_path) as served:
        uri = open_document(served.client, served.workspace / "empty.chat.md", "## skillway\n\nHello.\n", language="markdown")
        result = await served.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.sendChat", arguments=[uri]))
        assert result == {"ok": False, "error": "write your message under a '## You' heading first"}
        assert served.client.applied_edits == [] and served.fake.requests == []


async def test_a_slash_command_line_offers_run(tmp_path):
    async with serving(tmp_path) as served:
        uri = open_document(served.client, served.workspace / "app.py", "x = 1\n# /review app.py\n# /usr/bin\n")
        titles = [a.title for a in await code_actions(served.client, uri, span(1, 0, 1, 0))]
        assert "skillway: Run /review" in titles
        assert not any("Run /" in t for t in [a.title for a in await code_actions(served.client, uri, span(2, 0, 2, 0))])


async def test_an_answer_cut_off_leaves_no_fragment_in_the_buffer_only_why(tmp_path):
    async with serving(tmp_path) as served:
        client, fake = served.client, served.fake
        text = "## You\n\nWrite a function.\n"
        uri = open_document(client, served.workspace / "cut.chat.md", text, language="markdown")
        cut = Reply(content=[Text("def half_of_a_function(a, b):\n    return")], end_cleanly_after=4, token_delay=0.06)
        fake.enqueue(cut, cut)
        result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.sendChat", arguments=[uri]))
        message = ("The answer was cut off (the stream ended before the API said the answer was complete); "
                   "nothing was applied.")
        assert result == {"ok": False, "error": message}
        assert applied_text(text, client.applied_edits) == text + f"\n## skillway\n\n_[{message}]_\n"


async def test_a_stored_session_opens_as_a_chat_buffer_to_go_on_with(tmp_path):
    from skillway.agent.transcript import Transcript
    from skillway.app.session import project_slug

    session_id = "12345678-1234-1234-1234-123456789abc"
    async with serving(tmp_path) as served:
        transcript = Transcript(tmp_path / "user" / "data" / "transcripts" / project_slug(served.workspace) /
                                f"{session_id}.jsonl", session_id, served.workspace)
        transcript.append({"role": "user", "content": "what does main return?"})
        transcript.append({"id": "m1", "role": "assistant", "content": [
            {"type": "text", "text": "Let me look."}, {"type": "tool_use", "id": "t", "name": "Read", "input": {}}]})
        transcript.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "42"}]})
        transcript.append({"id": "m2", "role": "assistant", "content": [{"type": "text", "text": "It returns 42."}]})
        result = await served.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.openSession", arguments=[session_id]))
        unknown = await served.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.openSession", arguments=["87654321-1234-1234-1234-123456789abc"]))
    chat = served.workspace / ".skillway" / "chats" / f"{session_id}.chat.md"
    assert result == {"ok": True, "report": chat.as_uri()}
    assert chat.read_text() == ("## You\n\nwhat does main return?\n\n"
                                "## skillway\n\nLet me look.\n\n_[used Read]_\n\nIt returns 42.\n\n## You\n\n")
    assert unknown == {"ok": False, "error": "No conversation found with session ID: 87654321-1234-1234-1234-123456789abc"}

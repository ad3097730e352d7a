"""MCP resources @-mentioned in a prompt (`@server:uri`): read from the server and attached before the
prompt's text, as Claude Code attaches them; a mention that comes to nothing is told, plain text is left alone."""

from __future__ import annotations

import pytest

from skillway.app.run import QuietInterface, Status, run_prompt
from tests.fakes.anthropic_server import Reply, Text
from tests.mcp.servers import mcp_plugin, session_for, stdio

pytestmark = pytest.mark.usefixtures("api_key")


async def first_user_content(tmp_path, fake, docs, prompt: str):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}))
    fake.enqueue(Reply(content=[Text("Summed up.")]))
    try:
        outcome = await run_prompt(session, prompt, QuietInterface())
    finally:
        await session.end()
    assert outcome.status == Status.ANSWERED
    return fake.requests[0].body["messages"][0]["content"], outcome.notices


async def test_a_mentioned_resource_is_attached_before_the_prompt(tmp_path, fake, docs):
    content, notices = await first_user_content(tmp_path, fake, docs, "summarise @docs:docs://guide/intro please")
    assert content == [
        {"type": "text", "text": "Full contents of resource:"},
        {"type": "text", "text": "Welcome to the guide."},
        {"type": "text", "text": "Do NOT read this resource again unless you think it may have changed, "
                                 "since you already have the full contents."},
        {"type": "text", "text": "summarise @docs:docs://guide/intro please"}]
    assert notices == []


async def test_a_mention_of_a_resource_the_server_does_not_list_is_told_and_the_prompt_goes_alone(tmp_path, fake, docs):
    content, notices = await first_user_content(tmp_path, fake, docs, "read @docs:docs://nowhere")
    assert content == "read @docs:docs://nowhere"
    assert notices == ["@docs:docs://nowhere is not attached: the MCP server docs lists no resource docs://nowhere"]


async def test_an_at_word_naming_no_server_is_plain_text(tmp_path, fake, docs):
    content, notices = await first_user_content(tmp_path, fake, docs, "ask @alice:tomorrow about it")
    assert (content, notices) == ("ask @alice:tomorrow about it", [])

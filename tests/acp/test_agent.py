"""`skillway acp` driven by the SDK's client side, as an editor's agent panel drives it, against the
fake API: streamed answers and stop reasons, slash commands, tool calls with diffs through the
editor's files and terminal, permission requests, cancel, stored sessions played back, /ship's plan."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import textwrap

import acp
import pytest
from acp.schema import McpServerStdio

from tests.acp.client import RecordingClient, capabilities, connected
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.mcp.servers import DOCS_SERVER
from tests.ship.helpers import REVIEWERS, critical, git, lines, make_repo, report, reviewer_of


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


@pytest.fixture
def greeter(tmp_path):
    """A user's plugin with one command taking arguments."""
    return write_tree(tmp_path / "greeter", {
        ".claude-plugin/plugin.json": '{"name": "greeter", "version": "1.0.0"}',
        "commands/greet.md": "---\ndescription: Greet someone\nargument-hint: NAME\n---\nSay hello to $ARGUMENTS.\n",
    })


async def test_available_commands_list_each_plugin_command_with_its_hint_and_one_runs_its_body(fake, workspace, greeter):
    fake.enqueue(Reply(content=[Text("Hello, Ada!")]))
    client = RecordingClient()
    async with connected(fake, client, workspace, args=("--plugin-dir", str(greeter))) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await client.wait_for(lambda: client.of_kind("available_commands_update"), "the commands")
        (listed,) = client.of_kind("available_commands_update")
        greet = next(c for c in listed.available_commands if c.name == "greeter:greet")
        response = await conn.prompt(session_id=session.session_id, prompt=text(f"/{greet.name} Ada"))
    assert (greet.description, greet.input.root.hint) == ("Greet someone", "NAME")
    assert response.stop_reason == "end_turn"
    assert "Say hello to Ada." in json.dumps(fake.requests[0].body["messages"][-1]["content"])


async def test_an_edit_arrives_as_a_tool_call_with_a_diff_and_is_written_through_the_editor(fake, workspace):
    path = str(workspace / "src/app.py")
    fake.enqueue(Reply(content=[ToolUse("Edit", {"file_path": "src/app.py", "old_string": "return 7",
                                                 "new_string": "return 8"}, id="e1")]),
                 Reply(content=[Text("Changed.")]))
    client = RecordingClient(answers=["allow_once"], buffers={path: "def main():\n    return 7\n"})  # unsaved
    async with connected(fake, client, workspace, caps=capabilities(fs=True)) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await conn.prompt(session_id=session.session_id, prompt=text("make it 8"))
    (call,) = client.of_kind("tool_call")
    (diff,) = call.content
    assert (call.tool_call_id, call.kind, call.locations[0].path) == ("e1", "edit", path)
    assert (diff.type, diff.path, diff.old_text, diff.new_text) == ("diff", path, "return 7", "return 8")
    assert client.written == {path: "def main():\n    return 8\n"}  # the editor's text, edited by the editor
    assert (workspace / "src/app.py").read_text() == "def main():\n    return 42\n"  # the disk is the editor's business
    (done,) = client.of_kind("tool_call_update")
    assert (done.tool_call_id, done.status) == ("e1", "completed")


@pytest.fixture
def asks_before_touch(workspace):
    """The workspace's Claude Code settings ask before any `touch` (an ask rule needs no trust: it only holds back)."""
    write_tree(workspace, {".claude/settings.json": json.dumps({"permissions": {"ask": ["Bash(touch:*)"]}})})


async def test_bash_under_an_ask_rule_asks_the_editor_and_rejecting_refuses_it(fake, workspace, asks_before_touch):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch made"}, id="b1")]), Reply(content=[Text("Not made.")]))
    client = RecordingClient(answers=["reject_once"])
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await conn.prompt(session_id=session.session_id, prompt=text("make it"))
    (asked,) = client.asked
    assert (asked.tool_call_id, asked.title) == ("b1", "Allow Bash touch made? (the rule Bash(touch:*) in your settings asks first)")
    assert [kind for _, kind in asked.options] == ["allow_once", "allow_always", "reject_once"]
    assert not (workspace / "made").exists()
    (refusal,) = fake.requests[1].body["messages"][-1]["content"]
    assert refusal["is_error"] is True
    assert client.of_kind("tool_call_update")[-1].status == "failed"


async def test_allow_always_keeps_the_rule_in_the_workspace_and_asks_no_more(fake, workspace, asks_before_touch):
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "touch one"}, id="b1")]), Reply(content=[Text("One.")]),
                 Reply(content=[ToolUse("Bash", {"command": "touch two"}, id="b2")]), Reply(content=[Text("Two.")]))
    client = RecordingClient(answers=["allow_always"])
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await conn.prompt(session_id=session.session_id, prompt=text("make one"))
        await conn.prompt(session_id=session.session_id, prompt=text("make two"))
    assert len(client.asked) == 1
    assert (workspace / "one").exists() and (workspace / "two").exists()
    local = json.loads((workspace / ".claude/settings.local.json").read_text())
    assert local == {"permissions": {"allow": ["Bash(touch:*)"]}}


async def test_with_the_editors_terminal_bash_runs_there(fake, workspace, isolated_user_dirs):
    write_tree(isolated_user_dirs / "config", {"settings.json": json.dumps({"allowedTools": ["Bash(echo:*)"]})})
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo from-the-terminal"}, id="b1")]), Reply(content=[Text("Ran.")]))
    client = RecordingClient()
    async with connected(fake, client, workspace, caps=capabilities(terminal=True)) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await conn.prompt(session_id=session.session_id, prompt=text("say it"))
    assert client.commands_run == [["sh", "-c", "echo from-the-terminal"]]
    (result,) = fake.requests[1].body["messages"][-1]["content"]
    assert result["content"] == "from-the-terminal\n"
    running, done = client.of_kind("tool_call_update")
    assert (running.status, running.content[0].type) == ("in_progress", "terminal")  # shown live with its call
    assert (done.status, done.content[0].terminal_id) == ("completed", running.content[0].terminal_id)


async def test_in_accept_edits_mode_a_write_runs_unasked(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Write", {"file_path": "notes.md", "content": "hi\n"}, id="w1")]),
                 Reply(content=[Text("Written.")]))
    client = RecordingClient()
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        assert session.modes.current_mode_id == "default"
        await conn.set_session_mode(session_id=session.session_id, mode_id="acceptEdits")
        await conn.prompt(session_id=session.session_id, prompt=text("write notes"))
    assert client.asked == []
    assert (workspace / "notes.md").read_text() == "hi\n"
    assert client.of_kind("current_mode_update")[0].current_mode_id == "acceptEdits"


async def test_cancel_mid_stream_ends_the_turn_cancelled_and_keeps_what_arrived(fake, workspace):
    words = " ".join(f"word{n}" for n in range(200))
    fake.enqueue(Reply(content=[Text(words)], token_delay=0.05), Reply(content=[Text("Still here.")]))
    client = RecordingClient()
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        turn = asyncio.ensure_future(conn.prompt(session_id=session.session_id, prompt=text("talk")))
        await client.wait_for(lambda: len(client.of_kind("agent_message_chunk")) >= 3, "the answer started")
        await conn.cancel(session_id=session.session_id)
        response = await turn
        arrived = client.answer_text()
        after = await conn.prompt(session_id=session.session_id, prompt=text("again"))
    assert response.stop_reason == "cancelled"
    assert arrived.startswith("word0 word1 word2") and len(arrived) < len(words)
    assert after.stop_reason == "end_turn"
    kept = fake.requests[1].body["messages"]
    assert kept[1]["role"] == "assistant" and kept[1]["content"][0]["text"].startswith(arrived[:20])
    assert kept[2]["content"][0]["text"] == "[Request interrupted by user]"


async def test_loading_a_finished_session_plays_it_back_and_goes_on_from_it(fake, workspace):
    fake.enqueue(Reply(content=[ToolUse("Read", {"file_path": "src/app.py"}, id="r1")]), Reply(content=[Text("Noted: 7.")]),
                 Reply(content=[Text("It was 7.")]))
    async with connected(fake, RecordingClient(), workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await conn.prompt(session_id=session.session_id, prompt=text("remember 7"))
    client = RecordingClient()
    async with connected(fake, client, workspace) as conn:
        await conn.load_session(cwd=str(workspace), session_id=session.session_id)
        played = [u.session_update for u in client.updates if u.session_update != "available_commands_update"]
        await conn.prompt(session_id=session.session_id, prompt=text("what number?"))
    assert played == ["user_message_chunk", "tool_call", "tool_call_update", "agent_message_chunk"]
    assert client.updates[0].content.text == "remember 7"
    assert next(u.content.text for u in client.of_kind("agent_message_chunk")) == "Noted: 7."
    assert [m["content"] for m in fake.requests[2].body["messages"] if isinstance(m["content"], str)] == [
        "remember 7", "what number?"]


async def test_loading_an_unknown_session_is_an_error_and_the_agent_goes_on(fake, workspace):
    fake.enqueue(Reply(content=[Text("Fine.")]))
    client = RecordingClient()
    async with connected(fake, client, workspace) as conn:
        with pytest.raises(acp.RequestError) as refused:
            await conn.load_session(cwd=str(workspace), session_id="0b0e2a52-0000-4000-8000-000000000000")
        with pytest.raises(acp.RequestError) as unknown:
            await conn.prompt(session_id="no-such-session", prompt=text("hi"))
        session = await conn.new_session(cwd=str(workspace))
        response = await conn.prompt(session_id=session.session_id, prompt=text("hi"))
    assert refused.value.code == -32002  # resource not found
    assert unknown.value.code == -32602 and "no session 'no-such-session'" in str(unknown.value.data)
    assert response.stop_reason == "end_turn"


async def test_a_prompt_while_another_runs_in_the_session_is_refused(fake, workspace):
    fake.enqueue(Reply(content=[Text("slow " * 40)], token_delay=0.05))
    client = RecordingClient()
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        first = asyncio.ensure_future(conn.prompt(session_id=session.session_id, prompt=text("one")))
        await client.wait_for(lambda: client.of_kind("agent_message_chunk"), "the first answer started")
        with pytest.raises(acp.RequestError) as refused:
            await conn.prompt(session_id=session.session_id, prompt=text("two"))
        assert (await first).stop_reason == "end_turn"
    assert refused.value.code == -32600 and "already running" in str(refused.value.data)
    assert len(fake.requests) == 1


async def test_an_untrusted_workspace_is_asked_about_before_its_hooks_run(fake, workspace):
    write_tree(workspace, {".claude/settings.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [
        {"type": "command", "command": "touch hook-ran"}]}]}})})
    fake.enqueue(Reply(content=[Text("Trusted.")]))
    client = RecordingClient(answers=["allow_once"])
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        ran_before_asking = (workspace / "hook-ran").exists()
        await conn.prompt(session_id=session.session_id, prompt=text("hi"))
    (asked,) = client.asked
    assert asked.title.startswith(f"Trust {workspace} and let its hooks")
    assert not ran_before_asking
    assert (workspace / "hook-ran").exists()


async def test_an_untrusted_workspace_refused_runs_none_of_its_hooks(fake, workspace):
    write_tree(workspace, {".claude/settings.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [
        {"type": "command", "command": "touch hook-ran"}]}]}})})
    fake.enqueue(Reply(content=[Text("Still answered.")]))
    client = RecordingClient(answers=["reject_once"])
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        response = await conn.prompt(session_id=session.session_id, prompt=text("hi"))
    assert response.stop_reason == "end_turn"
    assert not (workspace / "hook-ran").exists()


def staggered(delays: dict[str, float], answers: dict[str, str]):
    """The fake's reviewers, each answering after its own delay (so they finish in that order)."""
    def answer(request):
        name = reviewer_of(request)
        body = answers.get(name or "", report())
        return Reply(content=[Text(body)], token_delay=delays.get(name or "", 0.0) / max(1, len(Text(body).tokens())))
    return answer


@pytest.fixture
def change(tmp_path):
    repo = make_repo(tmp_path / "repo", {"src/app.py": "x = 1\n", "src/auth.py": "def check(a, b):\n    return True\n"})
    git(repo, "checkout", "-qb", "feature")
    (repo / "src/app.py").write_text(lines(60))
    (repo / "src/auth.py").write_text("def check(a, b):\n    return a == b\n")
    git(repo, "commit", "-qam", "compare for real")
    return repo


async def test_ship_shows_a_plan_of_its_three_reviewers_finishing_in_their_own_order_then_the_decision(fake, change):
    fake.enqueue(*[staggered({"code-reviewer": 1.5, "security-auditor": 0.8, "test-engineer": 0.0},
                             {"security-auditor": report([critical()])})] * 10)
    client = RecordingClient()
    async with connected(fake, client, change) as conn:
        session = await conn.new_session(cwd=str(change))
        response = await conn.prompt(session_id=session.session_id, prompt=text("/ship"))
    plans = [{entry.content.split(":")[0]: entry.status for entry in plan.entries} for plan in client.of_kind("plan")]
    finished = [name for before, after in itertools.pairwise(plans) for name in after
                if after[name] == "completed" and before[name] != "completed"]
    assert list(plans[0].items()) == [(name, "pending") for name in REVIEWERS]
    assert finished == ["test-engineer", "security-auditor", "code-reviewer"]
    assert plans[-1] == dict.fromkeys(REVIEWERS, "completed")
    assert response.stop_reason == "end_turn"
    assert client.answer_text().startswith("## Ship Decision: NO-GO")


async def test_the_editors_mcp_server_joins_the_session_and_its_tool_runs(fake, workspace, tmp_path):
    server = write_tree(tmp_path / "servers", {"docs.py": textwrap.dedent(DOCS_SERVER)})
    fake.enqueue(Reply(content=[ToolUse("mcp__docs__search", {"query": "hooks"}, id="m1")]), Reply(content=[Text("Found.")]))
    client = RecordingClient(answers=["allow_once"])
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[McpServerStdio(
            name="docs", command=sys.executable, args=[str(server / "docs.py"), str(tmp_path / "pids")], env=[])])
        await conn.prompt(session_id=session.session_id, prompt=text("search the docs"))
    assert "mcp__docs__search" in [tool["name"] for tool in fake.requests[0].body["tools"]]
    (result,) = fake.requests[1].body["messages"][-1]["content"]
    assert result["content"] == [{"type": "text", "text": "found: hooks"}] or result["content"] == "found: hooks"
    assert client.of_kind("tool_call")[0].title == "docs: search"


async def test_a_workspace_mcp_server_is_asked_about_after_trust_and_the_answer_kept(fake, workspace, tmp_path):
    server = write_tree(tmp_path / "servers", {"docs.py": textwrap.dedent(DOCS_SERVER)})
    write_tree(workspace, {".mcp.json": json.dumps({"mcpServers": {"docs": {
        "command": sys.executable, "args": [str(server / "docs.py"), str(tmp_path / "pids")]}}})})
    fake.enqueue(Reply(content=[ToolUse("mcp__docs__search", {"query": "hooks"}, id="m1")]), Reply(content=[Text("Found.")]))
    client = RecordingClient(answers=["allow_once", "allow_once", "allow_once"])  # trust, the server, the call
    async with connected(fake, client, workspace) as conn:
        session = await conn.new_session(cwd=str(workspace))
        await conn.prompt(session_id=session.session_id, prompt=text("search the docs"))
    titles = [asked.title for asked in client.asked]
    assert titles[0].startswith(f"Trust {workspace}")
    assert titles[1] == (f"New MCP server found in {workspace / '.mcp.json'}: docs. "
                         "It runs on this machine with your rights. Use it?")
    assert json.loads((workspace / ".claude/settings.local.json").read_text()) == {"enabledMcpjsonServers": ["docs"]}
    (result,) = fake.requests[1].body["messages"][-1]["content"]
    assert "found: hooks" in json.dumps(result["content"])

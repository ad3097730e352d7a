"""MCP servers of plugins as agent tools: real servers written here with the `mcp` package's server
API (over stdio, as subprocesses, and over streamable HTTP on 127.0.0.1), the agent loop against the
fake API, and what goes wrong: a server that never starts, one that dies mid-call, a huge result."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.hooks.hookkit import running as alive
from tests.lsp.test_transports import free_port
from tests.mcp.servers import http_server_at, mcp_plugin, session_for, stdio

pytestmark = pytest.mark.usefixtures("api_key")

def tool_result(request) -> dict:
    (result,) = [b for b in request.body["messages"][-1]["content"] if b.get("type") == "tool_result"]
    return result


async def test_a_plugin_of_only_a_mcp_json_loads_and_its_tool_answers_the_model(tmp_path, fake, docs):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}),
                          allowed_tools=("mcp__plugin_kit_docs",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__search", {"query": "hooks"}, id="m")]),
                 Reply(content=[Text("Found it.")]))
    try:
        result = await AgentLoop(session).run("look it up")
    finally:
        await session.end()
    offered = {tool["name"]: tool for tool in fake.requests[0].body["tools"]}
    assert offered["mcp__plugin_kit_docs__search"]["description"] == "Search the docs."
    assert offered["mcp__plugin_kit_docs__search"]["input_schema"]["required"] == ["query"]
    assert (tool_result(fake.requests[1]).get("is_error", False), tool_result(fake.requests[1])["content"]) == (
        False, "found: hooks")
    assert result.text == "Found it."
    assert [pid for pid in map(int, pids.read_text().split()) if alive(pid)] == []  # no server outlives the session


async def test_a_pre_tool_use_hook_matching_mcp_tools_blocks_the_call(tmp_path, fake, docs):
    scripts, pids = docs
    plugin = mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)})
    deny = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": "no MCP today"}}
    write_tree(plugin, {"hooks/hooks.json": json.dumps({"hooks": {"PreToolUse": [
        {"matcher": "mcp__.*", "hooks": [{"type": "command", "command": f"echo '{json.dumps(deny)}'"}]}]}})})
    session = session_for(tmp_path, fake, plugin, allowed_tools=("mcp__plugin_kit_docs",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__search", {"query": "x"}, id="m")]), Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session).run("look")
    finally:
        await session.end()
    assert tool_result(fake.requests[1])["content"] == "denied by a PreToolUse hook: no MCP today"


async def test_a_deny_rule_refuses_an_mcp_tool(tmp_path, fake, docs):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}),
                          allowed_tools=("mcp__plugin_kit_docs",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__search", {"query": "x"}, id="m")]), Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session, denied_tools=("mcp__plugin_kit_docs__search",)).run("look")
    finally:
        await session.end()
    assert tool_result(fake.requests[1])["content"] == (
        "Permission to use mcp__plugin_kit_docs__search was denied by the rule mcp__plugin_kit_docs__search")


async def test_a_server_that_never_starts_is_told_once_with_its_log_and_the_others_work(tmp_path, fake, docs):
    scripts, pids = docs
    plugin = mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids), "silent": stdio(scripts / "silent.py", pids)})
    session = session_for(tmp_path, fake, plugin, allowed_tools=("mcp__plugin_kit_docs",))
    session.mcp.start_timeout = 5
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__search", {"query": "y"}, id="m")]), Reply(content=[Text("ok")]))
    try:
        result = await AgentLoop(session).run("look")
    finally:
        await session.end()
    (notice,) = [n for n in result.notices if "silent" in n]
    assert notice.startswith(f"MCP server silent ({plugin / '.mcp.json'}): did not start within 5 s")
    assert notice.endswith("\nstarting up, slowly")
    assert tool_result(fake.requests[1])["content"] == "found: y"
    assert [pid for pid in map(int, pids.read_text().split()) if alive(pid)] == []


async def test_a_server_that_dies_mid_call_gives_an_error_result_and_the_run_goes_on(tmp_path, fake, docs):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}),
                          allowed_tools=("mcp__plugin_kit_docs",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__crash", {}, id="c")]), Reply(content=[Text("It crashed.")]))
    try:
        result = await AgentLoop(session).run("crash it")
    finally:
        await session.end()
    crashed = tool_result(fake.requests[1])
    assert crashed["is_error"] is True and crashed["content"].startswith("the MCP server docs failed: ")
    assert result.text == "It crashed."


async def test_a_huge_result_is_cut_with_a_note(tmp_path, fake, docs):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}),
                          allowed_tools=("mcp__plugin_kit_docs",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__huge", {}, id="h")]), Reply(content=[Text("big")]))
    try:
        await AgentLoop(session).run("get it")
    finally:
        await session.end()
    content = tool_result(fake.requests[1])["content"]
    assert content == "x" * 100_000 + ("\n[the MCP tool's output was cut at 100,000 of 10,000,000 characters "
                                       "(MAX_MCP_OUTPUT_TOKENS)]")


@pytest.fixture
def http_server(docs):
    """The docs server over streamable HTTP on 127.0.0.1: its URL."""
    scripts, pids = docs
    port = free_port()
    with http_server_at([sys.executable, str(scripts / "docs.py"), str(pids), str(port)], port) as url:
        yield url


async def test_a_streamable_http_server_answers_the_model(tmp_path, fake, http_server):
    plugin = mcp_plugin(tmp_path, {"remote": {"type": "http", "url": http_server}})
    session = session_for(tmp_path, fake, plugin, allowed_tools=("mcp__plugin_kit_remote",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_remote__search", {"query": "http"}, id="m")]),
                 Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session).run("look")
    finally:
        await session.end()
    assert tool_result(fake.requests[1])["content"] == "found: http"


async def test_an_untrusted_workspace_s_plugin_starts_no_server(tmp_path, fake, docs):
    scripts, pids = docs
    workspace = write_tree(tmp_path / "ws", {".claude-plugin/plugin.json": '{"name": "wsp"}',
                                             ".mcp.json": json.dumps({"mcpServers": {"docs": stdio(scripts / "docs.py", pids)}})})
    settings = Settings(base_url=fake.base_url)
    session = Session(workspace, discover(workspace, settings, [], include_bundled=False), settings)
    fake.enqueue(Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session).run("hi")
    finally:
        await session.end()
    assert [t["name"] for t in fake.requests[0].body["tools"] if t["name"].startswith("mcp__")] == []
    assert not pids.exists()


async def test_a_tool_whose_schema_is_invalid_is_left_out_with_a_message_and_the_others_are_offered(tmp_path, fake, docs):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"odd": stdio(scripts / "odd.py", pids)}))
    fake.enqueue(Reply(content=[Text("ok")]))
    try:
        result = await AgentLoop(session).run("hi")
    finally:
        await session.end()
    assert [t["name"] for t in fake.requests[0].body["tools"] if t["name"].startswith("mcp__")] == ["mcp__plugin_kit_odd__fine"]
    schema, name = [n for n in result.notices if n.startswith("MCP server odd")]
    assert schema.startswith("MCP server odd: tool odd is left out: its input schema is not valid JSON Schema: ")
    assert name == f"MCP server odd: tool {'l' * 110} is left out: its full name is longer than 128 characters"


async def test_a_server_that_died_is_started_again_once_for_the_next_call(tmp_path, fake, docs):
    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}),
                          allowed_tools=("mcp__plugin_kit_docs",))
    fake.enqueue(Reply(content=[ToolUse("mcp__plugin_kit_docs__crash", {}, id="c")]),
                 Reply(content=[ToolUse("mcp__plugin_kit_docs__search", {"query": "again"}, id="s")]),
                 Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session).run("crash, then search")
    finally:
        await session.end()
    assert tool_result(fake.requests[2])["content"] == "found: again"
    assert len(pids.read_text().split()) == 2  # started, died, started once more
    assert [pid for pid in map(int, pids.read_text().split()) if alive(pid)] == []


def test_mcp_list_starts_each_server_and_shows_its_status_and_tools(tmp_path, docs, monkeypatch):
    from tests.cli_runner import run_skillway

    scripts, pids = docs
    plugin = mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids), "silent": stdio(scripts / "silent.py", pids)})
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    env = dict(os.environ, MCP_TIMEOUT="3000")
    result = run_skillway(["mcp", "list", "--json", "--plugin-dir", str(plugin)], cwd=workspace, env=env)
    rows = {row["name"]: row for row in json.loads(result.stdout)["servers"]}
    assert (rows["docs"]["status"], rows["docs"]["tools"], rows["docs"]["plugin"]) == ("connected", 4, "kit")
    assert (rows["silent"]["status"], rows["silent"]["error"]) == ("failed", "did not start within 3 s")
    assert result.returncode == 1  # one server is not working
    assert [pid for pid in map(int, pids.read_text().split()) if alive(pid)] == []


async def test_an_mcp_prompt_runs_as_a_slash_command_its_words_filling_its_arguments(tmp_path, fake, docs):
    from skillway.app.run import QuietInterface, Status, run_prompt

    scripts, pids = docs
    session = session_for(tmp_path, fake, mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)}))
    fake.enqueue(Reply(content=[Text("Reviewed.")]))
    try:
        outcome = await run_prompt(session, "/mcp__plugin_kit_docs__review app.py error handling", QuietInterface())
        unknown = await run_prompt(session, "/mcp__plugin_kit_docs__nope", QuietInterface())
    finally:
        await session.end()
    assert (outcome.status, outcome.text) == (Status.ANSWERED, "Reviewed.")
    assert fake.requests[0].body["messages"][0]["content"] == "Review app.py, looking at error handling."
    assert (unknown.status, unknown.text) == (Status.REFUSED, '/mcp__plugin_kit_docs__nope: no MCP prompt named "mcp__plugin_kit_docs__nope"')


MANY_SERVER = """
import sys
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

def make(n):
    def tool(text: str) -> str:
        return f"tool {n}: {text}"
    return Tool.from_function(tool, name=f"t{n}", description=f"Tool number {n} of the many")

MCPServer("many", tools=[make(n) for n in range(35)]).run()
"""


async def test_many_mcp_tools_are_loaded_on_demand_through_tool_search(tmp_path, fake):
    script = write_tree(tmp_path / "servers", {"many.py": MANY_SERVER}) / "many.py"
    plugin = mcp_plugin(tmp_path, {"many": {"command": sys.executable, "args": [str(script)]}})
    session = session_for(tmp_path, fake, plugin, allowed_tools=("mcp__plugin_kit_many",))
    fake.enqueue(Reply(content=[ToolUse("ToolSearch", {"query": "select:mcp__plugin_kit_many__t7"}, id="s")]),
                 Reply(content=[ToolUse("mcp__plugin_kit_many__t7", {"text": "hi"}, id="t")]),
                 Reply(content=[Text("done")]))
    try:
        await AgentLoop(session).run("use tool seven")
    finally:
        await session.end()
    first = {tool["name"]: tool for tool in fake.requests[0].body["tools"]}
    assert [name for name in first if name.startswith("mcp__")] == []
    assert "- mcp__plugin_kit_many__t34: Tool number 34 of the many" in first["ToolSearch"]["description"]
    assert tool_result(fake.requests[1])["content"].startswith("Loaded, and callable from now on:\n")
    second = [tool["name"] for tool in fake.requests[1].body["tools"] if tool["name"].startswith("mcp__")]
    assert second == ["mcp__plugin_kit_many__t7"]
    assert tool_result(fake.requests[2])["content"] == "tool 7: hi"


def guarded_plugin(tmp_path, docs, server: str) -> Path:
    scripts, pids = docs
    plugin = mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)})
    handler = {"type": "mcp_tool", "server": server, "tool": "guard", "input": {"cmd": "${tool_input.command}"}}
    write_tree(plugin, {"hooks/hooks.json": json.dumps({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [handler]}]}})})
    return plugin


async def test_an_mcp_tool_hook_calls_its_server_with_the_input_filled_in_and_its_answer_decides(tmp_path, fake, docs):
    session = session_for(tmp_path, fake, guarded_plugin(tmp_path, docs, "plugin:kit:docs"), allowed_tools=("Bash",))
    fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "rm -rf src"}, id="r"), ToolUse("Bash", {"command": "echo fine"}, id="e")]),
                 Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session).run("clean up")
    finally:
        await session.end()
    results = {r["tool_use_id"]: r["content"] for r in fake.requests[1].body["messages"][-1]["content"]}
    assert results == {"r": "denied by a PreToolUse hook: mcp says no", "e": "fine\n"}


async def test_an_mcp_tool_hook_naming_no_connected_server_decides_nothing_and_says_why(tmp_path, fake, docs):
    session = session_for(tmp_path, fake, guarded_plugin(tmp_path, docs, "docs"), allowed_tools=("Bash",))
    try:
        outcome = await session.hooks.fire("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "rm x"},
                                                          "tool_use_id": "t"}, match="Bash")
    finally:
        await session.end()
    assert (outcome.blocked, outcome.warnings) == (False, ["kit: docs/guard: MCP server 'docs' not connected"])


async def test_an_mcp_tool_hook_on_session_start_calls_nothing_and_says_servers_are_not_there_yet(tmp_path, fake, docs):
    scripts, pids = docs
    plugin = mcp_plugin(tmp_path, {"docs": stdio(scripts / "docs.py", pids)})
    handler = {"type": "mcp_tool", "server": "plugin:kit:docs", "tool": "guard", "onFailure": "block"}
    write_tree(plugin, {"hooks/hooks.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [handler]}]}})})
    session = session_for(tmp_path, fake, plugin)
    try:
        outcome = await session.start()
    finally:
        await session.end()
    assert outcome.warnings == ["kit: plugin:kit:docs/guard: mcp_tool hooks are not available for the 'SessionStart' hook event "
                                "(no MCP client context)"]
    assert not pids.exists()  # no server started for it

"""The server's life with an editor: what initialize promises, settings changing underneath, a missing
key, bad requests, the trust prompt for a workspace's own hooks, SessionStart and SessionEnd."""

import asyncio
import json

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.fakes.anthropic_server import Reply, StatusError, Text
from tests.lsp.harness import inline, inline_params, opened, running_server, send_raw, serving, shown, texts, wait_for, write_tree

ADD = "def add(a, b):\n    \n\ndef sub(a, b):\n    \n"
NO_KEY = ("skillway: No API credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), or set ANTHROPIC_BASE_URL "
          "(the baseUrl setting) to a local server that needs no key.")


async def test_initialize_offers_inline_completion_completion_resolvable_code_actions_and_the_commands(tmp_path):
    async with serving(tmp_path) as served:
        result = served.client.initialize_result
    capabilities = result.capabilities
    assert result.server_info.name == "skillway"
    assert capabilities.inline_completion_provider
    assert list(capabilities.completion_provider.trigger_characters) == ['"', ":", " ", "/"]
    assert capabilities.code_action_provider.resolve_provider is True
    assert list(capabilities.code_action_provider.code_action_kinds) == [
        lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite, lsp.CodeActionKind.Source]
    assert {"skillway.runCodeAction", "skillway.showDocument", "skillway.ship"} <= set(capabilities.execute_command_provider.commands)
    assert capabilities.hover_provider


# --- settings ---------------------------------------------------------------------------------------------

async def test_a_changed_completion_model_setting_is_used_by_the_next_request(tmp_path):
    async with serving(tmp_path) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]), Reply(content=[Text("return a - b")]))
        with opened(served.client, served.workspace / "m.py", ADD) as uri:
            before = await inline(served.client, uri, 1, 4)
            served.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
                settings={"skillway": {"models": {"completion": "local-coder"}}}))
            after = await inline(served.client, uri, 4, 4)
        assert (texts(before), texts(after)) == (["return a + b"], ["return a - b"])
        assert [request.body["model"] for request in served.fake.requests] == ["claude-haiku-4-5", "local-coder"]
        assert shown(served.client) == []


async def test_an_invalid_setting_is_reported_by_name_and_the_server_keeps_working(tmp_path):
    async with serving(tmp_path) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        served.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
            settings={"skillway": {"completionDebounceMs": -5}}))
        await wait_for(lambda: shown(served.client))
        with opened(served.client, served.workspace / "m.py", ADD) as uri:
            result = await inline(served.client, uri, 1, 4)
        [message] = shown(served.client)
        assert message.startswith("skillway: ")
        assert message.endswith('setting "completionDebounceMs" must be a whole number >= 0, got -5; it is ignored')
        assert texts(result) == ["return a + b"]


async def test_a_missing_key_is_told_once_and_every_request_gets_an_empty_answer(tmp_path):
    workspace = write_tree(tmp_path / "ws", {})
    async with running_server(workspace, tmp_path / "user", base_url=None, api_key=None) as client:
        with opened(client, workspace / "m.py", ADD) as uri:
            results = [await inline(client, uri, 1, 4), await inline(client, uri, 4, 4), await inline(client, uri, 1, 4)]
        await asyncio.sleep(0.2)
        messages = list(client.messages)
    assert [texts(result) for result in results] == [[], [], []]
    assert [message.message for message in messages] == [NO_KEY]
    assert messages[0].type == lsp.MessageType.Error



async def test_a_configuration_change_without_settings_pulls_the_skillway_section(tmp_path):
    async with serving(tmp_path, "visual_studio_code") as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        served.client.set_configuration({"models": {"completion": "pulled-model"}}, section="skillway")
        asked, look_up = [], served.client.get_configuration

        def get_configuration(**item):  # pytest-lsp answers workspace/configuration through this
            asked.append(item)
            return look_up(**item)

        served.client.get_configuration = get_configuration
        served.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        # Answered, the pulled settings apply before anything the client sends next is served.
        await wait_for(lambda: asked)
        with opened(served.client, served.workspace / "m.py", ADD) as uri:
            await inline(served.client, uri, 1, 4)
        assert [request.body["model"] for request in served.fake.requests] == ["pulled-model"]


async def test_an_api_error_is_told_once_until_a_call_succeeds_again(tmp_path):
    async with serving(tmp_path) as served:
        overloaded = StatusError(529, "overloaded_error")
        served.fake.enqueue(overloaded, overloaded, Reply(content=[Text("return a + b")]), overloaded)
        with opened(served.client, served.workspace / "m.py", ADD) as uri:
            failed = [await inline(served.client, uri, 1, 4), await inline(served.client, uri, 4, 4)]
            told = shown(served.client)
            succeeded = await inline(served.client, uri, 1, 4)
            again = await inline(served.client, uri, 4, 4)
            await wait_for(lambda: len(shown(served.client)) == 2)
    assert [texts(result) for result in failed + [succeeded, again]] == [[], [], ["return a + b"], []]
    assert len(told) == 1 and told[0].startswith("skillway: The API is overloaded for everyone right now (529")
    assert shown(served.client) == told * 2
    assert len(served.fake.requests) == 4

# --- bad requests -----------------------------------------------------------------------------------------

# Params that do not deserialize (a number for a URI alone does: it becomes the string "5").
MALFORMED = {
    "missing fields": {"textDocument": {"uri": 5}},
    "not an object": 5,
    "negative line": {"textDocument": {"uri": "file:///x.py"}, "position": {"line": -1, "character": 0},
                      "context": {"triggerKind": 1}},
    "null": None,
}


async def test_a_request_with_malformed_params_gets_an_error_response(tmp_path):
    async with serving(tmp_path) as served:
        with pytest.raises(JsonRpcException) as error:
            await asyncio.wait_for(send_raw(served.client, lsp.TEXT_DOCUMENT_INLINE_COMPLETION,
                                            MALFORMED["missing fields"]), 3)
    assert error.value.code == -32602


async def test_the_server_keeps_answering_after_requests_with_malformed_params(tmp_path):
    async with serving(tmp_path) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        malformed = [asyncio.ensure_future(send_raw(served.client, lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params))
                     for params in MALFORMED.values()]
        with opened(served.client, served.workspace / "m.py", ADD) as uri:
            result = await inline(served.client, uri, 1, 4)
            params = served.client.protocol._converter.unstructure(inline_params(uri, 1, 4))
            raw = await asyncio.wait_for(send_raw(served.client, lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params), 10)
        for request in malformed:
            request.cancel()
    assert texts(result) == texts(raw) == ["return a + b"]


# --- trust and the session's hooks ------------------------------------------------------------------------

def hooked_workspace(tmp_path):
    started, ended = tmp_path / "session-started", tmp_path / "session-ended"
    settings = {"hooks": {
        "SessionStart": [{"hooks": [{"type": "command", "command": f"touch {started}"}]}],
        "SessionEnd": [{"hooks": [{"type": "command", "command": f"touch {ended}"}]}],
    }}
    workspace = write_tree(tmp_path / "ws", {".claude/settings.json": json.dumps(settings)}).resolve()
    return workspace, started, ended


async def test_trusting_the_workspace_runs_its_session_start_hook(tmp_path):
    workspace, started, _ = hooked_workspace(tmp_path)
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Trust this workspace"]) as client:
        await wait_for(started.exists)
        prompt = client.messages[0]
    assert prompt.message == (f"skillway: {workspace} brings 2 hooks of its own that run commands on this machine. "
                              "Trust this workspace and let them run?")
    assert prompt.type == lsp.MessageType.Warning


async def test_answering_not_now_runs_none_of_the_workspaces_hooks(tmp_path):
    workspace, started, ended = hooked_workspace(tmp_path)
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Not now"]) as client:
        await wait_for(lambda: any("not run: workspace not trusted" in text for text in shown(client)))
        assert not started.exists()
    assert client.shutdown_problem is None
    assert not started.exists() and not ended.exists()


async def test_shutdown_fires_the_session_end_hook_of_a_trusted_workspace(tmp_path):
    workspace, started, ended = hooked_workspace(tmp_path)
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Trust this workspace"]) as client:
        await wait_for(started.exists)
        assert not ended.exists()
    assert client.shutdown_problem is None
    assert ended.exists()


def workspace_with_plugin_dirs(tmp_path):
    return write_tree(tmp_path / "ws", {
        ".skillway/settings.json": json.dumps({"pluginDirs": ["kit"]}),
        "kit/.claude-plugin/plugin.json": '{"name": "kit"}',
        "kit/commands/hello.md": "---\ndescription: Say hello\n---\nSay hello.\n",
    }).resolve()


async def list_commands(client) -> list[str]:
    while True:  # the session opens on `initialized`, in the background
        commands = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.listCommands"))
        if commands:
            return [entry["name"] for entry in commands]
        await asyncio.sleep(0.05)


async def test_the_trust_prompt_names_the_settings_that_wait_for_it(tmp_path):
    workspace = workspace_with_plugin_dirs(tmp_path)
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Not now"]) as client:
        await wait_for(lambda: [m for m in shown(client) if " brings " in m])
    assert [m for m in shown(client) if " brings " in m] == [
        f"skillway: {workspace} brings settings that decide where requests go and what loads (pluginDirs). "
        "Trust this workspace and apply them?"]


async def test_trusting_in_the_editor_applies_the_workspaces_held_back_settings(tmp_path):
    workspace = workspace_with_plugin_dirs(tmp_path)
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Trust this workspace"]) as client:
        names = await asyncio.wait_for(names_once_listed(client, "kit:hello"), 20)
    assert "kit:hello" in names


async def names_once_listed(client, name: str) -> list[str]:
    """The command names, once `name` is among them (the session reopens after the trust answer)."""
    while name not in (names := await list_commands(client)):
        await asyncio.sleep(0.05)
    return names


async def test_not_trusting_in_the_editor_keeps_the_workspaces_plugin_dirs_out(tmp_path):
    workspace = workspace_with_plugin_dirs(tmp_path)
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Not now"]) as client:
        await wait_for(lambda: client.messages)
        names = await list_commands(client)
    assert [n for n in names if n.startswith("kit:")] == []


def workspace_with_mcp_servers(tmp_path, *names):
    servers = {name: {"command": "no-such-mcp-server"} for name in names}
    return write_tree(tmp_path / "ws", {".mcp.json": json.dumps({"mcpServers": servers})}).resolve()


def kept_approvals(workspace):
    path = workspace / ".claude" / "settings.local.json"
    return json.loads(path.read_text()) if path.exists() else None


async def test_trusting_a_workspace_asks_about_each_mcp_server_and_keeps_each_answer(tmp_path):
    workspace = workspace_with_mcp_servers(tmp_path, "docs", "tracker")
    answers = ["Trust this workspace", "Use this MCP server", "Continue without using this MCP server"]
    async with running_server(workspace, tmp_path / "user", None, trust_answers=answers) as client:
        approvals = await wait_for(lambda: (kept := kept_approvals(workspace)) and "disabledMcpjsonServers" in kept and kept)
        asked = shown(client)
    assert approvals == {"enabledMcpjsonServers": ["docs"], "disabledMcpjsonServers": ["tracker"]}
    assert asked == [
        f"skillway: {workspace} brings 2 MCP servers in its .mcp.json. Trust this workspace and let them run?",
        f"skillway: new MCP server found in {workspace / '.mcp.json'}: docs. It runs on this machine with your rights. Use it?",
        f"skillway: new MCP server found in {workspace / '.mcp.json'}: tracker. It runs on this machine with your rights. Use it?"]


async def test_using_all_future_mcp_servers_of_a_workspace_asks_about_no_more(tmp_path):
    workspace = workspace_with_mcp_servers(tmp_path, "docs", "tracker")
    answers = ["Trust this workspace", "Use this and all future MCP servers in this project"]
    async with running_server(workspace, tmp_path / "user", None, trust_answers=answers) as client:
        approvals = await wait_for(lambda: kept_approvals(workspace))
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.listCommands"))
        asked = len(client.messages)
    assert approvals == {"enabledMcpjsonServers": ["docs"], "enableAllProjectMcpServers": True}
    assert asked == 2


async def test_not_trusting_a_workspace_asks_about_none_of_its_mcp_servers(tmp_path):
    workspace = workspace_with_mcp_servers(tmp_path, "docs")
    async with running_server(workspace, tmp_path / "user", None, trust_answers=["Not now"]) as client:
        await wait_for(lambda: client.messages)
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.listCommands"))
        asked = len(client.messages)
    assert (asked, kept_approvals(workspace)) == (1, None)


async def test_a_hook_s_status_message_shows_as_progress_while_it_runs(tmp_path):
    plugin = write_tree(tmp_path / "warm", {"hooks/hooks.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [
        {"type": "command", "command": "echo warmed", "statusMessage": "Warming the cache"}]}]}})})
    async with serving(tmp_path, options={"pluginDirs": [str(plugin)]}) as served:
        begun = lambda: [r for reports in served.client.progress_reports.values() for r in reports
                         if isinstance(r, lsp.WorkDoneProgressBegin) and r.title == "Warming the cache"]
        await wait_for(lambda: begun())
        (token,) = [t for t, reports in served.client.progress_reports.items() if reports[0] in begun()]
        await wait_for(lambda: len(served.client.progress_reports[token]) == 2)
        assert served.client.progress_reports[token] == [
            lsp.WorkDoneProgressBegin(title="Warming the cache", cancellable=False), lsp.WorkDoneProgressEnd()]

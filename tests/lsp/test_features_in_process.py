"""Each LSP feature, in process: the real server and client joined by messages (tests/lsp/inprocess.py)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp

from skillway.lsp import lifecycle, methods
from skillway.lsp.authoring import AuthoringFeature
from skillway.lsp.feature import Feature
from skillway.lsp.server import SkillwayServer
from skillway.lsp.slash import SlashFeature
from tests.fakes.anthropic_server import Reply, Text
from tests.lsp.harness import code_actions, complete, inline, open_document, span, wait_for
from tests.lsp.inprocess import in_process

ADD = "def add(a, b):\n    "


async def execute(client, command: str, *arguments):
    return await asyncio.wait_for(client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=command, arguments=list(arguments))), 10)


async def test_inline_completion_is_the_models_answer_at_the_cursor(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        uri = open_document(served.client, served.workspace / "add.py", ADD)
        result = await inline(served.client, uri, 1, 4)
    assert list(result.items) == [lsp.InlineCompletionItem(insert_text="return a + b", range=span(1, 4, 1, 4))]


async def test_a_plugin_manifest_with_a_wrong_type_gets_a_diagnostic_on_open(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch) as served:
        uri = open_document(served.client, served.workspace / ".claude-plugin" / "plugin.json",
                            '{"name": "p",\n "keywords": "x"}', language="json")
        diagnostics = await wait_for(lambda: served.client.diagnostics.get(uri))
    assert [(d.range, d.message) for d in diagnostics] == [
        (span(1, 1, 1, 17), '"keywords" must be an array, got a string')]


async def test_a_slash_at_the_start_of_a_chat_line_completes_command_names(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch) as served:
        uri = open_document(served.client, served.workspace / "talk.chat.md", "## You\n\n/shi", language="markdown")
        result = await complete(served.client, uri, 2, 4)
    assert "/skillway:ship" in [item.label for item in result.items]


async def test_list_commands_answers_the_workspace_commands(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch, files={".claude/commands/hello.md": "Say hello.\n"}) as served:
        commands = await execute(served.client, "skillway.listCommands", {})
    assert {"name": "hello", "kind": "command", "description": "Say hello.", "argument_hint": None,
            "plugin": "project"} in commands


async def test_a_command_argument_of_the_wrong_type_is_refused_naming_its_key(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch) as served:
        result = await execute(served.client, "skillway.runSlashCommand", {"command": 5})
        told = await wait_for(lambda: [m.message for m in served.client.messages])
    assert (result, told) == ({"ok": False, "error": '"command" must be a text'},
                              ['skillway: skillway.runSlashCommand: "command" must be a text'])


async def test_a_command_argument_that_is_not_an_object_is_refused(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch) as served:
        result = await execute(served.client, "skillway.ship", ["main"])
    assert result == {"ok": False, "error": "takes one object as its argument"}


async def test_the_code_actions_of_a_chat_buffer_start_with_send(tmp_path, monkeypatch):
    async with in_process(tmp_path, monkeypatch) as served:
        uri = open_document(served.client, served.workspace / "talk.chat.md", "## You\n\nhi\n", language="markdown")
        actions = await code_actions(served.client, uri, span(2, 0, 2, 2))
    assert actions[0].title == "skillway: Send"


@pytest.mark.parametrize("items_setting, expected", [(True, 1), (False, 0)])
async def test_completion_items_follow_the_setting_of_the_folder_holding_the_document(
        tmp_path, monkeypatch, items_setting, expected):
    files = {"a/.skillway/settings.json": '{"completionItems": false}',
             "b/.skillway/settings.json": f'{{"completionItems": {str(items_setting).lower()}}}'}
    async with in_process(tmp_path, monkeypatch, files=files, folders=["a", "b"]) as served:
        served.fake.enqueue(Reply(content=[Text("return a + b")]))
        uri = open_document(served.client, served.workspace / "b" / "add.py", ADD)
        result = await complete(served.client, uri, 1, 4)
    assert len(result.items) == expected


class _Broken(Feature):
    def opened(self, doc) -> None:
        raise RuntimeError("broken on purpose")

    def code_actions(self, params):
        raise RuntimeError("broken on purpose")


async def test_a_feature_that_raises_does_not_stop_the_others(tmp_path, monkeypatch):
    """A feature whose hooks raise: the next feature still publishes diagnostics and lists actions."""
    server = SkillwayServer()
    lifecycle.register(server)
    methods.register(server, [_Broken(server), AuthoringFeature(server), SlashFeature(server)])
    async with in_process(tmp_path, monkeypatch, server=server) as served:
        uri = open_document(served.client, served.workspace / ".claude-plugin" / "plugin.json",
                            '{"name": "p",\n "keywords": "x"}', language="json")
        diagnostics = await wait_for(lambda: served.client.diagnostics.get(uri))
        chat = open_document(served.client, served.workspace / "t.chat.md", "## You\n\nhi\n", language="markdown")
        actions = await code_actions(served.client, chat, span(2, 0, 2, 2))
    assert (len(diagnostics), [a.title for a in actions]) == (1, ["skillway: Send"])

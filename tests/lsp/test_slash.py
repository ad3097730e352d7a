"""Slash commands in the editor: completion at the start of a chat or comment line, and the
skillway.listCommands / skillway.runSlashCommand commands."""

import json

from lsprotocol import types as lsp

from tests.fakes.anthropic_server import Reply, Text, ToolUse
from tests.lsp.harness import complete, open_document, serving


async def test_slash_completion_and_commands(tmp_path):
    async with serving(tmp_path) as served:
        client, fake, workspace = served.client, served.fake, served.workspace
        chat = open_document(client, workspace / "notes.chat.md", "/rev", language="markdown")
        code = open_document(client, workspace / "app.py", "x = 1\n# /\ny = 2\n")
        plain = open_document(client, workspace / "other.md", "/rev", language="markdown")

        in_chat = await complete(client, chat, 0, 4)
        labels = {item.label for item in in_chat.items}
        assert {"/skillway:review", "/skillway:ship", "/skillway:code-review"} <= labels
        review = next(item for item in in_chat.items if item.label == "/skillway:review")
        assert (review.text_edit.range.start.character, review.text_edit.new_text) == (0, "/skillway:review ")

        in_comment = await complete(client, code, 1, 3)
        assert "/skillway:explain" in {item.label for item in in_comment.items}
        start = next(i for i in in_comment.items if i.label == "/skillway:explain").text_edit.range.start
        assert (start.line, start.character) == (1, 2)

        outside = await complete(client, plain, 0, 4)
        assert "/skillway:review" not in {item.label for item in outside.items}

        listed = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="skillway.listCommands"))
        assert {"name": "skillway:review", "kind": "command", "plugin": "skillway"}.items() <= next(
            c for c in listed if c["name"] == "skillway:review").items()

        fake.enqueue(Reply(content=[Text("Looks good to me.")]))
        result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.runSlashCommand", arguments=[{"command": "review", "arguments": "app.py", "uri": code}]))
        assert (result["ok"], result["result"]) == (True, "Looks good to me.")
        sent = fake.requests[-1].body["messages"][0]["content"]
        assert "app.py" in sent and sent != "/review app.py"  # the command's body, rendered

        refused = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.runSlashCommand", arguments=[{"command": "no-such-command"}]))
        assert refused == {"ok": False, "error": 'no command named "no-such-command"'}


async def test_a_third_party_plugin_s_commands_run_in_the_editor(tmp_path):
    plugin = tmp_path / "tools"
    for relative, text in {
        ".claude-plugin/plugin.json": '{"name": "tools"}',
        "commands/greet.md": "---\ndescription: Greet\n---\nSay hello to $ARGUMENTS.\n",
        "commands/explain-file.md": "---\ndescription: Explain a file\n---\nExplain @$0 briefly.\n",
        "commands/status.md": "---\ndescription: Status\nallowed-tools: Bash(echo:*)\n---\nBranch: !`echo feature-x`\n",
    }.items():
        (plugin / relative).parent.mkdir(parents=True, exist_ok=True)
        (plugin / relative).write_text(text)
    async with serving(tmp_path, options={"pluginDirs": [str(plugin)]}, files={"app.py": "print(1)\n"}) as served:
        client, fake = served.client, served.fake
        for command, arguments in (("tools:greet", "the team"), ("explain-file", "app.py"), ("status", "")):
            fake.enqueue(Reply(content=[Text("ok")]))
            result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
                command="skillway.runSlashCommand", arguments=[{"command": command, "arguments": arguments}]))
            assert result["ok"] is True, result
        sent = [request.body["messages"][0]["content"] for request in fake.requests]
        assert sent[0] == "Say hello to the team."
        assert '<file path="app.py">\nprint(1)\n' in sent[1]
        assert sent[2] == "Branch: feature-x"


async def test_the_chat_pattern_is_a_setting(tmp_path):
    async with serving(tmp_path, options={"chatPattern": "*.talk"}) as served:
        talk = open_document(served.client, served.workspace / "notes.talk", "/rev", language="text")
        default = open_document(served.client, served.workspace / "old.chat.md", "/rev", language="markdown")
        assert "/skillway:review" in {item.label for item in (await complete(served.client, talk, 0, 4)).items}
        assert "/skillway:review" not in {item.label for item in (await complete(served.client, default, 0, 4)).items}


async def test_edits_by_a_command_go_through_the_editor(tmp_path):
    plugin = tmp_path / "writer"
    (plugin / "commands").mkdir(parents=True)
    (plugin / "commands" / "tidy.md").write_text("---\nallowed-tools: Edit, Write\n---\nTidy $ARGUMENTS.\n")
    async with serving(tmp_path, options={"pluginDirs": [str(plugin)]}, files={"app.py": "x=1\n"}) as served:
        client, fake, workspace = served.client, served.fake, served.workspace
        uri = open_document(client, workspace / "app.py", "x=1\ny=2\n")  # unsaved: the disk still has x=1
        fake.enqueue(Reply(content=[ToolUse("Edit", {"file_path": "app.py", "old_string": "y=2", "new_string": "y = 2"}, id="e"),
                                    ToolUse("Write", {"file_path": "NOTES.md", "content": "tidied\n"}, id="w")]),
                     Reply(content=[Text("Tidied.")]))
        result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.runSlashCommand", arguments=[{"command": "tidy", "arguments": "app.py"}]))
        assert result["ok"] is True
        changes = [change for params in client.applied_edits for change in params.edit.document_changes]
        edits = {c.text_document.uri: (c.text_document.version, c.edits[0].new_text) for c in changes if hasattr(c, "edits")}
        assert edits[uri] == (1, "x=1\ny = 2\n")  # from the editor's text, versioned
        assert edits[(workspace / "NOTES.md").as_uri()] == (None, "tidied\n")
        assert any(isinstance(c, lsp.CreateFile) for c in changes)
        assert (workspace / "app.py").read_text() == "x=1\n" and not (workspace / "NOTES.md").exists()


def bash_command_plugin(root, hooks: dict):
    plugin = root / "shell"
    (plugin / "commands").mkdir(parents=True)
    (plugin / "commands" / "shell.md").write_text("---\ndescription: Run it\n---\nRun $ARGUMENTS.\n")
    (plugin / "hooks").mkdir()
    (plugin / "hooks" / "hooks.json").write_text(json.dumps({"hooks": hooks}))
    return plugin


def tool_result(request) -> tuple[bool, str]:
    (result,) = [block for block in request.body["messages"][-1]["content"] if block.get("type") == "tool_result"]
    return bool(result.get("is_error")), result["content"]


async def test_a_permission_request_hook_answers_for_the_person_in_the_editor(tmp_path):
    allow = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow"}}}
    plugin = bash_command_plugin(tmp_path, {"PermissionRequest": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": f"echo '{json.dumps(allow)}'"}]}]})
    async with serving(tmp_path, options={"pluginDirs": [str(plugin)]}, trust_answers=["Deny"]) as served:
        client, fake = served.client, served.fake
        fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo hook-allowed"}, id="b")]), Reply(content=[Text("Ran.")]))
        result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.runSlashCommand", arguments=[{"command": "shell", "arguments": "echo"}]))
        assert (result["ok"], result["result"]) == (True, "Ran.")
        assert tool_result(fake.requests[1]) == (False, "hook-allowed\n")
        assert client.trust_answers == ["Deny"]  # the person was never asked


async def test_without_a_permission_request_answer_the_person_decides_in_the_editor(tmp_path):
    plugin = bash_command_plugin(tmp_path, {})
    async with serving(tmp_path, options={"pluginDirs": [str(plugin)]}, trust_answers=["Deny"]) as served:
        client, fake = served.client, served.fake
        fake.enqueue(Reply(content=[ToolUse("Bash", {"command": "echo asked"}, id="b")]), Reply(content=[Text("Refused.")]))
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="skillway.runSlashCommand", arguments=[{"command": "shell", "arguments": "echo"}]))
        assert tool_result(fake.requests[1]) == (True, "Bash is not permitted (add it to allowed-tools)")
        assert [m.message for m in client.messages if m.message.startswith("skillway: Allow")] == ["skillway: Allow Bash echo asked?"]


async def test_the_prompts_of_running_mcp_servers_are_completed_as_slash_commands(tmp_path):
    import asyncio
    import sys
    import textwrap

    from tests.hooks.hookkit import running as alive
    from tests.mcp.servers import DOCS_SERVER

    script = tmp_path / "docs.py"
    script.write_text(textwrap.dedent(DOCS_SERVER))
    plugin = tmp_path / "kit"
    plugin.mkdir()
    (plugin / ".mcp.json").write_text(json.dumps({"mcpServers": {"docs": {
        "command": sys.executable, "args": [str(script), str(tmp_path / "pids")]}}}))
    async with serving(tmp_path, options={"pluginDirs": [str(plugin)]}) as served:
        chat = open_document(served.client, served.workspace / "notes.chat.md", "/mcp", language="markdown")
        for _ in range(200):  # the first completion starts the servers; a later one has their prompts
            items = {item.label: item for item in (await complete(served.client, chat, 0, 4)).items}
            if "/mcp__plugin_kit_docs__review" in items:
                break
            await asyncio.sleep(0.1)
    review = items["/mcp__plugin_kit_docs__review"]
    assert (review.detail, review.text_edit.new_text) == ("Review a file.", "/mcp__plugin_kit_docs__review ")
    assert review.documentation.value.startswith("`/mcp__plugin_kit_docs__review <file> <focus>` (prompt of the MCP server docs)")
    pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
    assert [pid for pid in pids if alive(pid)] == []  # the editor's shutdown stopped its server

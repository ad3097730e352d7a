"""Reading MCP server declarations: `.mcp.json` and a manifest's `mcpServers`, with Claude Code's
expansions, and the message when the MCP extra is missing."""

import json
import os
import sys

from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.plugins.mcp_config import expand_text, plugin_servers
from skillway.settings import Settings
from tests.conftest import write_tree


def test_variables_defaults_the_plugin_root_and_options_are_expanded():
    text = "${CLAUDE_PLUGIN_ROOT}/bin ${HOME_DIR:-/home/x} ${TOKEN} ${user_config.region} ${user_config.unset}"
    assert expand_text(text, {"CLAUDE_PLUGIN_ROOT": "/p"}, {"region": "eu"}, {"TOKEN": "t1"}) == "/p/bin /home/x t1 eu "


def test_skillway_s_own_credentials_are_never_expanded():
    assert expand_text("key=${ANTHROPIC_API_KEY:-none}", {}, {}, {"ANTHROPIC_API_KEY": "sk-real-0123"}) == "key=none"


def test_mcp_json_and_inline_servers_load_and_the_first_declaration_of_a_name_wins(tmp_path):
    root = write_tree(tmp_path / "kit", {
        ".mcp.json": json.dumps({"mcpServers": {"docs": {"command": "${CLAUDE_PLUGIN_ROOT}/docs", "args": ["--fast"]}}}),
        ".claude-plugin/plugin.json": "{}",
    })
    manifest = {"name": "kit", "mcpServers": {"docs": {"command": "other"},
                                               "remote": {"type": "http", "url": "https://x.test/mcp", "headers": {"A": "b"}}}}
    servers, problems = plugin_servers(root, manifest, "kit")
    assert problems == []
    assert [(s.name, s.transport, s.command, s.args, s.url, dict(s.headers), s.tool_prefix) for s in servers] == [
        ("docs", "stdio", f"{root}/docs", ("--fast",), None, {}, "mcp__plugin_kit_docs__"),
        ("remote", "http", None, (), "https://x.test/mcp", {"A": "b"}, "mcp__plugin_kit_remote__")]


def test_a_server_without_a_command_or_url_is_an_error_naming_it(tmp_path):
    root = write_tree(tmp_path / "kit", {".mcp.json": json.dumps({"mcpServers": {"broken": {"args": []}, "ok": {"command": "x"}}})})
    servers, problems = plugin_servers(root, {}, "kit")
    assert [s.name for s in servers] == ["ok"]
    assert [(p.path, p.message) for p in problems] == [(root / ".mcp.json", 'MCP server "broken" needs a "command"')]


async def test_without_the_mcp_extra_the_first_need_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "skillway.mcpclient.hub", None)  # as if the SDK were not installed
    plugin = write_tree(tmp_path / "kit", {".mcp.json": json.dumps({"mcpServers": {"docs": {"command": "x"}}})})
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    session = Session(workspace, discover(workspace, Settings(), [plugin], include_bundled=False), Settings())
    assert await session.mcp.tools() == []
    assert session.mcp.problems == ["MCP servers docs need the MCP SDK: pip install 'skillway[mcp]'"]


def test_doctor_names_the_plugins_mcp_servers_without_starting_them(tmp_path):
    from tests.cli_runner import run_skillway

    plugin = write_tree(tmp_path / "kit", {".mcp.json": json.dumps({"mcpServers": {"docs": {"command": "never-run"}}})})
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    result = run_skillway(["doctor", "--plugin-dir", str(plugin)], cwd=workspace, env=dict(os.environ))
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("MCP servers:")]
    assert line == "MCP servers:     1 in the plugins (kit:docs); `skillway mcp list` starts and checks them"

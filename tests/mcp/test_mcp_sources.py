"""Where MCP servers come from besides plugins, as Claude Code reads them: the workspace's `.mcp.json`
(once trusted, each server approved), the user's `~/.claude.json`, and print mode's `--mcp-config`."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from skillway.agent.loop import AgentLoop
from skillway.app.session import Session
from tests.cli_runner import run_skillway
from tests.conftest import write_tree
from tests.fakes.anthropic_server import Reply, Text
from tests.mcp.servers import DOCS_SERVER

pytestmark = pytest.mark.usefixtures("api_key")


@pytest.fixture
def docs_server(tmp_path) -> dict:
    script = write_tree(tmp_path / "servers", {"docs.py": textwrap.dedent(DOCS_SERVER)}) / "docs.py"
    return {"command": sys.executable, "args": [str(script), str(tmp_path / "pids")]}


async def offered_mcp_tools(session: Session, fake) -> list[str]:
    fake.enqueue(Reply(content=[Text("ok")]))
    try:
        await AgentLoop(session).run("hi")
    finally:
        await session.end()
    return [t["name"] for t in fake.requests[-1].body["tools"] if t["name"].startswith("mcp__")]


def workspace_session(tmp_path, fake, monkeypatch, docs_server, approvals: dict | None, *, trusted: bool) -> Session:
    files = {".mcp.json": json.dumps({"mcpServers": {"docs": docs_server}})}
    if approvals is not None:
        files[".claude/settings.local.json"] = json.dumps(approvals)
    workspace = write_tree(tmp_path / "ws", files)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    session = Session.open(workspace, [], bare=False)
    if trusted:
        session.trust_workspace()
    return session


async def test_an_approved_workspace_server_starts_once_the_workspace_is_trusted(tmp_path, fake, monkeypatch, docs_server):
    session = workspace_session(tmp_path, fake, monkeypatch, docs_server, {"enableAllProjectMcpServers": True}, trusted=True)
    assert await offered_mcp_tools(session, fake) == ["mcp__docs__search", "mcp__docs__crash", "mcp__docs__huge", "mcp__docs__guard"]


async def test_a_workspace_server_nobody_approved_does_not_start(tmp_path, fake, monkeypatch, docs_server):
    session = workspace_session(tmp_path, fake, monkeypatch, docs_server, None, trusted=True)
    assert await offered_mcp_tools(session, fake) == []


async def test_an_untrusted_workspace_s_approval_starts_nothing(tmp_path, fake, monkeypatch, docs_server):
    session = workspace_session(tmp_path, fake, monkeypatch, docs_server, {"enabledMcpjsonServers": ["docs"]}, trusted=False)
    assert await offered_mcp_tools(session, fake) == []
    assert not (tmp_path / "pids").exists()


async def test_a_disabled_workspace_server_stays_off_whatever_enables_it(tmp_path, fake, monkeypatch, docs_server):
    approvals = {"enableAllProjectMcpServers": True, "disabledMcpjsonServers": ["docs"]}
    session = workspace_session(tmp_path, fake, monkeypatch, docs_server, approvals, trusted=True)
    assert await offered_mcp_tools(session, fake) == []


async def test_the_user_s_own_servers_in_claude_json_start(tmp_path, fake, monkeypatch, docs_server, isolated_user_dirs):
    write_tree(isolated_user_dirs / "home", {".claude.json": json.dumps({"mcpServers": {"notes": docs_server}})})
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    session = Session.open(workspace, [])
    assert "mcp__notes__search" in await offered_mcp_tools(session, fake)


def print_mode(fake, workspace, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="sk-test-mcp-0123")
    return run_skillway(args, cwd=workspace, env=env)


def test_mcp_config_adds_servers_to_a_print_mode_run(tmp_path, fake, docs_server):
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    fake.enqueue(Reply(content=[Text("ok")]))
    result = print_mode(fake, workspace, "-p", "hi", "--mcp-config", json.dumps({"mcpServers": {"cli": docs_server}}))
    assert result.returncode == 0, result.stderr
    assert "mcp__cli__search" in [t["name"] for t in fake.requests[0].body["tools"]]


def test_strict_mcp_config_uses_only_the_servers_it_is_given(tmp_path, fake, docs_server):
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    plugin = write_tree(tmp_path / "kit", {".mcp.json": json.dumps({"mcpServers": {"docs": docs_server}})})
    config = write_tree(tmp_path / "cfg", {"mcp.json": json.dumps({"mcpServers": {"cli": docs_server}})}) / "mcp.json"
    fake.enqueue(Reply(content=[Text("ok")]))
    print_mode(fake, workspace, "-p", "hi", "--plugin-dir", str(plugin), "--mcp-config", str(config), "--strict-mcp-config")
    names = [t["name"] for t in fake.requests[0].body["tools"] if t["name"].startswith("mcp__")]
    assert names == ["mcp__cli__search", "mcp__cli__crash", "mcp__cli__huge", "mcp__cli__guard"]


def test_mcp_add_keeps_a_server_where_claude_code_keeps_yours_and_remove_takes_it_away(tmp_path, isolated_user_dirs):
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    claude_json = isolated_user_dirs / "home" / ".claude.json"
    claude_json.write_text(json.dumps({"theme": "dark"}))
    env = dict(os.environ)
    added = run_skillway(["mcp", "add", "-s", "user", "-e", "K=v", "docs", "python3", "server.py", "--fast"],
                         cwd=workspace, env=env)
    local = run_skillway(["mcp", "add", "-t", "http", "-H", "X-Team: a", "remote", "https://x.test/mcp"], cwd=workspace, env=env)
    assert (added.returncode, local.returncode) == (0, 0)
    data = json.loads(claude_json.read_text())
    assert data["theme"] == "dark"  # everything else is kept
    assert data["mcpServers"]["docs"] == {"type": "stdio", "command": "python3", "args": ["server.py", "--fast"], "env": {"K": "v"}}
    assert data["projects"][str(workspace.resolve())]["mcpServers"]["remote"] == {
        "type": "http", "url": "https://x.test/mcp", "headers": {"X-Team": "a"}}
    removed = run_skillway(["mcp", "remove", "remote"], cwd=workspace, env=env)
    assert removed.stdout.strip() == f"removed MCP server remote (local: {claude_json})"
    assert json.loads(claude_json.read_text())["projects"][str(workspace.resolve())]["mcpServers"] == {}


def test_mcp_add_to_the_project_scope_writes_its_mcp_json(tmp_path):
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    result = run_skillway(["mcp", "add", "-s", "project", "docs", "python3"], cwd=workspace, env=dict(os.environ))
    assert result.returncode == 0
    assert json.loads((workspace / ".mcp.json").read_text()) == {
        "mcpServers": {"docs": {"type": "stdio", "command": "python3", "args": [], "env": {}}}}


def test_removing_a_server_nobody_added_says_so(tmp_path):
    workspace = write_tree(tmp_path / "ws", {"a": ""})
    result = run_skillway(["mcp", "remove", "ghost"], cwd=workspace, env=dict(os.environ))
    assert (result.returncode, result.stdout.strip()) == (1, 'skillway: no MCP server named "ghost" to remove')

"""The user's own `~/.claude/` folder loads like the workspace's `.claude/`, as the user's: bare
names, trusted hooks; where both have an item of one name, Claude Code 2.1.328's precedence holds."""

import json
from pathlib import Path

import pytest

from skillway.app.session import Session
from skillway.plugins.catalog import Catalog
from skillway.plugins.discovery import discover
from skillway.plugins.model import Source
from skillway.settings import Settings
from tests.conftest import write_tree


@pytest.fixture
def home(isolated_user_dirs) -> Path:
    return isolated_user_dirs / "home"  # HOME for the test (tests/conftest.py)


@pytest.fixture
def workspace(tmp_path) -> Path:
    return (tmp_path / "ws").resolve()


def catalog(workspace: Path) -> Catalog:
    return Catalog(discover(workspace, Settings(), include_bundled=False).plugins)


def command(name: str, body: str) -> dict[str, str]:
    return {f"commands/{name}.md": f"---\ndescription: {body}\n---\n{body}\n"}


def skill(name: str, body: str) -> dict[str, str]:
    return {f"skills/{name}/SKILL.md": f"---\nname: {name}\ndescription: {body}\n---\n{body}\n"}


def agent(name: str, body: str) -> dict[str, str]:
    return {f"agents/{name}.md": f"---\nname: {name}\ndescription: {body}\n---\n{body}\n"}


def test_the_users_claude_folder_loads_as_a_trusted_set_with_bare_names(home, workspace):
    write_tree(home / ".claude", command("x", "user x") | skill("tidy", "user tidy") | agent("helper", "user helper"))
    plugins = discover(workspace, Settings(), include_bundled=False)
    (user,) = plugins.plugins
    assert (user.name, user.source, user.namespaced, user.root) == ("user", Source.USER, False, (home / ".claude").resolve())
    assert ([c.name for c in user.commands], [s.name for s in user.skills], [a.name for a in user.agents]) == (
        ["x"], ["tidy"], ["helper"])


def test_claude_config_dir_takes_the_place_of_the_users_claude_folder(home, workspace, tmp_path, monkeypatch):
    write_tree(tmp_path / "cfg", command("from-config-dir", "c"))
    write_tree(home / ".claude", command("from-home", "h"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert [e.qualified for e in catalog(workspace).commands] == ["from-config-dir"]


def test_the_users_command_wins_over_the_workspaces_of_the_same_name(home, workspace):
    write_tree(home / ".claude", command("dup", "user dup"))
    write_tree(workspace / ".claude", command("dup", "project dup"))
    entry = catalog(workspace).resolve_command("dup")
    assert (entry.plugin.name, entry.item.description) == ("user", "user dup")


def test_the_users_skill_wins_over_the_workspaces_of_the_same_name(home, workspace):
    write_tree(home / ".claude", skill("dup", "user dup"))
    write_tree(workspace / ".claude", skill("dup", "project dup"))
    entry = catalog(workspace).resolve_command("dup")
    assert (entry.plugin.name, entry.item.description) == ("user", "user dup")


def test_a_workspace_skill_wins_over_a_user_command_of_the_same_name(home, workspace):
    write_tree(home / ".claude", command("mix", "user command"))
    write_tree(workspace / ".claude", skill("mix", "project skill"))
    entry = catalog(workspace).resolve_command("mix")
    assert (entry.plugin.name, entry.kind) == ("project", "skill")


def test_the_workspaces_agent_wins_over_the_users_of_the_same_name(home, workspace):
    write_tree(home / ".claude", agent("dup", "user dup"))
    write_tree(workspace / ".claude", agent("dup", "project dup"))
    assert [(e.plugin.name, e.item.description) for e in catalog(workspace).agents] == [("project", "project dup")]


def test_the_skills_listing_names_the_users_twin_only(home, workspace):
    write_tree(home / ".claude", skill("dup", "user dup"))
    write_tree(workspace / ".claude", skill("dup", "project dup"))
    session = Session(workspace, discover(workspace, Settings(), include_bundled=False), Settings())
    assert session.skills_listing() == "Skills you can load with the Skill tool when they fit the task:\n- dup: user dup"


def test_hooks_of_the_users_settings_file_run_before_any_trust(home, workspace):
    write_tree(home / ".claude", {"settings.json": json.dumps(
        {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "echo hi"}]}]}})})
    session = Session(workspace, discover(workspace, Settings(), include_bundled=False), Settings())
    assert ([h.plugin.name for h in session.registry.hooks], session.untrusted_hooks()) == (["user"], [])


def test_a_linked_commands_folder_elsewhere_in_home_is_followed(home, workspace):
    write_tree(home / "dotfiles", command("linked", "from dotfiles"))
    (home / ".claude").mkdir()
    (home / ".claude/commands").symlink_to(home / "dotfiles/commands")
    assert [e.qualified for e in catalog(workspace).commands] == ["linked"]

"""enabledPlugins in Claude Code's settings files switches plugins off (and on), by plugin@marketplace;
the workspace's files switch the user's own plugins only once it is trusted."""

import json
from pathlib import Path

import pytest

from skillway.app.session import Session
from skillway.plugins.discovery import discover
from skillway.settings import Settings, data_dir
from skillway.settings.trust import TrustStore
from tests.conftest import write_tree


@pytest.fixture
def home(isolated_user_dirs) -> Path:
    return isolated_user_dirs / "home"


@pytest.fixture
def workspace(tmp_path) -> Path:
    return write_tree(tmp_path / "ws", {"README.md": "a project"}).resolve()


@pytest.fixture
def market(tmp_path) -> Path:
    """A marketplace folder "mkt" holding the plugin "kit", whose hook and command show it loaded."""
    return write_tree(tmp_path / "market", {
        ".claude-plugin/marketplace.json": json.dumps(
            {"name": "mkt", "owner": {"name": "me"}, "plugins": [{"name": "kit", "source": "./kit"}]}),
        "kit/.claude-plugin/plugin.json": '{"name": "kit"}',
        "kit/commands/greet.md": "Say hello.\n",
        "kit/hooks/hooks.json": json.dumps({"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "echo"}]}]}}),
    })


def enabled_plugins(folder: Path, file: str, value: dict) -> None:
    write_tree(folder, {file: json.dumps({"enabledPlugins": value})})


def names(plugins) -> list[str]:
    return [p.name for p in plugins.plugins]


def test_false_in_the_users_settings_leaves_the_plugin_out(home, workspace, market):
    enabled_plugins(home, ".claude/settings.json", {"kit@mkt": False})
    plugins = discover(workspace, Settings(), [market], include_bundled=False)
    assert (names(plugins), [p.name for p in plugins.disabled]) == ([], ["kit"])


def test_true_or_no_entry_keeps_the_plugin(home, workspace, market):
    enabled_plugins(home, ".claude/settings.json", {"kit@mkt": True, "other@mkt": False})
    assert names(discover(workspace, Settings(), [market], include_bundled=False)) == ["kit"]


def test_a_plugin_dir_plugin_is_named_at_inline(home, workspace, market):
    enabled_plugins(home, ".claude/settings.json", {"kit@inline": False})
    assert names(discover(workspace, Settings(), [market / "kit"], include_bundled=False)) == []


def test_the_workspace_switches_off_its_own_plugins_before_trust(workspace, market):
    (workspace / ".claude-plugin").mkdir()
    (workspace / ".claude-plugin/marketplace.json").write_text(json.dumps(
        {"name": "team", "owner": {"name": "t"}, "plugins": [{"name": "kit", "source": "./tools/kit"}]}))
    write_tree(workspace / "tools/kit", {"commands/greet.md": "Say hello.\n"})
    enabled_plugins(workspace, ".claude/settings.json", {"kit@team": False})
    plugins = discover(workspace, Settings(), include_bundled=False)
    assert (names(plugins), plugins.held_back) == (["project"], [])


def test_the_workspace_switching_off_a_users_plugin_waits_for_trust(workspace, market):
    enabled_plugins(workspace, ".claude/settings.json", {"kit@mkt": False})
    plugins = discover(workspace, Settings(), [market], include_bundled=False)
    assert (names(plugins), plugins.held_back) == (["kit", "project"], ["kit@mkt"])
    assert [p.message for p in plugins.problems] == [
        'workspace not trusted, so its enabledPlugins cannot disable "kit@mkt", a plugin of yours, until you run '
        "`skillway trust`"]


def test_a_trusted_workspace_switches_off_a_users_plugin(workspace, market):
    enabled_plugins(workspace, ".claude/settings.json", {"kit@mkt": False})
    plugins = discover(workspace, Settings(), [market], include_bundled=False, workspace_trusted=True)
    assert (names(plugins), plugins.held_back) == (["project"], [])


def test_the_workspace_switching_on_a_plugin_the_user_switched_off_waits_for_trust(home, workspace, market):
    enabled_plugins(home, ".claude/settings.json", {"kit@mkt": False})
    enabled_plugins(workspace, ".claude/settings.json", {"kit@mkt": True})
    untrusted = discover(workspace, Settings(), [market], include_bundled=False)
    trusted = discover(workspace, Settings(), [market], include_bundled=False, workspace_trusted=True)
    assert (names(untrusted), names(trusted)) == (["project"], ["kit", "project"])


def test_the_local_settings_file_wins_over_the_shared_one(workspace, market):
    enabled_plugins(workspace, ".claude/settings.json", {"kit@mkt": False})
    enabled_plugins(workspace, ".claude/settings.local.json", {"kit@mkt": True})
    assert names(discover(workspace, Settings(), [market], include_bundled=False, workspace_trusted=True)) == [
        "kit", "project"]


def test_a_value_that_is_not_a_boolean_is_ignored_with_a_warning(home, workspace, market):
    enabled_plugins(home, ".claude/settings.json", {"kit@mkt": "no"})
    plugins = discover(workspace, Settings(), [market], include_bundled=False)
    assert (names(plugins), [p.message for p in plugins.problems]) == (
        ["kit"], ['enabledPlugins "kit@mkt" must be true or false; it is ignored'])


def test_trusting_the_workspace_applies_its_switch_of_a_users_plugin(workspace, market):
    enabled_plugins(workspace, ".claude/settings.json", {"kit@mkt": False})
    before = Session.open(workspace, [market])
    TrustStore(data_dir()).trust(workspace, before.hook_fingerprint)
    after = Session.open(workspace, [market])
    assert (before.held_back(), "kit" in names(before.plugins)) == (("enabledPlugins",), True)
    assert (after.held_back(), "kit" in names(after.plugins)) == ((), False)

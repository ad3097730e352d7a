"""Namespacing: qualified names, unique bare aliases, sub-folder namespaces, skill beats command."""

from pathlib import Path

import pytest

from skillway.plugins.catalog import Catalog, UnknownName
from skillway.plugins.discovery import discover
from skillway.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def catalog():
    plugins = discover(FIXTURES / "workspace", Settings(),
                       [FIXTURES / "plugins/devtools", FIXTURES / "plugins/notes-kit", FIXTURES / "marketplace"],
                       include_bundled=False)
    return Catalog(plugins.plugins)


def test_plugin_commands_are_namespaced_by_the_plugin(catalog):
    assert catalog.resolve_command("/devtools:commit").item.name == "commit"


def test_unique_bare_name_resolves(catalog):
    assert catalog.resolve_command("commit").qualified == "devtools:commit"


def test_sub_folders_namespace_commands(catalog):
    assert catalog.resolve_command("devtools:frontend:component").item.name == "frontend:component"
    assert catalog.resolve_command("frontend:component").qualified == "devtools:frontend:component"
    assert catalog.resolve_command("component").qualified == "devtools:frontend:component"


def test_workspace_commands_have_bare_qualified_names(catalog):
    assert catalog.resolve_command("/db:migrate").qualified == "db:migrate"


def test_a_bare_name_owned_by_the_workspace_beats_plugin_aliases(catalog):
    # beta@team-tools also has a "deploy" command; the workspace's own is exactly "deploy".
    assert catalog.resolve_command("deploy").plugin.name == "project"
    assert catalog.resolve_command("beta:deploy").plugin.name == "beta"


def test_two_plugins_sharing_a_bare_name_make_it_ambiguous(tree):
    one = tree({"commands/lint.md": "One.\n"}, name="one")
    two = tree({"commands/lint.md": "Two.\n"}, name="two")
    catalog = Catalog(discover(None, Settings(), [one, two], include_bundled=False).plugins)
    with pytest.raises(UnknownName, match='"lint" is ambiguous: one:lint, two:lint; use the full name'):
        catalog.resolve_command("lint")
    assert catalog.resolve_command("two:lint").plugin.name == "two"


def test_a_skill_beats_a_command_of_the_same_name(tree):
    root = tree({"commands/fmt.md": "Command.\n", "skills/fmt/SKILL.md": "---\nname: fmt\ndescription: Skill\n---\nS\n"}, name="kit")
    catalog = Catalog(discover(None, Settings(), [root], include_bundled=False).plugins)
    assert catalog.resolve_command("kit:fmt").kind == "skill"
    assert catalog.resolve_command("fmt").kind == "skill"
    assert [e.kind for e in catalog.commands] == ["skill"]


def test_skills_the_user_cannot_invoke_are_not_commands(catalog):
    with pytest.raises(UnknownName, match='no command named "accessibility"'):
        catalog.resolve_command("accessibility")


def test_agents_resolve_by_qualified_and_bare_name(catalog):
    assert catalog.resolve_agent("devtools:reviewer").item.name == "reviewer"
    assert catalog.resolve_agent("oncall").qualified == "oncall"


def test_plugins_that_failed_to_load_contribute_no_names():
    plugins = discover(None, Settings(), [FIXTURES / "plugins/broken-manifest"], include_bundled=False)
    with pytest.raises(UnknownName):
        Catalog(plugins.plugins).resolve_command("lint")

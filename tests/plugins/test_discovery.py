"""Where plugins come from, and that one broken plugin never stops the others."""

from pathlib import Path

from skillway.plugins.bundled import bundled_plugin_root
from skillway.plugins.discovery import discover
from skillway.plugins.model import Source
from skillway.settings import Settings, load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def names_and_sources(plugins):
    return [(p.name, p.source) for p in plugins.plugins]


def test_bundled_plugin_comes_first():
    plugins = discover(None, Settings())
    assert (plugins.plugins[0].name, plugins.plugins[0].source, plugins.plugins[0].root) == (
        "skillway", Source.BUNDLED, bundled_plugin_root())


def test_user_plugin_folders_from_the_settings_file_load_as_user_plugins(isolated_user_dirs):
    (isolated_user_dirs / "config").mkdir()
    (isolated_user_dirs / "config/settings.json").write_text(f'{{"pluginDirs": ["{FIXTURES / "plugins/notes-kit"}"]}}')
    plugins = discover(None, load_settings(None), include_bundled=False)
    assert names_and_sources(plugins) == [("notes-kit", Source.USER)]


def test_plugin_dir_holding_several_plugins_loads_each():
    plugins = discover(None, Settings(), [FIXTURES / "plugins"], include_bundled=False)
    assert names_and_sources(plugins) == [
        ("broken-manifest", Source.PLUGIN_DIR), ("devtools", Source.PLUGIN_DIR),
        ("notes-kit", Source.PLUGIN_DIR), ("sql-style", Source.PLUGIN_DIR)]


def test_broken_plugin_beside_a_good_one_does_not_stop_it():
    plugins = discover(None, Settings(), [FIXTURES / "plugins/broken-manifest", FIXTURES / "plugins/notes-kit"],
                       include_bundled=False)
    broken, good = plugins.plugins
    assert (broken.loaded, broken.commands, [p.message for p in broken.problems]) == (
        False, [], ['"keywords" must be an array, got a string'])
    assert (good.loaded, len(good.commands), good.problems) == (True, 2, [])


def test_workspace_claude_folder_is_the_project_plugin_with_bare_names():
    plugins = discover(FIXTURES / "workspace", Settings(), include_bundled=False)
    project = plugins.find("project")
    assert (project.source, project.namespaced) == (Source.WORKSPACE, False)
    assert sorted(c.name for c in project.commands) == ["db:migrate", "deploy"]
    assert ([s.name for s in project.skills], [a.name for a in project.agents]) == (["house-style"], ["oncall"])
    assert [g.event for g in project.hooks] == ["UserPromptSubmit"]


def test_workspace_claude_plugin_folder_makes_the_workspace_a_plugin():
    plugins = discover(FIXTURES / "workspace", Settings(), include_bundled=False)
    assert names_and_sources(plugins) == [("service-kit", Source.WORKSPACE), ("project", Source.WORKSPACE)]


def test_workspace_marketplace_loads_its_local_plugins_as_workspace_plugins():
    plugins = discover(FIXTURES / "marketplace", Settings(), include_bundled=False)
    assert names_and_sources(plugins) == [("alpha", Source.WORKSPACE), ("beta", Source.WORKSPACE)]
    assert [m.name for m in plugins.marketplaces] == ["team-tools"]


def test_ordinary_project_folders_do_not_make_the_workspace_a_plugin(tree):
    workspace = tree({"hooks/pre-commit": "#!/bin/sh\n", "commands/readme.md": "Not a command.\n"})
    assert discover(workspace, Settings(), include_bundled=False).plugins == []


def test_plugin_folders_named_by_workspace_settings_are_workspace_plugins(tree):
    workspace = tree({".skillway/settings.json": '{"pluginDirs": ["tools/kit"]}', "tools/kit/commands/a.md": "A\n"})
    plugins = discover(workspace, load_settings(workspace, workspace_trusted=True), include_bundled=False)
    assert names_and_sources(plugins) == [("kit", Source.WORKSPACE)]


def test_the_same_folder_reached_twice_loads_once_under_the_first_source():
    folder = FIXTURES / "plugins/notes-kit"
    plugins = discover(None, Settings(plugin_dirs=(folder,)), [folder], include_bundled=False)
    assert names_and_sources(plugins) == [("notes-kit", Source.USER)]


def test_missing_plugin_dir_is_a_problem_not_a_crash(tmp_path):
    plugins = discover(None, Settings(), [tmp_path / "nope"], include_bundled=False)
    assert (plugins.plugins, [p.message for p in plugins.problems]) == ([], ["plugin folder does not exist"])


def test_workspace_sources_are_not_trusted_by_default_and_the_others_are():
    assert [s.trusted_by_default for s in Source] == [True, True, True, False, True]

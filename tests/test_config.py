"""Settings layers, and wrong values reported with their file and setting, then ignored."""

import json
from pathlib import Path

from skillway.config import load_settings


def write_user_settings(home: Path, data) -> Path:
    path = home / "config" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_no_settings_anywhere_gives_defaults():
    settings = load_settings(None, environ={})
    assert (settings.plugin_dirs, settings.workspace_plugin_dirs, settings.problems) == ((), (), ())


def test_user_file_plugin_dirs_are_relative_to_the_file(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, {"pluginDirs": ["plugins/a", "/abs/b"]})
    assert load_settings(None, environ={}).plugin_dirs == (path.parent / "plugins/a", Path("/abs/b"))


def test_layers_add_up_user_file_then_editor_options_then_environment(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"pluginDirs": ["/from/file"]})
    settings = load_settings(tmp_path, lsp_options={"pluginDirs": ["/from/editor"]},
                             environ={"SKILLWAY_PLUGIN_DIRS": "/from/env:/and/more"})
    assert settings.plugin_dirs == tuple(Path(p) for p in ("/from/file", "/from/editor", "/from/env", "/and/more"))


def test_editor_options_may_nest_our_section_under_skillway(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"skillway": {"pluginDirs": ["/x"]}}, environ={})
    assert settings.plugin_dirs == (Path("/x"),)


def test_workspace_file_plugin_dirs_are_kept_apart_from_the_users(tmp_path):
    (tmp_path / ".skillway").mkdir()
    (tmp_path / ".skillway/settings.json").write_text('{"pluginDirs": ["vendor/kit"]}')
    settings = load_settings(tmp_path, environ={})
    assert (settings.plugin_dirs, settings.workspace_plugin_dirs) == ((), (tmp_path / "vendor/kit",))


def test_wrong_type_is_reported_with_file_and_setting_and_ignored(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, {"pluginDirs": "/one/folder"})
    settings = load_settings(None, environ={})
    assert settings.plugin_dirs == ()
    assert [p.format() for p in settings.problems] == [
        f'{path}:1:1: error: setting "pluginDirs" must be a list of folder paths; it is ignored']


def test_malformed_settings_file_is_reported_at_its_line_and_ignored(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, '{\n  "pluginDirs": [,]\n}')
    settings = load_settings(None, environ={})
    assert [p.format() for p in settings.problems] == [f"{path}:2:18: error: invalid JSON: Expecting value; the file is ignored"]


def test_unknown_setting_is_a_warning(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"plugin_dirs": []}, environ={})
    assert [p.message for p in settings.problems] == ['unknown setting "plugin_dirs" is ignored']

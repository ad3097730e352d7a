"""Settings layers, and wrong values reported with their file and setting, then ignored."""

import json
from pathlib import Path

from skillway.settings import ModelPrice, Models, Purpose, QuotaSetting, load_settings


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
    settings = load_settings(tmp_path, environ={}, workspace_trusted=True)
    assert (settings.plugin_dirs, settings.workspace_plugin_dirs) == ((), (tmp_path / "vendor/kit",))


def test_wrong_type_is_reported_with_file_and_setting_and_ignored(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, {"pluginDirs": "/one/folder"})
    settings = load_settings(None, environ={})
    assert settings.plugin_dirs == ()
    assert [p.format() for p in settings.problems] == [
        f'{path}:1:2: error: setting "pluginDirs" must be a list of folder paths; it is ignored']


def test_malformed_settings_file_is_reported_at_its_line_and_ignored(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, '{\n  "pluginDirs": [,]\n}')
    settings = load_settings(None, environ={})
    assert [p.format() for p in settings.problems] == [f"{path}:2:18: error: invalid JSON: Expecting value; the file is ignored"]


def test_unknown_setting_is_a_warning(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"plugin_dirs": []}, environ={})
    assert [p.message for p in settings.problems] == ['unknown setting "plugin_dirs" is ignored']


def test_model_settings_have_defaults_per_purpose():
    settings = load_settings(None, environ={})
    assert (settings.models.completion, settings.retries.completion, settings.retries.chat) == ("claude-haiku-4-5", 0, 2)
    assert settings.timeouts.for_purpose(Purpose.COMPLETION) < settings.timeouts.for_purpose("chat")


def test_object_settings_merge_key_by_key_across_layers(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"models": {"chat": "claude-opus-4-6"}})
    settings = load_settings(tmp_path, lsp_options={"models": {"completion": "local-coder"}}, environ={})
    assert settings.models == Models(completion="local-coder", chat="claude-opus-4-6", agent="claude-sonnet-4-6")


def test_base_url_comes_from_the_environment_over_files(isolated_user_dirs):
    write_user_settings(isolated_user_dirs, {"baseUrl": "http://from-file"})
    settings = load_settings(None, environ={"ANTHROPIC_BASE_URL": "http://127.0.0.1:8080"})
    assert settings.base_url == "http://127.0.0.1:8080"


def test_a_wrong_value_keeps_the_lower_layer_and_names_the_setting(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"timeouts": {"completion": 5}})
    settings = load_settings(tmp_path, lsp_options={"timeouts": {"completion": -1}}, environ={})
    assert settings.timeouts.completion == 5.0
    assert [p.message for p in settings.problems] == [
        'setting "timeouts.completion" must be a number > 0, got -1; it is ignored']


def test_unknown_purpose_is_a_warning_naming_the_nested_key(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"models": {"fast": "x"}}, environ={})
    assert [p.format() for p in settings.problems] == [
        'initializationOptions:1:1: warning: setting "models.fast" is unknown (known: completion, chat, agent); it is ignored']


def test_prices_need_input_and_output(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"prices": {"sonnet": {"input": 3}}}, environ={})
    assert settings.prices == {}
    assert "prices" in settings.problems[0].message


def test_allowed_tools_from_a_trusted_workspace_file_are_kept_apart(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"allowedTools": ["Read"]})
    (tmp_path / ".skillway").mkdir()
    (tmp_path / ".skillway/settings.json").write_text('{"allowedTools": ["Bash"]}')
    settings = load_settings(tmp_path, environ={}, workspace_trusted=True)
    assert (settings.allowed_tools, settings.workspace_allowed_tools) == (("Read",), ("Bash",))


def test_allowed_tools_from_an_untrusted_workspace_file_are_held_back(isolated_user_dirs, tmp_path):
    (tmp_path / ".skillway").mkdir()
    (tmp_path / ".skillway/settings.json").write_text('{"allowedTools": ["Bash"]}')
    settings = load_settings(tmp_path, environ={})
    assert (settings.workspace_allowed_tools, settings.held_back) == ((), ("allowedTools",))


def write_workspace_settings(workspace: Path, data: dict) -> Path:
    path = workspace / ".skillway" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def test_untrusted_workspace_settings_that_wait_for_trust_are_ignored_with_one_notice(isolated_user_dirs, tmp_path):
    path = write_workspace_settings(tmp_path, {"contextBudget": 5, "baseUrl": "http://attacker", "pluginDirs": ["kit"],
                                               "quotas": {"*": {"maxTokens": 10**12}}, "prices": {}, "projectId": "x"})
    settings = load_settings(tmp_path, environ={})
    assert (settings.base_url, settings.workspace_plugin_dirs, settings.quotas, settings.project_id) == (None, (), {}, None)
    assert settings.context_budget == 5  # a setting that only shapes what skillway does locally applies
    assert [p.format() for p in settings.problems] == [
        f"{path}:3:3: warning: workspace not trusted, so these settings are ignored until you run `skillway trust`: "
        "baseUrl, pluginDirs, quotas, prices, projectId"]


def test_trusted_workspace_base_url_never_overrides_the_users_file(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"baseUrl": "http://mine"})
    write_workspace_settings(tmp_path, {"baseUrl": "http://theirs"})
    assert load_settings(tmp_path, environ={}, workspace_trusted=True).base_url == "http://mine"


def test_trusted_workspace_base_url_never_overrides_the_environment(tmp_path):
    write_workspace_settings(tmp_path, {"baseUrl": "http://theirs"})
    settings = load_settings(tmp_path, environ={"ANTHROPIC_BASE_URL": "http://env"}, workspace_trusted=True)
    assert settings.base_url == "http://env"


def test_trusted_workspace_base_url_applies_when_nobody_else_sets_one(isolated_user_dirs, tmp_path):
    write_workspace_settings(tmp_path, {"baseUrl": "http://127.0.0.1:9"})
    assert load_settings(tmp_path, environ={}, workspace_trusted=True).base_url == "http://127.0.0.1:9"


def test_nested_wrong_value_names_the_nested_key_and_its_line(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, '{\n  "models": {\n    "chat": 5,\n    "agent": "claude-opus-4-6"\n  }\n}')
    settings = load_settings(None, environ={})
    assert [p.format() for p in settings.problems] == [
        f'{path}:3:5: error: setting "models.chat" must be a non-empty string, got 5; it is ignored']
    assert (settings.models.chat, settings.models.agent) == ("claude-sonnet-4-6", "claude-opus-4-6")


def test_quota_wrong_value_names_the_nested_key(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"quotas": {"web": {"maxTokens": -3}, "*": {"maxCostUsd": 5}}},
                             environ={})
    assert [p.message for p in settings.problems] == [
        'setting "quotas.web.maxTokens" must be a whole number > 0, got -3; it is ignored']
    assert settings.quotas == {"*": QuotaSetting(max_cost_usd=5.0)}


def test_quota_window_must_be_a_duration(tmp_path):
    settings = load_settings(tmp_path, lsp_options={"quotas": {"*": {"maxTokens": 9, "window": "soon"}}}, environ={})
    assert [p.message for p in settings.problems] == [
        'setting "quotas.*.window" must be a duration like "90m", "5h", "24h" or "7d", got "soon"; it is ignored']


def test_a_wrong_value_deep_in_a_table_names_its_full_key_path_and_keeps_the_rest(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"quotas": {"myteam": {"maxCostUsd": 10}},
                                        "prices": {"sonnet": {"input": 2, "output": 10}}})
    settings = load_settings(tmp_path, lsp_options={"quotas": {"myteam": {"maxCostUsd": "lots"}, "web": {"maxTokens": 5}},
                                                    "prices": {"sonnet": {"input": 2, "output": 10, "cache": 1}}}, environ={})
    assert [p.message for p in settings.problems] == [
        'setting "prices.sonnet.cache" is unknown (known: input, output); it is ignored',
        'setting "quotas.myteam.maxCostUsd" must be a number > 0, got "lots"; it is ignored']
    # the wrong entries are left out whole: the lower layer's stand
    assert settings.quotas == {"myteam": QuotaSetting(max_cost_usd=10.0), "web": QuotaSetting(max_tokens=5)}
    assert settings.prices == {"sonnet": ModelPrice(input=2.0, output=10.0)}


def test_a_section_that_is_not_an_object_keeps_the_lower_layer(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"timeouts": {"chat": 30}, "hookOutputs": {"keepSessions": 3}})
    settings = load_settings(tmp_path, lsp_options={"timeouts": 5, "hookOutputs": {"maxMegabytes": 0}}, environ={})
    assert [p.message for p in settings.problems] == [
        'setting "timeouts" must be an object with keys among completion, chat, agent, got 5; it is ignored',
        'setting "hookOutputs.maxMegabytes" must be a number > 0, got 0; it is ignored']
    assert (settings.timeouts.chat, settings.timeouts.completion) == (30.0, 10.0)
    assert (settings.hook_outputs.keep_sessions, settings.hook_outputs.max_megabytes) == (3, 100.0)


def test_null_is_a_wrong_value_not_a_reset(isolated_user_dirs, tmp_path):
    write_user_settings(isolated_user_dirs, {"baseUrl": "http://mine", "completionItems": True})
    settings = load_settings(tmp_path, lsp_options={"baseUrl": None, "completionItems": None}, environ={})
    assert (settings.base_url, settings.completion_items) == ("http://mine", True)
    assert [p.message for p in settings.problems] == [
        'setting "baseUrl" must be a non-empty string, got null; it is ignored',
        'setting "completionItems" must be true or false, got null; it is ignored']


def test_a_nested_section_in_a_file_is_located_under_skillway(isolated_user_dirs):
    path = write_user_settings(isolated_user_dirs, '{"skillway": {\n  "contextBudget": -1}}')
    settings = load_settings(None, environ={})
    assert [p.format() for p in settings.problems] == [
        f'{path}:2:3: error: setting "contextBudget" must be a whole number >= 0, got -1; it is ignored']


def test_a_purpose_is_an_enum_equal_to_its_name():
    assert Purpose("chat") is Purpose.CHAT and Purpose.CHAT == "chat"
    assert load_settings(None, environ={}).max_tokens.for_purpose("agent") == 8192

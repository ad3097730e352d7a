"""hooks.json, inline hooks and settings hooks: shapes, matchers, handler types, exact lines."""

from pathlib import Path

from skillway.plugins.hooks_config import load_hooks_file, load_settings_hooks
from skillway.plugins.loader import load_plugin
from skillway.plugins.model import HookEvent, HookHandler, Source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def problems_of(problems):
    return [(p.line, p.column, p.severity.value, p.message) for p in problems]


def hooks_file(tree, text: str) -> Path:
    return tree({"hooks/hooks.json": text}) / "hooks/hooks.json"


def test_default_and_declared_hooks_files_both_load():
    plugin = load_plugin(FIXTURES / "plugins/devtools", Source.PLUGIN_DIR)
    assert [(g.event, g.matcher, g.path.name) for g in plugin.hooks] == [
        ("SessionStart", "startup|resume", "hooks.json"),
        ("PostToolUse", "Write|Edit", "hooks.json"),
        ("PreToolUse", "Bash", "more-hooks.json"),
        ("Stop", None, "more-hooks.json"),
    ]


def test_handler_fields_in_exec_and_async_forms():
    plugin = load_plugin(FIXTURES / "plugins/devtools", Source.PLUGIN_DIR)
    assert plugin.hooks[1].handlers == (
        HookHandler(type="command", command="python3", args=("${CLAUDE_PLUGIN_ROOT}/scripts/format.py",), timeout=30),)
    assert plugin.hooks[3].handlers[0].run_async is True


def test_inline_hooks_object_in_the_manifest_loads(tree):
    root = tree({".claude-plugin/plugin.json": '{"name": "p", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard"}]}]}}'})
    plugin = load_plugin(root, Source.PLUGIN_DIR)
    assert [(g.event, g.matcher, g.handlers[0].command) for g in plugin.hooks] == [("PreToolUse", "Bash", "./guard")]


def test_declaring_the_default_hooks_file_again_loads_it_once_with_a_warning(tree):
    root = tree({
        ".claude-plugin/plugin.json": '{\n  "name": "p",\n  "hooks": "./hooks/hooks.json"\n}',
        "hooks/hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}}',
    })
    plugin = load_plugin(root, Source.PLUGIN_DIR)
    assert plugin.hook_handler_count == 1
    assert problems_of(plugin.problems) == [(3, 3, "warning", '"hooks/hooks.json" is loaded by default; listing it again makes Claude Code report a duplicate')]


def test_unknown_event_names_are_accepted(tree):
    groups, problems = load_hooks_file(hooks_file(tree, '{"hooks": {"TeammateIdle": [{"hooks": [{"type": "command", "command": "true"}]}]}}'))
    assert ([g.event for g in groups], problems) == (["TeammateIdle"], [])


def test_invalid_matcher_regex_is_an_error_at_the_matcher_and_the_file_loads_nothing(tree):
    text = '{\n  "hooks": {\n    "Stop": [{"hooks": [{"type": "command", "command": "a"}]}],\n    "PreToolUse": [\n      {"matcher": "Edit(", "hooks": [{"type": "command", "command": "b"}]}\n    ]\n  }\n}'
    groups, problems = load_hooks_file(hooks_file(tree, text))
    assert groups == []
    assert problems_of(problems) == [(5, 8, "error", "matcher 'Edit(' is not a valid regular expression: missing ), unterminated subpattern at position 4")]


def test_matcher_group_without_hooks_array_is_an_error(tree):
    groups, problems = load_hooks_file(hooks_file(tree, '{\n  "hooks": {\n    "Stop": [\n      {"matcher": "x"}\n    ]\n  }\n}'))
    assert groups == []
    assert problems_of(problems) == [(4, 7, "error", 'missing required field "hooks" in "hooks.Stop[0]"')]


def test_event_that_is_not_an_array_is_an_error(tree):
    _groups, problems = load_hooks_file(hooks_file(tree, '{\n  "hooks": {\n    "Stop": {"hooks": []}\n  }\n}'))
    assert problems_of(problems) == [(3, 5, "error", '"hooks.Stop" must be an array, got an object')]


def test_handler_without_type_is_an_error(tree):
    _, problems = load_hooks_file(hooks_file(tree, '{"hooks": {"Stop": [{"hooks": [\n  {"command": "true"}\n]}]}}'))
    assert problems_of(problems) == [(2, 3, "error", 'missing required field "type" in "hooks.Stop[0].hooks[0]"')]


def test_command_handler_without_command_is_an_error(tree):
    _, problems = load_hooks_file(hooks_file(tree, '{"hooks": {"Stop": [{"hooks": [\n  {"type": "command"}\n]}]}}'))
    assert problems_of(problems) == [(2, 3, "error", 'a "command" hook needs a "command"')]


def test_timeout_of_the_wrong_type_is_an_error(tree):
    _, problems = load_hooks_file(hooks_file(tree, '{"hooks": {"Stop": [{"hooks": [\n  {"type": "command", "command": "x",\n   "timeout": "30"}]}]}}'))
    assert problems_of(problems) == [(3, 4, "error", '"hooks.Stop[0].hooks[0].timeout" must be a number, got a string')]


def test_unsupported_handler_type_is_skipped_with_a_warning(tree):
    groups, problems = load_hooks_file(hooks_file(tree, '{"hooks": {"Stop": [{"hooks": [\n  {"type": "bogus", "url": "https://example.org"},\n  {"type": "command", "command": "true"}]}]}}'))
    assert [len(g.handlers) for g in groups] == [1]
    assert problems_of(problems) == [(2, 3, "warning", 'hook type "bogus" is not supported by skillway; it is skipped')]


def test_unknown_handler_field_is_a_warning(tree):
    _, problems = load_hooks_file(hooks_file(tree, '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x",\n "retries": 3}]}]}}'))
    assert problems_of(problems) == [(2, 2, "warning", 'unknown field "retries" is ignored')]


def test_events_at_the_top_level_are_a_legacy_form_that_still_loads(tree):
    groups, problems = load_hooks_file(hooks_file(tree, '{"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}'))
    assert [g.event for g in groups] == ["Stop"]
    assert problems_of(problems) == [(1, 1, "warning", 'legacy form: events at the top level; wrap them as {"hooks": {...}}')]


def test_hooks_file_that_is_not_json_is_an_error(tree):
    groups, problems = load_hooks_file(hooks_file(tree, '{"hooks": {\n  "Stop": [}\n}'))
    assert (groups, problems_of(problems)) == ([], [(2, 12, "error", "invalid JSON: Expecting value")])


def test_settings_file_hooks_load_and_other_settings_are_not_checked():
    groups, problems = load_settings_hooks(FIXTURES / "workspace/.claude/settings.json")
    assert problems == []
    assert [(g.event, g.handlers[0].command) for g in groups] == [("UserPromptSubmit", "echo remember the style guide")]


def test_settings_file_with_a_bad_hooks_shape_reports_it_at_its_line(tree):
    path = tree({".claude/settings.json": '{\n  "model": "opus",\n  "hooks": {\n    "Stop": "true"\n  }\n}'}) / ".claude/settings.json"
    groups, problems = load_settings_hooks(path)
    assert (groups, problems_of(problems)) == ([], [(4, 5, "error", '"hooks.Stop" must be an array, got a string')])


def test_known_event_names_become_hook_events_and_unknown_ones_stay_names_that_never_fire(tree):
    path = hooks_file(tree, '{"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "a"}]}],'
                            ' "BeforeLunch": [{"hooks": [{"type": "command", "command": "b"}]}]}}')
    groups, problems = load_hooks_file(path)
    assert problems == [] and [g.event for g in groups] == [HookEvent.PRE_TOOL_USE, "BeforeLunch"]
    assert groups[0].event is HookEvent.PRE_TOOL_USE and not isinstance(groups[1].event, HookEvent)

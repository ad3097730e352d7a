"""Problems of an editor's unsaved text: the validator's messages at the line and column of the key."""

from pathlib import Path

import pytest

from skillway.authoring.diagnostics import diagnose
from skillway.plugins.validate import validate_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def problems_of(problems):
    return [(p.line, p.column, p.severity.value, p.message) for p in problems]


def test_the_unsaved_text_is_checked_not_the_file_on_disk(tree):
    path = tree({".claude-plugin/plugin.json": '{"name": "p"}'}) / ".claude-plugin/plugin.json"
    problems = diagnose(path, '{\n  "name": "p",\n  "keywords": "lint"\n}')
    assert problems_of(problems) == [(3, 3, "error", '"keywords" must be an array, got a string')]
    assert all(p.path == path for p in problems)


def test_unknown_manifest_field_is_a_warning_at_its_key(tree):
    path = tree({".claude-plugin/plugin.json": "{}"}) / ".claude-plugin/plugin.json"
    problems = diagnose(path, '{\n  "name": "p",\n\n    "colour": "blue"\n}')
    assert problems_of(problems) == [(4, 5, "warning", 'unknown field "colour" is ignored')]


def test_declared_path_missing_from_the_plugin_is_an_error_at_its_entry(tree):
    path = tree({".claude-plugin/plugin.json": "{}", "commands/a.md": "A"}) / ".claude-plugin/plugin.json"
    problems = diagnose(path, '{\n  "name": "p",\n  "commands": ["./commands", "./gone"]\n}')
    assert problems_of(problems) == [(3, 30, "error", 'path "./gone" does not exist')]


def test_declared_path_leaving_the_plugin_is_refused(tree):
    path = tree({".claude-plugin/plugin.json": "{}"}) / ".claude-plugin/plugin.json"
    problems = diagnose(path, '{"name": "p", "agents": "../elsewhere"}')
    assert problems_of(problems) == [(1, 15, "error", 'path "../elsewhere" leaves the plugin root')]


def test_declared_path_without_dot_slash_warns(tree):
    path = tree({".claude-plugin/plugin.json": "{}", "extra/s/SKILL.md": "---\nname: s\ndescription: d\n---\n"}) / ".claude-plugin/plugin.json"
    problems = diagnose(path, '{"name": "p", "skills": "extra"}')
    assert problems_of(problems) == [(1, 15, "warning", 'path "extra" should start with "./"')]


def test_stray_manifest_is_checked_without_its_paths(tree):
    path = tree({"plugin.json": "{}"}) / "plugin.json"
    assert diagnose(path, '{"name": "p", "commands": "./gone"}') == []


def test_inline_hook_with_an_invalid_matcher_in_a_manifest_is_an_error_at_the_matcher(tree):
    path = tree({".claude-plugin/plugin.json": "{}"}) / ".claude-plugin/plugin.json"
    text = '{\n  "name": "p",\n  "hooks": {"Stop": [\n    {"matcher": "(", "hooks": []}\n  ]}\n}'
    assert problems_of(diagnose(path, text)) == [
        (4, 6, "error", "matcher '(' is not a valid regular expression: missing ), unterminated subpattern at position 0")]


def test_invalid_matcher_regex_in_hooks_json_is_an_error_at_the_matcher():
    text = '{\n  "hooks": {\n    "PreToolUse": [\n      {"matcher": "Edit(", "hooks": [{"type": "command", "command": "b"}]}\n    ]\n  }\n}'
    assert problems_of(diagnose(Path("p/hooks/hooks.json"), text)) == [
        (4, 8, "error", "matcher 'Edit(' is not a valid regular expression: missing ), unterminated subpattern at position 4")]


def test_settings_hooks_are_checked_and_other_settings_are_not():
    text = '{\n  "permissions": {"allow": []},\n  "hooks": {"Stop": [{"hooks": [{"typ": "command"}]}]}\n}'
    assert problems_of(diagnose(Path("project/.claude/settings.json"), text)) == [
        (3, 33, "error", 'missing required field "type" in "hooks.Stop[0].hooks[0]"'),
        (3, 34, "warning", 'unknown field "typ" is ignored'),
    ]


def test_marketplace_entry_without_source_is_an_error(tree):
    path = tree({".claude-plugin/marketplace.json": "{}"}) / ".claude-plugin/marketplace.json"
    text = '{\n  "name": "m",\n  "owner": {"name": "o"},\n  "plugins": [\n    {"name": "a"}\n  ]\n}'
    assert problems_of(diagnose(path, text)) == [(5, 5, "error", 'missing required field "source" in "plugins[0]"')]


def test_json_broken_mid_typing_is_one_problem_at_the_syntax_error():
    text = '{\n  "name": "p",\n  "vers\n}'
    assert problems_of(diagnose(Path("p/.claude-plugin/plugin.json"), text)) == [
        (3, 8, "error", "invalid JSON: Invalid control character at")]


def test_trailing_comma_mid_typing_is_reported_where_the_next_key_should_be():
    text = '{\n  "name": "p",\n}'
    assert problems_of(diagnose(Path("p/.claude-plugin/plugin.json"), text)) == [
        (3, 1, "error", "invalid JSON: Expecting property name enclosed in double quotes")]


def test_json_nested_too_deeply_is_a_problem_not_a_crash():
    assert problems_of(diagnose(Path("p/hooks/hooks.json"), "[" * 100_000)) == [
        (1, 1, "error", "invalid JSON: nested too deeply")]


def test_empty_json_document_is_an_error():
    assert problems_of(diagnose(Path("p/hooks/hooks.json"), "  \n")) == [
        (1, 1, "error", "file is empty; expected a JSON object")]


@pytest.mark.parametrize(
    "name, messages",
    [
        ("Fmt", ['"name" must use only lowercase letters, digits and hyphens',
                 'the skill is named after its folder, "fmt": "name" is a label here']),
        ("claude-helper", ['"name" must not contain "anthropic" or "claude"']),
        ("x" * 65, ['"name" is 65 characters long; the limit is 64']),
    ],
)
def test_skill_name_breaking_a_publishing_rule_is_a_warning_at_its_line(name, messages):
    text = f"---\ndescription: Formats code.\nname: {name}\n---\nBody\n"
    assert problems_of(diagnose(Path("p/skills/fmt/SKILL.md"), text)) == [(3, 1, "warning", m) for m in messages]


def test_skill_frontmatter_not_closed_yet_is_an_error_at_the_first_line():
    text = "---\nname: fmt\ndescription: Formats code.\n"
    assert problems_of(diagnose(Path("p/skills/fmt/SKILL.md"), text)) == [
        (1, 1, "error", "frontmatter is not closed with a '---' line"),
        (1, 1, "warning", 'missing "description": the model cannot tell when to use this skill'),
    ]


def test_frontmatter_that_is_not_even_key_value_lines_is_an_error_at_its_line():
    text = "---\ndescription: d\n- item\n---\nBody\n"
    assert problems_of(diagnose(Path("p/commands/ship.md"), text)) == [
        (3, 1, "error", "frontmatter is not valid YAML: did not find expected key")]


def test_unknown_command_frontmatter_key_is_a_warning_at_its_line():
    text = "---\ndescription: d\ncolour: red\n---\nBody\n"
    assert problems_of(diagnose(Path("p/commands/ship.md"), text)) == [
        (3, 1, "warning", 'unknown field "colour" is ignored')]


def test_agent_missing_its_description_is_an_error():
    assert problems_of(diagnose(Path("p/agents/rev.md"), "---\nname: rev\n---\nYou review.\n")) == [
        (1, 1, "error", 'missing required field "description"')]


def test_agent_max_turns_of_the_wrong_type_is_an_error_at_its_line():
    text = "---\nname: rev\ndescription: Reviews.\nmaxTurns: many\n---\nYou review.\n"
    assert problems_of(diagnose(Path("p/agents/rev.md"), text)) == [
        (4, 1, "error", '"maxTurns" must be an integer, got a string')]


def test_text_over_one_mebibyte_is_one_problem():
    text = "---\nname: x\n---\n" + "a" * (1024 * 1024)
    assert problems_of(diagnose(Path("p/skills/x/SKILL.md"), text)) == [
        (1, 1, "error", f"file is too large ({len(text)} bytes; the limit is 1048576)")]


def test_text_with_a_nul_character_is_binary():
    assert problems_of(diagnose(Path("p/commands/x.md"), "a\x00b")) == [(1, 1, "error", "file is binary, not text")]


def test_byte_order_mark_is_ignored():
    assert diagnose(Path("p/.claude-plugin/plugin.json"), '\ufeff{"name": "p"}') == []


def test_a_file_that_is_not_a_plugin_file_has_no_problems():
    assert diagnose(Path("p/README.md"), "---\nnot: closed\n") == []


def test_an_unexpected_failure_is_a_problem_not_an_exception(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("skillway.authoring.diagnostics.load_agent", broken)
    assert problems_of(diagnose(Path("p/agents/a.md"), "x")) == [
        (1, 1, "error", "skillway could not check this file: RuntimeError: boom")]


def test_every_fixture_file_gets_the_problems_the_validator_gives():
    files = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.suffix in (".json", ".md")]
    compared = 0
    for path in files:
        expected = validate_file(path)
        if expected and expected[0].message.startswith("not a plugin file"):
            continue
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        if "file is not valid UTF-8" in " ".join(p.message for p in expected):
            continue
        assert problems_of(diagnose(path, text)) == problems_of(expected), path
        compared += 1
    assert compared >= 20

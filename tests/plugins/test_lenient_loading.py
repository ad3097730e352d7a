"""What Claude Code loads, skillway loads: rules for publishing are warnings when loading, and
errors only under `plugins validate --strict`. Checked against Claude Code 2.1.328: it loads and
lists every item of each plugin in tests/fixtures/lenient/ (its own `plugin validate` fails only the
reserved plugin name, and a manifest-less folder without skills; it passes hook-fields)."""

from pathlib import Path

from skillway.plugins.loader import load_plugin
from skillway.plugins.model import Source
from skillway.plugins.validate import validate

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "lenient" / "display-label"


def test_a_skill_whose_name_is_a_display_label_loads_named_after_its_folder():
    plugin = load_plugin(FIXTURE, Source.PLUGIN_DIR)
    assert sorted(skill.name for skill in plugin.skills) == ["claude-helper", "my-skill"]


def test_a_command_whose_argument_hint_is_a_yaml_list_loads_with_the_hint_as_written():
    [command] = load_plugin(FIXTURE, Source.PLUGIN_DIR).commands
    assert (command.name, command.argument_hint) == ("greet", "[name, greeting]")


def test_the_rules_for_publishing_are_warnings_marked_as_such():
    plugin = load_plugin(FIXTURE, Source.PLUGIN_DIR)
    assert sorted((p.path.parent.name, p.severity.value, p.publishing, p.message) for p in plugin.problems) == [
        ("claude-helper", "warning", True, '"name" must not contain "anthropic" or "claude"'),
        ("commands", "warning", True,
         '"argument-hint": a YAML list (an unquoted [a, b]) is shown as it was written; quote it to make it one string'),
        ("my-skill", "warning", False, 'the skill is named after its folder, "my-skill": "name" is a label here'),
        ("my-skill", "warning", True, '"name" must use only lowercase letters, digits and hyphens'),
    ]


def test_validate_passes_them_and_strict_validation_fails_them():
    loose, strict = validate([FIXTURE]), validate([FIXTURE]).strict()
    assert (loose.summary(), strict.summary()) == ("1 plugin, 0 errors, 4 warnings", "1 plugin, 3 errors, 1 warning")


def lenient(name: str):
    return load_plugin(FIXTURE.parent / name, Source.PLUGIN_DIR)


def test_a_plugin_folder_without_a_manifest_loads_named_after_the_folder():
    plugin = lenient("no-manifest")
    assert (plugin.name, [c.name for c in plugin.commands], [s.name for s in plugin.skills], plugin.problems) == (
        "no-manifest", ["hello"], ["x"], [])


def test_an_agent_whose_frontmatter_is_not_yaml_loads_from_its_key_value_lines_with_warnings():
    plugin = lenient("broken-agent-yaml")
    [agent] = plugin.agents
    assert (agent.name, agent.description) == ("broken", "Use when: things: go wrong")
    assert [p.severity.value for p in plugin.problems] == ["warning", "warning"]


def test_a_plugin_name_reserved_for_anthropic_loads_and_only_strict_validation_fails_it():
    plugin = lenient("reserved-name")
    assert (plugin.name, [c.name for c in plugin.commands]) == ("claude-tools", ["tidy"])
    assert [(p.severity.value, p.publishing) for p in plugin.problems] == [("warning", True)]
    assert plugin.problems[0].message.startswith('"name" is reserved for Anthropic\'s own plugins in a marketplace')
    assert validate([FIXTURE.parent / "reserved-name"]).strict().summary() == "1 plugin, 1 error, 0 warnings"


def test_hooks_using_every_handler_field_and_type_load_as_written():
    plugin = lenient("hook-fields")
    handlers = {(group.event, handler.type): handler for group in plugin.hooks for handler in group.handlers}
    assert plugin.problems == []
    guard = handlers[("PreToolUse", "command")]
    assert (guard.condition.tool, guard.condition.spec, guard.status_message) == ("Bash", "git commit:*", "Checking the commit")
    http = handlers[("PreToolUse", "http")]
    assert (http.url, http.headers, http.allowed_env_vars, http.timeout) == (
        "http://127.0.0.1:9/hooks/pre", (("Authorization", "Bearer $HOOK_TOKEN"),), ("HOOK_TOKEN",), 5)
    assert (handlers[("PreToolUse", "prompt")].model, handlers[("PostToolUse", "agent")].timeout) == ("claude-haiku-4-5", 60)
    rewake = handlers[("PostToolUse", "command")]
    assert (rewake.run_async, rewake.async_rewake) == (True, True)

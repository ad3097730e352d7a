"""What Claude Code loads, skillway loads: rules for publishing are warnings when loading, and
errors only under `plugins validate --strict` (checked against Claude Code 2.1.328: it loads and
lists every item of tests/fixtures/lenient/display-label)."""

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

"""plugin.json: every field form, and each error and warning at the line of its key."""

import json

import pytest

from skillway.plugins.loader import load_plugin
from skillway.plugins.model import Source


def load(tree, manifest: str, files: dict | None = None, where: str = ".claude-plugin/plugin.json"):
    root = tree({where: manifest, **(files or {})})
    return load_plugin(root, Source.PLUGIN_DIR)


def problems_of(plugin):
    return [(p.line, p.column, p.severity.value, p.message) for p in plugin.problems]


def test_manifest_in_the_manifest_folder_is_found(tree):
    plugin = load(tree, '{"name": "tools"}', where="manifest/plugin.json")
    assert (plugin.name, plugin.loaded, plugin.problems) == ("tools", True, [])


def test_every_documented_field_in_its_correct_form_gives_no_problem(tree):
    manifest = {
        "$schema": "https://example.org/plugin.schema.json",
        "name": "full-plugin", "displayName": "Full", "version": "1.2.3-beta.1", "description": "d",
        "author": {"name": "A", "email": "a@example.org", "url": "https://example.org"},
        "homepage": "https://example.org", "repository": "https://example.org/r.git", "license": "MIT",
        "keywords": ["a", "b"], "metadata": {"x": 1}, "experimental": {"y": True},
        "commands": "./commands", "agents": ["./agents"], "skills": ".",
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]},
        "mcpServers": {"db": {"command": "db-mcp"}}, "lspServers": "./lsp.json", "outputStyles": ["./styles"],
        "userConfig": {"token": {"type": "string"}}, "dependencies": ["other"], "channels": [],
        "defaultEnabled": True,
    }
    plugin = load(tree, json.dumps(manifest, indent=2), {
        "commands/a.md": "A\n", "agents/b.md": "---\nname: b\ndescription: B\n---\nB\n",
        "SKILL.md": "---\nname: full-plugin\ndescription: S\n---\nS\n", "lsp.json": "{}", "styles/s.md": "s",
    })
    assert problems_of(plugin) == []
    assert (len(plugin.commands), len(plugin.agents), len(plugin.skills), plugin.hook_handler_count) == (1, 1, 1, 1)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("keywords", '"lint"', '"keywords" must be an array, got a string'),
        ("version", "2", '"version" must be a string, got an integer'),
        ("author", "[]", '"author" must be an object or a string, got an array'),
        ("commands", "{}", '"commands" must be a string or an array, got an object'),
        ("hooks", "3", '"hooks" must be a string or an array or an object, got an integer'),
        ("defaultEnabled", '"yes"', '"defaultEnabled" must be a boolean, got a string'),
    ],
)
def test_known_field_of_the_wrong_type_fails_the_plugin_at_its_line(tree, field, value, message):
    plugin = load(tree, f'{{\n  "name": "p",\n  "{field}": {value}\n}}', {"commands/x.md": "x"})
    assert problems_of(plugin) == [(3, 3, "error", message)]
    assert plugin.loaded is False
    assert plugin.commands == []


def test_missing_name_is_an_error(tree):
    plugin = load(tree, '{"version": "1.0.0"}')
    assert problems_of(plugin) == [(1, 1, "error", 'missing required field "name"')]


def test_name_with_a_colon_is_an_error(tree):
    plugin = load(tree, '{\n  "name": "a:b"\n}')
    assert problems_of(plugin) == [(2, 3, "error", '"name" must not contain spaces, \':\' or slashes (it namespaces commands as plugin:command)')]


def test_name_not_in_kebab_case_is_a_warning(tree):
    plugin = load(tree, '{\n  "name": "MyPlugin"\n}')
    assert problems_of(plugin) == [(2, 3, "warning", '"name" should be kebab-case: lowercase letters, digits and single hyphens')]
    assert plugin.loaded is True


def test_unknown_top_level_field_is_a_warning_at_its_line(tree):
    plugin = load(tree, '{\n  "name": "p",\n\n  "colour": "blue"\n}')
    assert problems_of(plugin) == [(4, 3, "warning", 'unknown field "colour" is ignored')]
    assert plugin.loaded is True


def test_author_as_a_string_is_a_legacy_form_warning(tree):
    plugin = load(tree, '{\n  "name": "p",\n  "author": "Ann"\n}')
    assert problems_of(plugin) == [(3, 3, "warning", '"author": an author given as a string is a legacy form; use {"name": ...}')]


def test_metadata_of_the_wrong_type_only_warns(tree):
    plugin = load(tree, '{\n  "name": "p",\n  "metadata": "x"\n}')
    assert problems_of(plugin) == [(3, 3, "warning", '"metadata" must be an object, got a string')]
    assert plugin.loaded is True


def test_version_that_is_not_semver_warns(tree):
    plugin = load(tree, '{"name": "p", "version": "latest"}')
    assert problems_of(plugin) == [(1, 15, "warning", '"version" should be a semantic version such as 1.2.0')]


def test_nested_field_error_points_at_the_nested_key(tree):
    plugin = load(tree, '{\n  "name": "p",\n  "author": {\n    "email": 5\n  }\n}')
    assert problems_of(plugin) == [(3, 3, "error", '"author" must be an object or a string, got an object')]


def test_malformed_json_fails_the_plugin_at_the_syntax_error(tree):
    plugin = load(tree, '{\n  "name": "p",\n  "version": "1.0.0",\n}')
    assert problems_of(plugin) == [(4, 1, "error", "invalid JSON: Expecting property name enclosed in double quotes")]
    assert (plugin.name, plugin.loaded) == (plugin.root.name, False)


def test_manifest_that_is_not_an_object_fails_the_plugin(tree):
    plugin = load(tree, "[]")
    assert problems_of(plugin) == [(1, 1, "error", "plugin.json must be a JSON object")]

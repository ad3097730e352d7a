"""Completion of keys and values in plugin files, from their JSON Schemas, on text being typed."""

from pathlib import Path

from skillway.authoring.completion import Candidate, complete
from skillway.plugins.schema import field_docs, load_schema
from tests.authoring.helpers import split

MANIFEST = Path("tools/.claude-plugin/plugin.json")
HOOKS = Path("tools/hooks/hooks.json")
SKILL = Path("tools/skills/fmt/SKILL.md")
COMMAND = Path("tools/commands/ship.md")
AGENT = Path("tools/agents/reviewer.md")

MANIFEST_KEYS = list(field_docs("plugin.schema.json"))
EVENTS = list(load_schema("hooks.schema.json")["$defs"]["hooksObject"]["properties"])


def complete_at(path: Path, marked: str) -> list[Candidate]:
    return complete(path, *split(marked))


def labels(candidates: list[Candidate]) -> list[str]:
    return [c.label for c in candidates]


# -- JSON keys

def test_top_level_manifest_keys_exclude_the_ones_present_before_and_after_the_cursor():
    found = complete_at(MANIFEST, '{\n  "name": "tools",\n  <|>\n  "version": "1.0.0"\n}')
    assert labels(found) == [k for k in MANIFEST_KEYS if k not in ("name", "version")]


def test_a_key_candidate_carries_its_type_and_description():
    found = {c.label: c for c in complete_at(MANIFEST, "{<|>}")}
    assert found["keywords"] == Candidate("keywords", "key", "array", "Words that help people find the plugin.",
                                          '"keywords": ', (1, 1))


def test_a_key_typed_in_quotes_is_completed_with_its_closing_quote_and_colon():
    found = {c.label: c for c in complete_at(MANIFEST, '{\n  "name": "tools",\n  "ver<|>\n}')}
    assert (found["version"].insert_text, found["version"].replace) == ('version": ', (3, 6))


def test_a_key_inside_closed_quotes_before_its_colon_replaces_up_to_the_closing_quote():
    found = {c.label: c for c in complete_at(MANIFEST, '{"na<|>me": "x"}')}
    assert (found["name"].insert_text, found["name"].replace) == ('name"', (2, 7))


def test_keys_are_offered_on_a_new_line_before_the_comma_is_typed():
    assert "version" in labels(complete_at(MANIFEST, '{\n  "name": "tools"\n  <|>\n}'))


def test_keys_of_a_nested_object_come_from_its_schema():
    assert labels(complete_at(MANIFEST, '{"name": "t", "author": {"name": "A", <|>}}')) == ["email", "url"]


def test_hook_event_names_with_their_descriptions_inside_the_event_map():
    found = complete_at(HOOKS, '{\n  "hooks": {\n    <|>\n  }\n}')
    assert labels(found) == EVENTS
    start = next(c for c in found if c.label == "SessionStart")
    assert (start.kind, start.detail) == ("key", "hook event")
    assert start.documentation.startswith("When a session starts (matcher: source `startup`")


def test_hook_event_names_in_a_manifests_inline_hooks_exclude_the_present_ones():
    found = complete_at(MANIFEST, '{"name": "t", "hooks": {"Stop": [], <|>}}')
    assert labels(found) == [e for e in EVENTS if e != "Stop"]


def test_handler_fields_inside_a_handler():
    found = complete_at(HOOKS, '{"hooks": {"Stop": [{"hooks": [{"type": "command", <|>}]}]}}')
    assert labels(found) == ["command", "args", "prompt", "model", "url", "headers", "allowedEnvVars", "server", "tool",
                             "input", "onFailure", "timeout", "async", "asyncRewake", "shell", "statusMessage", "once", "if"]


def test_matcher_group_fields_inside_a_group():
    assert labels(complete_at(HOOKS, '{"hooks": {"PreToolUse": [{<|>}]}}')) == ["matcher", "hooks"]


def test_settings_files_offer_only_hooks_at_the_top_level():
    assert labels(complete_at(Path("project/.claude/settings.json"), '{"permissions": {}, <|>}')) == ["hooks"]


def test_marketplace_entry_keys_come_from_the_plugin_schema():
    found = complete_at(Path("m/.claude-plugin/marketplace.json"), '{"plugins": [{"name": "a", "sou<|>"}]}')
    assert "source" in labels(found)
    assert "name" not in labels(found)


# -- JSON values

def test_handler_type_values_outside_quotes_are_json_strings():
    found = complete_at(HOOKS, '{"hooks": {"Stop": [{"hooks": [{"type": <|>}]}]}}')
    assert [(c.label, c.kind, c.insert_text) for c in found] == [
        ("command", "value", '"command"'), ("prompt", "value", '"prompt"'),
        ("agent", "value", '"agent"'), ("http", "value", '"http"'), ("mcp_tool", "value", '"mcp_tool"')]


def test_handler_type_values_inside_quotes_close_the_string():
    found = complete_at(HOOKS, '{"hooks": {"Stop": [{"hooks": [{"type": "co<|>"}]}]}}')
    assert next((c.label, c.insert_text, c.replace) for c in found) == ("command", 'command"', (41, 44))


def test_session_start_matcher_values_are_its_sources():
    found = complete_at(HOOKS, '{"hooks": {"SessionStart": [{"matcher": "<|>"}]}}')
    assert labels(found) == ["startup", "resume", "clear", "compact"]


def test_tool_event_matcher_values_are_tool_names():
    assert "Bash" in labels(complete_at(HOOKS, '{"hooks": {"PreToolUse": [{"matcher": "<|>"}]}}'))


def test_stop_matcher_has_no_values():
    assert complete_at(HOOKS, '{"hooks": {"Stop": [{"matcher": "<|>"}]}}') == []


def test_shell_values():
    assert labels(complete_at(HOOKS, '{"hooks": {"Stop": [{"hooks": [{"shell": <|>')) == ["bash", "sh"]


def test_boolean_values_are_json_literals():
    found = complete_at(HOOKS, '{"hooks": {"Stop": [{"hooks": [{"async": <|>}]}]}}')
    assert [(c.label, c.insert_text) for c in found] == [("true", "true"), ("false", "false")]


def test_a_field_without_enumerated_values_offers_nothing():
    assert complete_at(MANIFEST, '{"name": <|>}') == []


def test_after_a_value_nothing_is_offered():
    assert complete_at(MANIFEST, '{"name": "x" <|>}') == []


# -- frontmatter

def test_skill_frontmatter_keys_at_the_start_of_a_line_exclude_the_present_ones():
    found = complete_at(SKILL, "---\nname: fmt\n<|>\n---\nBody\n")
    assert labels(found) == [k for k in field_docs("skill-frontmatter.schema.json") if k != "name"]


def test_a_frontmatter_key_candidate_carries_its_description_and_inserts_the_colon():
    found = {c.label: c for c in complete_at(SKILL, "---\ncon<|>\n---\n")}
    assert found["context"] == Candidate("context", "key", "string",
                                         "`fork`: run the skill in a separate sub-agent context.", "context: ", (0, 3))


def test_agent_frontmatter_keys():
    found = complete_at(AGENT, "---\nname: reviewer\ndescription: Reviews.\n<|>\n---\n")
    assert labels(found) == ["tools", "disallowedTools", "model", "skills", "maxTurns", "color", "hooks",
                             "mcpServers", "permissionMode"]


def test_command_frontmatter_keys_while_the_frontmatter_is_not_closed_yet():
    assert labels(complete_at(COMMAND, "---\n<|>")) == list(field_docs("command-frontmatter.schema.json"))


def test_agent_model_values():
    found = complete_at(AGENT, "---\nname: reviewer\nmodel: <|>\n---\n")
    assert [(c.label, c.kind, c.insert_text, c.replace) for c in found] == [
        ("sonnet", "value", "sonnet", (7, 7)), ("opus", "value", "opus", (7, 7)),
        ("haiku", "value", "haiku", (7, 7)), ("inherit", "value", "inherit", (7, 7))]


def test_a_partly_typed_value_is_replaced():
    found = complete_at(AGENT, "---\nmodel: so<|>\n---\n")
    assert (found[0].label, found[0].replace) == ("sonnet", (7, 9))


def test_a_value_right_after_the_colon_gets_its_space():
    assert complete_at(SKILL, "---\ncontext:<|>\n---\n")[0].insert_text == " fork"


def test_flags_offer_true_and_false():
    assert labels(complete_at(COMMAND, "---\ndisable-model-invocation: <|>\n---\n")) == ["true", "false"]


def test_skill_context_offers_fork():
    assert labels(complete_at(SKILL, "---\ncontext: <|>\n---\n")) == ["fork"]


def test_nothing_in_the_body():
    assert complete_at(SKILL, "---\nname: fmt\n---\n<|>\n") == []


def test_nothing_without_frontmatter():
    assert complete_at(COMMAND, "Ship it.\n<|>\n") == []


def test_nothing_in_a_file_that_is_not_a_plugin_file():
    assert complete(Path("tools/README.md"), "---\n\n---\n", 1, 0) == []


def test_a_cursor_past_the_end_of_its_line_is_taken_at_the_line_end():
    assert labels(complete(AGENT, "---\nmodel: \n---\n", 1, 99)) == ["sonnet", "opus", "haiku", "inherit"]


def test_windows_line_ends():
    assert labels(complete_at(AGENT, "---\r\nname: r\r\nmodel: <|>\r\n---\r\n")) == ["sonnet", "opus", "haiku", "inherit"]

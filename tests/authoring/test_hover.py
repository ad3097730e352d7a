"""Hover: the description, type and values of the key under the cursor."""

from pathlib import Path

from skillway.authoring.hover import hover
from tests.authoring.helpers import split

MANIFEST = Path("tools/.claude-plugin/plugin.json")


def hover_at(path: Path, marked: str) -> str | None:
    return hover(path, *split(marked))


def test_hover_on_a_manifest_key():
    assert hover_at(MANIFEST, '{\n  "name": "tools",\n  "ver<|>sion": "1.0.0"\n}') == (
        "**`version`** · string\n\nThe plugin's version, semantic versioning (MAJOR.MINOR.PATCH).")


def test_hover_on_the_opening_quote_of_a_key():
    assert hover_at(MANIFEST, '{<|>"license": "MIT"}') == (
        "**`license`** · string\n\nAn SPDX license identifier such as MIT or Apache-2.0.")


def test_hover_on_a_nested_key_describes_it_in_its_place():
    assert hover_at(MANIFEST, '{"author": {"na<|>me": "Ann"}}') == "**`name`** · string\n\nThe person's or organisation's name."


def test_hover_on_a_value_is_nothing():
    assert hover_at(MANIFEST, '{"name": "to<|>ols"}') is None


def test_hover_on_an_unknown_key_is_nothing():
    assert hover_at(MANIFEST, '{"col<|>our": "blue"}') is None


def test_hover_on_a_hook_event():
    assert hover_at(Path("tools/hooks/hooks.json"), '{"hooks": {"Sto<|>p": []}}') == (
        "**`Stop`** · hook event\n\nWhen the agent is about to stop. Exit 2 or `decision: block` sends it back to work "
        "with the reason (at most 8 times in a row). No matcher.")


def test_hover_on_a_handler_type_lists_its_values():
    text = '{"hooks": {"Stop": [{"hooks": [{"ty<|>pe": "command"}]}]}}'
    assert hover_at(Path("tools/hooks/hooks.json"), text) == (
        "**`type`** · string\n\n`command` runs a program, `http` posts the input to `url`, `prompt` asks the model, "
        "`agent` asks a read-only sub-agent, `mcp_tool` calls an MCP server's tool. Other types are skipped with a "
        "warning.\n\n"
        "Examples: `command`, `prompt`, `agent`, `http`, `mcp_tool`")


def test_hover_on_a_frontmatter_key():
    assert hover_at(Path("tools/agents/rev.md"), "---\nname: rev\nmo<|>del: opus\n---\n") == (
        "**`model`** · string\n\n`sonnet`, `opus`, `haiku`, `inherit` (default) or a model id.\n\n"
        "Examples: `sonnet`, `opus`, `haiku`, `inherit`")


def test_hover_on_a_frontmatter_key_with_an_enum():
    assert hover_at(Path("tools/skills/fmt/SKILL.md"), "---\n<|>context: fork\n---\n") == (
        "**`context`** · string\n\n`fork`: run the skill in a separate sub-agent context.\n\nAllowed values: `fork`")


def test_hover_on_a_frontmatter_flag_lists_true_and_false():
    assert hover_at(Path("tools/commands/ship.md"), "---\ndisable-model-invocation<|>: true\n---\n") == (
        "**`disable-model-invocation`** · boolean\n\n`true`: only the user can run it; the model cannot, and it is "
        "not listed to the model.\n\nAllowed values: `true`, `false`")


def test_hover_on_a_frontmatter_value_is_nothing():
    assert hover_at(Path("tools/agents/rev.md"), "---\nmodel: op<|>us\n---\n") is None


def test_hover_in_the_body_is_nothing():
    assert hover_at(Path("tools/agents/rev.md"), "---\nname: rev\n---\nmo<|>del: opus\n") is None

"""Commands, skills and agents: where they are found, how they are named, what their frontmatter means."""

import os
from pathlib import Path

import pytest

from skillway.plugins.catalog import Catalog
from skillway.plugins.loader import load_plugin
from skillway.plugins.model import Source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(root: Path):
    return load_plugin(root, Source.PLUGIN_DIR)


def problems_of(plugin):
    return [(p.path.name, p.line, p.severity.value, p.message) for p in plugin.problems]


# --- where components are found ---------------------------------------------------------------

def test_declared_commands_replace_the_default_folder_and_take_files_and_folders():
    plugin = load(FIXTURES / "plugins/devtools")
    assert sorted(c.name for c in plugin.commands) == ["commit", "frontend:component", "frontend:review", "publish"]


def test_declared_agents_replace_the_default_folder_and_skip_readme():
    plugin = load(FIXTURES / "plugins/devtools")
    assert [a.name for a in plugin.agents] == ["reviewer"]


def test_declared_skills_add_to_the_default_folder():
    plugin = load(FIXTURES / "plugins/devtools")
    assert sorted(s.name for s in plugin.skills) == ["accessibility", "changelog", "release-notes"]


def test_plugin_without_manifest_is_named_after_its_folder_and_uses_default_folders():
    plugin = load(FIXTURES / "plugins/notes-kit")
    assert (plugin.name, plugin.manifest_path, plugin.problems) == ("notes-kit", None, [])
    assert sorted(c.name for c in plugin.commands) == ["journal:today", "note"]
    assert [s.name for s in plugin.skills] == ["summarise"]
    assert [a.name for a in plugin.agents] == ["archivist"]


def test_root_skill_file_makes_a_single_skill_plugin():
    plugin = load(FIXTURES / "plugins/sql-style")
    assert [(s.name, s.allowed_tools) for s in plugin.skills] == [("sql-style", ("Read", "Edit"))]


def test_skills_path_dot_loads_the_root_skill_file(tree):
    root = tree({
        ".claude-plugin/plugin.json": '{"name": "solo", "skills": ["."]}',
        "SKILL.md": "---\nname: solo\ndescription: One skill\n---\nDo it.\n",
    })
    assert [s.name for s in load(root).skills] == ["solo"]


def test_a_file_listed_twice_loads_once(tree):
    root = tree({
        ".claude-plugin/plugin.json": '{"name": "p", "commands": ["./commands", "./commands/a.md"]}',
        "commands/a.md": "A\n",
    })
    assert [c.name for c in load(root).commands] == ["a"]


def test_two_commands_with_one_name_keep_the_first_and_warn(tree):
    root = tree({
        ".claude-plugin/plugin.json": '{"name": "p", "commands": ["./one", "./two"]}',
        "one/go.md": "First\n",
        "two/go.md": "Second\n",
    })
    plugin = load(root)
    assert [c.path.parent.name for c in plugin.commands] == ["one"]
    assert problems_of(plugin) == [("go.md", 1, "warning", f'"go" is already defined by {root / "one/go.md"}; this one is ignored')]


def test_declared_path_that_does_not_exist_is_an_error_at_its_line(tree):
    root = tree({".claude-plugin/plugin.json": '{\n  "name": "p",\n  "agents": ["./agents", "./missing"]\n}'})
    plugin = load(root)
    assert problems_of(plugin) == [("plugin.json", 3, "error", 'path "./agents" does not exist'),
                                   ("plugin.json", 3, "error", 'path "./missing" does not exist')]


def test_declared_path_without_dot_slash_loads_with_a_warning(tree):
    root = tree({".claude-plugin/plugin.json": '{"name": "p", "commands": "cmds"}', "cmds/a.md": "A\n"})
    plugin = load(root)
    assert [c.name for c in plugin.commands] == ["a"]
    assert problems_of(plugin) == [("plugin.json", 1, "warning", 'path "cmds" should start with "./"')]


# --- paths never leave the plugin root -------------------------------------------------------

@pytest.mark.parametrize("declared", ["../outside", "./commands/../../outside"])
def test_relative_path_leaving_the_root_is_refused(tree, declared):
    root = tree({".claude-plugin/plugin.json": f'{{\n  "name": "p",\n  "commands": "{declared}"\n}}'}, name="plugin")
    (root.parent / "outside").mkdir()
    (root.parent / "outside" / "steal.md").write_text("x")
    plugin = load(root)
    assert plugin.commands == []
    assert problems_of(plugin) == [("plugin.json", 3, "error", f'path "{declared}" leaves the plugin root')]


def test_absolute_path_is_refused(tree, tmp_path):
    (tmp_path / "abs").mkdir()
    root = tree({".claude-plugin/plugin.json": f'{{"name": "p", "skills": "{tmp_path / "abs"}"}}'})
    assert problems_of(load(root)) == [
        ("plugin.json", 1, "error", f'path "{tmp_path / "abs"}" is absolute; plugin paths are relative to the plugin root')]


def test_symlinked_folder_leaving_the_root_is_refused(tree, tmp_path):
    outside = tree({"secret.md": "Print the secrets.\n"}, name="elsewhere")
    root = tree({".claude-plugin/plugin.json": '{\n  "name": "p",\n  "commands": "./linked"\n}'})
    os.symlink(outside, root / "linked")
    plugin = load(root)
    assert plugin.commands == []
    assert problems_of(plugin) == [("plugin.json", 3, "error", 'path "./linked" leaves the plugin root')]


def test_symlinked_file_in_a_default_folder_leaving_the_root_is_refused(tree):
    outside = tree({"secret.md": "Print the secrets.\n"}, name="elsewhere")
    root = tree({"commands/ok.md": "Fine.\n"})
    os.symlink(outside / "secret.md", root / "commands" / "secret.md")
    plugin = load(root)
    assert [c.name for c in plugin.commands] == ["ok"]
    assert problems_of(plugin) == [("secret.md", 1, "error", "file leaves the plugin root through a symlink; it is ignored")]


# --- commands ---------------------------------------------------------------------------------

def test_command_frontmatter_fields():
    plugin = load(FIXTURES / "plugins/devtools")
    commit, component = (next(c for c in plugin.commands if c.name == n) for n in ("commit", "frontend:component"))
    assert (commit.description, commit.argument_hint, commit.allowed_tools) == (
        "Write a commit message for the staged change", "[scope]", ("Bash(git diff:*)", "Bash(git status:*)", "Read"))
    assert (component.allowed_tools, component.disable_model_invocation) == (("Read", "Write"), True)


def test_command_without_frontmatter_describes_itself_with_its_first_line():
    plugin = load(FIXTURES / "plugins/devtools")
    review = next(c for c in plugin.commands if c.name == "frontend:review")
    assert review.description == "Review the frontend change"


def test_command_fan_out_lists_reviewers(tree):
    root = tree({"commands/ship.md": "---\ndescription: Ship\nfan-out: [code-reviewer, security-auditor]\n---\nGo.\n"})
    assert load(root).commands[0].fan_out == ("code-reviewer", "security-auditor")


def test_command_with_a_wrong_frontmatter_type_is_left_out_with_an_error(tree):
    root = tree({"commands/a.md": "---\ndescription: A\nallowed-tools: {Read: yes}\n---\nA\n", "commands/b.md": "B\n"})
    plugin = load(root)
    assert [c.name for c in plugin.commands] == ["b"]
    assert problems_of(plugin) == [("a.md", 3, "error", '"allowed-tools" must be a string or an array, got an object')]


# --- skills -----------------------------------------------------------------------------------

def test_skill_flags_in_their_yes_on_forms():
    plugin = load(FIXTURES / "plugins/devtools")
    skills = {s.name: s for s in plugin.skills}
    assert skills["accessibility"].user_invocable is False
    assert skills["release-notes"].disable_model_invocation is True


def test_skill_body_is_not_read_at_load_and_is_read_on_demand(tree):
    root = tree({"skills/big/SKILL.md": "---\nname: big\ndescription: Big\n---\n"})
    with (root / "skills/big/SKILL.md").open("ab") as stream:
        stream.write(b"Step one.\n\xff\xfe not text\n")  # a read of the body at load would report this
    plugin = load(root)
    assert (plugin.skills[0].name, plugin.problems) == ("big", [])
    with pytest.raises(OSError, match="not valid UTF-8"):
        plugin.skills[0].read_body()


def test_skill_body_reads_the_instructions(tree):
    root = tree({"skills/fmt/SKILL.md": "---\nname: fmt\ndescription: Formats\n---\n# Format\nUse black.\n"})
    assert load(root).skills[0].read_body() == "# Format\nUse black.\n"


@pytest.mark.parametrize(
    "name, message",
    [
        ("my-claude-helper", '"name" must not contain "anthropic" or "claude"'),
        ("anthropic-tools", '"name" must not contain "anthropic" or "claude"'),
        ("x" * 65, '"name" is 65 characters long; the limit is 64'),
    ],
)
def test_a_skill_name_breaking_a_publishing_rule_loads_with_a_warning_at_its_line(tree, name, message):
    # Claude Code loads these: the rules are the Agent Skills spec's and the marketplace's, for publishing.
    root = tree({f"skills/{name}/SKILL.md": f"---\ndescription: D\nname: {name}\n---\nBody\n"})
    plugin = load(root)
    assert [skill.name for skill in plugin.skills] == [name]
    assert problems_of(plugin) == [("SKILL.md", 3, "warning", message)]
    assert [p.publishing for p in plugin.problems] == [True]


def test_a_skill_is_named_after_its_folder_and_answers_to_its_frontmatter_name_too(tree):
    # As in Claude Code 2.1.328: listed as "tp:plain (tp:fancy)", and /tp:fancy and /fancy run it.
    root = tree({".claude-plugin/plugin.json": '{"name": "tp"}',
                 "skills/plain/SKILL.md": "---\ndescription: D\nname: fancy\n---\nBody\n"})
    plugin = load(root)
    assert [(skill.name, skill.alias) for skill in plugin.skills] == [("plain", "fancy")]
    catalog = Catalog([plugin])
    assert [catalog.resolve_command(name).qualified for name in ("tp:plain", "tp:fancy", "fancy")] == ["tp:plain"] * 3


def test_a_skill_name_that_is_a_label_names_the_skill_after_its_folder(tree):
    root = tree({"skills/code-review/SKILL.md": "---\ndescription: D\nname: Code Review\n---\nBody\n"})
    plugin = load(root)
    assert [skill.name for skill in plugin.skills] == ["code-review"]
    assert problems_of(plugin) == [
        ("SKILL.md", 3, "warning", '"name" must use only lowercase letters, digits and hyphens'),
        ("SKILL.md", 3, "warning", 'the skill is named after its folder, "code-review": "name" is a label here')]


def test_a_skill_folder_name_breaking_the_rules_is_warned_and_still_names_the_skill(tree):
    root = tree({"skills/Bad Name/SKILL.md": "---\ndescription: D\n---\nBody\n"})
    plugin = load(root)
    assert [skill.name for skill in plugin.skills] == ["Bad Name"]
    assert problems_of(plugin) == [
        ("SKILL.md", 1, "warning", 'the folder name "Bad Name" must use only lowercase letters, digits and hyphens')]


def test_skill_description_over_1024_characters_is_a_warning(tree):
    root = tree({"skills/long/SKILL.md": f"---\nname: long\n\ndescription: {'d' * 1025}\n---\nBody\n"})
    plugin = load(root)
    assert [s.name for s in plugin.skills] == ["long"]
    assert problems_of(plugin) == [("SKILL.md", 4, "warning", '"description" is 1025 characters long; the limit is 1024')]


def test_skill_description_with_xml_tags_is_a_warning(tree):
    root = tree({"skills/x/SKILL.md": "---\nname: x\ndescription: Use <b>now</b>\n---\nBody\n"})
    assert problems_of(load(root)) == [("SKILL.md", 3, "warning", '"description" must not contain XML tags')]


def test_skill_without_description_falls_back_to_its_first_line_with_a_warning(tree):
    root = tree({"skills/x/SKILL.md": "---\nname: x\n---\n\n# Tidy imports\nSort them.\n"})
    plugin = load(root)
    assert plugin.skills[0].description == "Tidy imports"
    assert problems_of(plugin) == [("SKILL.md", 1, "warning", 'missing "description": the model cannot tell when to use this skill')]


def test_unknown_skill_frontmatter_key_is_a_warning_at_its_line(tree):
    root = tree({"skills/x/SKILL.md": "---\nname: x\ndescription: X\ntags: [a]\n---\nBody\n"})
    assert problems_of(load(root)) == [("SKILL.md", 4, "warning", 'unknown field "tags" is ignored')]


# --- agents -----------------------------------------------------------------------------------

def test_agent_fields():
    agent = load(FIXTURES / "plugins/devtools").agents[0]
    assert (agent.name, agent.description, agent.tools, agent.model) == (
        "reviewer", "Reviews frontend changes", ("Read", "Grep", "Glob"), "sonnet")
    assert agent.body == "You review frontend code. Report findings with file and line."


def test_agent_without_tools_may_use_every_tool(tree):
    root = tree({"agents/a.md": "---\nname: a\ndescription: A\n---\nBody\n"})
    assert (load(root).agents[0].tools, load(root).agents[0].model) == (None, "inherit")


@pytest.mark.parametrize("missing, present", [("name", "description: D"), ("description", "name: a")])
def test_agent_missing_a_required_field_is_an_error(tree, missing, present):
    root = tree({"agents/a.md": f"---\n{present}\n---\nBody\n"})
    plugin = load(root)
    assert plugin.agents == []
    assert problems_of(plugin) == [("a.md", 1, "error", f'missing required field "{missing}"')]


def test_agent_whose_frontmatter_does_not_parse_loads_under_its_file_name(tree):
    root = tree({"agents/helper.md": "---\nname: [unclosed\ndescription: Helps: a lot\n---\nBody\n"})
    plugin = load(root)
    assert [(a.name, a.description) for a in plugin.agents] == [("helper", "Helps: a lot")]
    assert [(p.severity.value, p.message) for p in plugin.problems][-1] == (
        "warning", 'agent frontmatter could not be read; loaded as "helper"')


def test_agent_whose_frontmatter_is_not_even_key_value_lines_still_loads_under_its_file_name(tree):
    root = tree({"agents/helper.md": "---\nname: x\n- item\n---\nHelps with things.\n"})
    plugin = load(root)
    assert [(a.name, a.description) for a in plugin.agents] == [("helper", "Helps with things.")]
    assert {p.severity.value for p in plugin.problems} == {"warning"}


def test_command_with_unreadable_frontmatter_is_left_out_with_an_error(tree):
    root = tree({"commands/a.md": "---\ndescription: x\n- item\n---\nA\n"})
    plugin = load(root)
    assert plugin.commands == []
    assert problems_of(plugin) == [("a.md", 3, "error", "frontmatter is not valid YAML: did not find expected key")]


def test_agent_name_with_a_colon_is_an_error(tree):
    root = tree({"agents/a.md": "---\nname: tools:a\ndescription: A\n---\nBody\n"})
    assert problems_of(load(root)) == [("a.md", 2, "error", '"name" must use only lowercase letters, digits and hyphens')]


# --- bad files beside good ones ----------------------------------------------------------------

@pytest.mark.parametrize(
    "content, message",
    [
        (b"---\nname: x\n---\n\xff\n", "file is not valid UTF-8 (byte 16)"),
        (b"\x00\x01\x02", "file is binary, not text"),
    ],
)
def test_unreadable_command_file_is_a_problem_and_the_rest_loads(tree, content, message):
    root = tree({"commands/bad.md": content, "commands/good.md": "Good.\n"})
    plugin = load(root)
    assert [c.name for c in plugin.commands] == ["good"]
    assert [p.message for p in plugin.problems] == [message]

"""A handler's `if`: a permission rule naming the tool calls it starts for (Claude Code 2.1.85 and
later). A call it does not name starts no process at all."""

from __future__ import annotations

import pytest

from tests.hooks.hookkit import command, fire, group, make_plugin, open_session, sh

PRE = "PreToolUse"


async def fire_bash(tmp_path, condition: str, line: str):
    """A PreToolUse hook on Bash with `if: condition` that blocks, fired for the command `line`."""
    block = sh(tmp_path / "block.sh", 'echo "commits wait for review" >&2\nexit 2')
    plugin = make_plugin(tmp_path / "plugins" / "p", "p",
                         {PRE: [group(command(block, **{"if": condition}), matcher="Bash")]})
    session = open_session(tmp_path / "ws", plugin)
    return await fire(session, PRE, {"tool_name": "Bash", "tool_input": {"command": line}}, "Bash")


async def test_a_hook_whose_if_names_the_command_runs_for_it(tmp_path):
    outcome = await fire_bash(tmp_path, "Bash(git commit:*)", "git commit -m x")
    assert (outcome.blocked, outcome.reasons, len(outcome.handlers)) == (True, ["commits wait for review"], 1)


async def test_a_hook_whose_if_does_not_name_the_command_starts_no_process(tmp_path):
    outcome = await fire_bash(tmp_path, "Bash(git commit:*)", "ls")
    assert (outcome.blocked, outcome.handlers) == (False, [])


@pytest.mark.parametrize("line", ["ls && git commit -m x", "GIT_AUTHOR_NAME=me git commit -m x", "make; git commit"])
async def test_one_command_of_a_shell_line_is_enough(tmp_path, line):
    assert (await fire_bash(tmp_path, "Bash(git commit:*)", line)).blocked is True


@pytest.mark.parametrize(("condition", "line", "runs"), [
    ("Bash(git *)", "git push origin main", True),
    ("Bash(git *)", "gitk", False),
    ("Bash", "ls", True),
    ("Edit(src/**)", "ls", False),
])
async def test_the_rule_forms_of_permissions_work_in_if(tmp_path, condition, line, runs):
    assert (await fire_bash(tmp_path, condition, line)).blocked is runs


async def test_an_if_on_an_event_without_a_tool_call_never_runs(tmp_path):
    block = sh(tmp_path / "block.sh", "exit 2")
    plugin = make_plugin(tmp_path / "plugins" / "p", "p",
                         {"UserPromptSubmit": [group(command(block, **{"if": "Bash(git commit:*)"}))]})
    outcome = await fire(open_session(tmp_path / "ws", plugin), "UserPromptSubmit")
    assert (outcome.blocked, outcome.handlers) == (False, [])


def test_an_if_that_is_not_a_permission_rule_skips_the_hook_with_a_warning(tmp_path):
    plugin = make_plugin(tmp_path / "plugins" / "p", "p",
                         {PRE: [group(command("true", **{"if": "tool_input.command matches 'git'"}))]})
    session = open_session(tmp_path / "ws", plugin)
    assert session.registry.hooks == []
    assert [p.message for p in session.plugins.all_problems()] == [
        '"if" must be a permission rule such as "Bash(git commit:*)", got "tool_input.command matches \'git\'"; '
        "this hook is skipped"]

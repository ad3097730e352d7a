"""Every substitution rule of a command body, each with its edge case."""

import pytest

from skillway.plugins.render import RenderContext, RenderError, render, split_arguments, substitute_arguments
from tests.conftest import write_tree


def test_arguments_whole():
    assert substitute_arguments("Review $ARGUMENTS now", "src/a.py --deep") == "Review src/a.py --deep now"


def test_a_body_without_arguments_gets_them_appended():
    assert substitute_arguments("Review the change.", "src/a.py") == "Review the change.\n\nARGUMENTS: src/a.py"


def test_no_arguments_appends_nothing():
    assert substitute_arguments("Review the change.\n", "") == "Review the change.\n"


def test_positional_arguments_are_zero_based_and_split_like_a_shell():
    body = "first=$0 second=$ARGUMENTS[1] third=$2"
    assert substitute_arguments(body, 'one "two words" three') == "first=one second=two words third=three"


def test_an_unmatched_position_stays_as_written():
    assert substitute_arguments("a=$0 b=$5 c=$ARGUMENTS[9]", "x").startswith("a=x b=$5 c=$ARGUMENTS[9]")


def test_an_escaped_dollar_is_literal():
    assert substitute_arguments(r"cost \$1 for $0", "apples").startswith("cost $1 for apples")


def test_legacy_one_based_arguments():
    assert substitute_arguments("first=$1 $ARGUMENTS", "a b", base=1) == "first=a a b"


def test_unbalanced_quotes_split_on_blanks():
    assert split_arguments('it\'s "broken') == ["it's", '"broken']


async def test_claude_placeholders(tmp_path):
    context = RenderContext(tmp_path, "", placeholders={"CLAUDE_PLUGIN_ROOT": "/plugins/kit"})
    assert await render("Run ${CLAUDE_PLUGIN_ROOT}/x and ${CLAUDE_UNKNOWN}", context) == "Run /plugins/kit/x and ${CLAUDE_UNKNOWN}"


async def test_inline_and_block_shell_commands_run_once_before_sending(tmp_path):
    context = RenderContext(tmp_path, "", allowed_tools=("Bash(echo:*)",), trusted=True)
    body = "Status: !`echo clean`\n```!\necho block output\n```\nnot a command: a!`echo no`"
    assert await render(body, context) == "Status: clean\nblock output\nnot a command: a!`echo no`"


async def test_shell_output_is_not_searched_again(tmp_path):
    (tmp_path / "out.txt").write_text(" !`touch marker`")
    context = RenderContext(tmp_path, "", allowed_tools=("Bash",), trusted=True)
    assert await render("!`cat out.txt`", context) == " !`touch marker`"
    assert not (tmp_path / "marker").exists()


async def test_shell_commands_are_refused_in_an_untrusted_workspace(tmp_path):
    context = RenderContext(tmp_path, "", allowed_tools=("Bash",), trusted=False)
    with pytest.raises(RenderError, match="workspace is not trusted"):
        await render("!`touch marker`", context)
    assert not (tmp_path / "marker").exists()


async def test_shell_commands_need_allowed_tools(tmp_path):
    context = RenderContext(tmp_path, "", allowed_tools=("Bash(git diff:*)",), trusted=True)
    with pytest.raises(RenderError, match="not permitted by allowed-tools: rm -rf x"):
        await render("!`rm -rf x`", context)


async def test_a_failing_shell_command_stops_the_command_with_its_output(tmp_path):
    context = RenderContext(tmp_path, "", allowed_tools=("Bash",), trusted=True)
    with pytest.raises(RenderError) as caught:
        await render("!`echo oops >&2; exit 3`", context)
    assert str(caught.value) == "shell command failed (exit 3): echo oops >&2; exit 3\noops"


async def test_file_references_inline_workspace_files_only(tmp_path):
    workspace = write_tree(tmp_path / "ws", {"src/a.py": "x = 1\n", ".env": "KEY=secret\n"})
    (tmp_path / "outside.txt").write_text("private")
    context = RenderContext(workspace, "")
    text = await render("Look at @src/a.py, @.env, @../outside.txt and @missing.py", context)
    assert '<file path="src/a.py">\nx = 1\n\n</file>' in text
    assert "@.env" in text and "KEY=secret" not in text
    assert "@../outside.txt" in text and "private" not in text
    assert "@missing.py" in text


async def test_arguments_are_substituted_before_shell_commands_run(tmp_path):
    context = RenderContext(tmp_path, "hello", allowed_tools=("Bash(echo:*)",), trusted=True)
    assert await render("!`echo $0`", context) == "hello"  # an argument was placed: nothing appended


@pytest.mark.parametrize(("arguments", "expected"), [
    ("42 main", "Fix 42 on main. All: 42 main"),
    ("42", "Fix 42 on . All: 42"),  # a named argument that was not given is empty
    ('"a b" c', 'Fix a b on c. All: "a b" c'),
])
def test_named_arguments_are_filled_in_order(arguments, expected):
    assert substitute_arguments("Fix $issue on $branch. All: $ARGUMENTS", arguments, names=("issue", "branch")) == expected


def test_a_named_argument_is_a_whole_word_and_nothing_is_appended_once_one_is_placed():
    assert substitute_arguments("$issue-x and $issues", "42", names=("issue",)) == "42-x and $issues"


def test_a_body_with_no_placeholder_gets_the_arguments_appended():
    assert substitute_arguments("No placeholders here.\n", "42 main", names=("issue",)) == (
        "No placeholders here.\n\nARGUMENTS: 42 main")

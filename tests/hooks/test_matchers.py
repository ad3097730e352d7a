"""Matchers read the way Claude Code reads them."""

import pytest

from skillway.core.matchers import compile_matcher


@pytest.mark.parametrize("source", [None, "", "*", "  "])
def test_empty_star_or_absent_matches_everything(source):
    assert compile_matcher(source).matches("AnyTool") and compile_matcher(source).matches(None)


@pytest.mark.parametrize("source", ["Write|Edit", "Write,Edit", "Write, Edit", "Write | Edit"])
def test_name_lists_match_exact_names_only(source):
    matcher = compile_matcher(source)
    assert [matcher.matches(v) for v in ("Write", "Edit", "NotebookEdit", "Writer")] == [True, True, False, False]


def test_other_text_is_an_unanchored_regular_expression():
    matcher = compile_matcher("Edit.*")
    assert [matcher.matches(v) for v in ("Edit", "NotebookEdit", "Write")] == [True, True, False]


def test_mcp_style_regex_matches_tool_families():
    matcher = compile_matcher("mcp__github__.*")
    assert matcher.matches("mcp__github__create_issue") and not matcher.matches("mcp__gitlab__x")


def test_a_matcher_never_matches_a_missing_value_unless_it_matches_everything():
    assert compile_matcher("Bash").matches(None) is False


def test_invalid_regular_expression_raises_with_the_reason():
    with pytest.raises(ValueError, match=r"matcher 'Edit\(' is not a valid regular expression: missing \), unterminated subpattern"):
        compile_matcher("Edit(")

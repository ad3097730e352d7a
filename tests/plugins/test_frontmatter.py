"""Frontmatter in every form plugins write it."""

from pathlib import Path

import pytest

from skillway.plugins import frontmatter
from skillway.plugins.frontmatter import as_flag, as_list

PATH = Path("x.md")


def test_keys_carry_their_file_line():
    parsed, problems = frontmatter.parse(PATH, "---\nname: a\n\ndescription: b\n---\nBody\n")
    assert problems == []
    assert parsed.values == {"name": "a", "description": "b"}
    assert parsed.key_lines == {"name": 2, "description": 4}
    assert (parsed.body, parsed.body_line) == ("Body\n", 6)


def test_file_without_frontmatter_is_all_body():
    parsed, problems = frontmatter.parse(PATH, "# Title\ntext\n")
    assert (parsed.present, parsed.values, parsed.body, problems) == (False, {}, "# Title\ntext\n", [])


def test_unclosed_frontmatter_is_an_error():
    _, problems = frontmatter.parse(PATH, "---\nname: a\nbody\n")
    assert [(p.line, p.message) for p in problems] == [(1, "frontmatter is not closed with a '---' line")]


def test_invalid_yaml_is_read_as_plain_lines_with_a_warning():
    text = "---\nname: fmt\ndescription: Use when: the code is messy\nmodel: haiku\n---\nbody"
    parsed, problems = frontmatter.parse(PATH, text)
    assert parsed.values == {"name": "fmt", "description": "Use when: the code is messy", "model": "haiku"}
    assert [(p.line, p.severity.value) for p in problems] == [(3, "warning")]
    assert "not valid YAML" in problems[0].message


def test_yaml_that_cannot_be_read_even_as_plain_lines_is_an_error():
    parsed, problems = frontmatter.parse(PATH, "---\nname: x\n- item\n---\nbody")
    assert parsed.values == {}
    assert [(p.line, p.severity.value, p.message) for p in problems] == [
        (3, "error", "frontmatter is not valid YAML: did not find expected key")]


def test_frontmatter_that_is_not_a_mapping_is_an_error():
    _, problems = frontmatter.parse(PATH, "---\n- a\n- b\n---\n")
    assert [p.message for p in problems] == ["frontmatter must be a mapping of keys to values, got list"]


@pytest.mark.parametrize(
    "value, expected",
    [(True, True), (False, False), ("yes", True), ("no", False), ("on", True), ("off", False),
     (1, True), (0, False), ("1", True), ("0", False), ("TRUE", True), (None, None)],
)
def test_flags_in_every_spelling(value, expected):
    assert as_flag(value, None) is expected if expected is None else as_flag(value, not expected) is expected


def test_yaml_yes_on_and_numbers_reach_as_flag_as_yaml_reads_them():
    parsed, _ = frontmatter.parse(PATH, "---\na: yes\nb: off\nc: 1\nd: 'no'\n---\n")
    assert [as_flag(parsed.values[k], None) for k in "abcd"] == [True, False, True, False]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Read, Grep, Glob", ("Read", "Grep", "Glob")),
        ("Read Grep", ("Read", "Grep")),
        ("Bash(git diff:*) Bash(git status:*), Read", ("Bash(git diff:*)", "Bash(git status:*)", "Read")),
        (["Read", " Bash(npm run test:*) "], ("Read", "Bash(npm run test:*)")),
        ("", ()),
        (None, ()),
    ],
)
def test_tool_lists_as_strings_or_yaml_lists(value, expected):
    assert as_list(value) == expected

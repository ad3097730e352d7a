"""The model's answer becomes exactly the text to insert."""

import pytest

from skillway.completion.postprocess import clean


@pytest.mark.parametrize("raw, prefix, suffix, expected", [
    ("return a + b", "def f(a, b):\n    ", "\n", "return a + b"),
    ("```python\nreturn a + b\n```", "def f(a, b):\n    ", "\n", "return a + b"),
    ("```\nx = 1\n```\n", "", "", "x = 1"),
    ("    return a + b", "def f(a, b):\n    ret", "", "urn a + b"),  # repeats the start of the line
    ("a + b)\nprint(x)", "print(", ")\nprint(x)", "a + b"),  # writes what follows the cursor
    ("x\n\n\n", "", "", "x"),
])
def test_cleanup(raw, prefix, suffix, expected):
    assert clean(raw, prefix, suffix) == expected


def test_lines_and_characters_are_capped():
    raw = "\n".join(f"line {i}" for i in range(50))
    assert clean(raw, "", "", max_lines=3) == "line 0\nline 1\nline 2"
    assert clean("x" * 100, "", "", max_chars=10) == "x" * 10


def test_suffix_overlap_counts_from_three_characters_or_the_whole_rest_of_the_line():
    assert clean("value)", "f(", ")") == "value"  # ")" is exactly the rest of the line: dropped
    assert clean("ab", "", "b c d") == "ab"  # one character of overlap with a longer line is chance

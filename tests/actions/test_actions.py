"""Which code actions are offered, and how an answer becomes an edit."""

from skillway.actions.catalog import available
from skillway.actions.run import replacement_from


def test_a_selection_offers_the_built_ins_and_one_action_per_skill():
    specs = available(has_selection=True, diagnostics=[], skills=[("kit:tidy", "Tidies"), ("review", "Reviews")])
    assert [s.id for s in specs] == ["explain", "refactor", "document", "tests", "skill:kit:tidy", "skill:review"]
    assert [s.title for s in specs][-1] == "skillway: Apply skill: review"


def test_a_diagnostic_offers_a_fix_even_without_a_selection():
    specs = available(has_selection=False, diagnostics=["undefined name 'x'\nmore detail"], skills=[("review", "")])
    assert [(s.id, s.title, s.kind) for s in specs] == [("fix:0", "skillway: Fix: undefined name 'x'", "quickfix")]


def test_nothing_without_a_selection_or_diagnostic():
    assert available(has_selection=False, diagnostics=[], skills=[("review", "")]) == []


def test_the_first_fenced_block_is_the_replacement():
    answer = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\nThen more text.\n```\nignored\n```"
    assert replacement_from(answer) == "def add(a, b):\n    return a + b"


def test_an_answer_without_fences_is_used_whole():
    assert replacement_from("\nx = 1\n") == "x = 1"

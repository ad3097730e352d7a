"""Every key and array element of a JSON document gets its line and column."""

import json

from hypothesis import given
from hypothesis import strategies as st

from skillway.core.located_json import parse


def test_positions_of_nested_keys_and_elements():
    located = parse('{\n  "a": [1, {"b": true}],\n\t"c": "x\\"y"\n}')
    assert located.positions == {
        (): (1, 1),
        ("a",): (2, 3),
        ("a", 0): (2, 9),
        ("a", 1): (2, 12),
        ("a", 1, "b"): (2, 13),
        ("c",): (3, 2),
    }


def test_position_of_a_missing_pointer_falls_back_to_its_nearest_ancestor():
    located = parse('{\n  "hooks": {\n    "Stop": []\n  }\n}')
    assert located.position(("hooks", "Stop", 3, "matcher")) == (3, 5)


def test_syntax_error_carries_line_and_column():
    try:
        parse('{\n  "name": "x"\n  "version": "1"\n}')
    except ValueError as exc:
        assert (exc.line, exc.column, exc.message) == (3, 3, "invalid JSON: Expecting ',' delimiter")
    else:  # pragma: no cover
        raise AssertionError("no error raised")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values, st.sampled_from([None, 0, 2, "\t"]))
def test_any_document_parses_to_the_same_value_as_the_json_module(value, indent):
    text = json.dumps(value, indent=indent)
    assert parse(text).value == json.loads(text)

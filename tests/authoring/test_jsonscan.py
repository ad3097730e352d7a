"""The forgiving scan of JSON being typed: the pointer, the position kind and the keys around the cursor."""

from skillway.authoring.jsonscan import scan
from tests.authoring.helpers import CURSOR


def at(marked: str):
    offset = marked.index(CURSOR)
    return scan(marked.replace(CURSOR, "", 1), offset)


def test_pointer_of_a_handler_deep_in_a_hooks_file():
    cursor = at('{"hooks": {"Stop": [{"matcher": "", "hooks": [{}, {"type": "command", <|>}]}]}}')
    assert (cursor.where, cursor.pointer, cursor.siblings) == ("key", ("hooks", "Stop", 0, "hooks", 1), ["type"])


def test_value_position_names_its_key():
    cursor = at('{"hooks": {"Stop": [{"hooks": [{"type": "com<|>"}]}]}}')
    assert (cursor.where, cursor.value_pointer, cursor.typed, cursor.token, cursor.quoted) == (
        "value", ("hooks", "Stop", 0, "hooks", 0, "type"), "com", "com", True)


def test_array_item_position_names_its_index():
    cursor = at('{"keywords": ["a", "b", <|>]}')
    assert (cursor.where, cursor.value_pointer) == ("value", ("keywords", 2))


def test_an_unclosed_string_ends_at_its_line_so_later_keys_still_count():
    cursor = at('{\n  "na<|>\n  "version": "1",\n  "author": {"name": "x"}\n}')
    assert (cursor.where, cursor.typed, cursor.siblings) == ("key", "na", ["version", "author"])


def test_keys_of_nested_objects_are_not_siblings():
    cursor = at('{"author": {"name": "x"}, <|>, "license": "MIT"}')
    assert cursor.siblings == ["author", "license"]


def test_the_key_under_the_cursor_is_not_its_own_sibling():
    cursor = at('{"name": "a", "lic<|>ense": "MIT"}')
    assert (cursor.token, cursor.siblings, cursor.start, cursor.end) == ("license", ["name"], 15, 23)


def test_a_missing_comma_before_a_new_line_still_expects_a_key():
    assert at('{"name": "a"\n  <|>}').where == "key"


def test_after_a_value_on_the_same_line_nothing_is_expected():
    assert at('{"name": "a" <|>}').where is None


def test_between_a_key_and_its_colon_nothing_is_expected():
    assert at('{"name"<|>: 1}').where is None


def test_escaped_key_is_decoded():
    assert at('{"a\\"b": 1, "c<|>"}').siblings == ['a"b']


def test_containers_nested_too_deep_put_the_cursor_nowhere():
    assert at("[" * 500 + "<|>").where is None

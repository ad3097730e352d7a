"""A forgiving scan of JSON text that the user is still typing: where the cursor is.

It never needs the text to be valid. It follows brackets, keys, colons and commas up to the cursor
to tell the JSON pointer of the container around it, whether a key or a value is expected there and
what has been typed of it; then it reads on to the end of that container for the keys it already has.
Strings end at their closing quote or at the end of their line, so one unclosed string does not
swallow the rest of the document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

from skillway.core.located_json import Pointer

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"((?:[^"\\\r\n]|\\[^\r\n]?)*)("?)')
_WORD = re.compile(r'[^ \t\r\n,:{}\[\]"]+')  # JSON whitespace only: \x85 is text
_NEWLINE = re.compile(r"[\r\n]")
MAX_DEPTH = 128  # containers nested deeper than this: the cursor is nowhere


@dataclass
class _Frame:
    kind: str  # "{", "[" or "" (the top level)
    pointer: Pointer
    state: str  # object: key, colon, value, after; array and top level: value, after
    key: str | None = None
    index: int = 0
    keys: list[str] = field(default_factory=list)
    closed: bool = False

    def member(self) -> str | int | None:
        if self.kind == "{":
            return self.key
        if self.kind == "[":
            return self.index
        return None


@dataclass
class JsonCursor:
    """Where the cursor stands.

    `where` is "key" (a key may be typed here), "value" (a value may be typed here) or None.
    `pointer` is the JSON pointer of the object or array around the cursor; for a value, `member`
    is its key or array index (None at the top level). `start`..`end` (offsets) is the text that a
    completion replaces: what is typed of the key or value, with its closing quote if it has one;
    `quoted` tells that the cursor is inside a string. `siblings` are the other keys of the object.
    """

    where: Literal["key", "value"] | None
    pointer: Pointer
    container: Literal["object", "array", "top"]
    member: str | int | None
    quoted: bool
    start: int
    end: int
    typed: str  # the key or value text before the cursor
    token: str | None  # the whole key or value under the cursor, when the cursor is inside one
    siblings: list[str]

    @property
    def value_pointer(self) -> Pointer | None:
        return None if self.member is None else self.pointer + (self.member,)


def _decode(content: str) -> str:
    if "\\" not in content:
        return content
    try:
        return json.loads(f'"{content}"')
    except ValueError:
        return content


def scan(text: str, offset: int) -> JsonCursor:
    """Where `offset` stands in `text`, read leniently."""
    stack = [_Frame("", (), "value")]
    cursor: JsonCursor | None = None
    cursor_frame: _Frame | None = None
    current_key: str | None = None  # the key the cursor is in: not a sibling of itself
    last_end = 0
    index, size = 0, len(text)

    def between(frame: _Frame) -> JsonCursor:
        state = frame.state
        if frame.kind == "{" and state == "after" and _NEWLINE.search(text, last_end, offset):
            state = "key"  # a new line after a member: the next key, its comma not typed yet
        where: Literal["key", "value"] | None = "key" if state == "key" else "value" if state == "value" else None
        return JsonCursor(where, frame.pointer, _container(frame), frame.member() if where == "value" else None,
                          False, offset, offset, "", None, frame.keys)

    while True:
        index = _skip(text, index)
        frame = stack[-1]
        if cursor is None and offset <= index:
            cursor, cursor_frame = between(frame), frame
        if cursor is not None and (cursor_frame is None or cursor_frame.kind != "{" or cursor_frame.closed):
            break  # the keys of the cursor's object are all read (only an object's keys matter)
        if index >= size:
            break
        char = text[index]
        if char in "{[":
            member = frame.member()
            pointer = frame.pointer + ((member,) if frame.kind and member is not None else ())
            if frame.kind == "{" and frame.state != "value":
                pointer = frame.pointer + ("",)  # an object where a key belongs: garbage, kept apart
            frame.state = "after"
            if len(stack) > MAX_DEPTH:
                return _nowhere(offset)  # no schema goes this deep; and pointers would grow quadratically
            stack.append(_Frame(char, pointer, "key" if char == "{" else "value"))
            index += 1
        elif char in "}]":
            if len(stack) > 1:
                stack.pop().closed = True
            index += 1
        elif char == ":":
            if frame.kind == "{":
                frame.state = "value"
            index += 1
        elif char == ",":
            if frame.kind == "{":
                frame.state, frame.key = "key", None
            elif frame.kind == "[":
                frame.index += 1
                frame.state = "value"
            index += 1
        else:
            quoted = char == '"'
            match = (_STRING if quoted else _WORD).match(text, index)
            assert match is not None  # a string from its quote; a word from any other character left here
            content_start = index + 1 if quoted else index
            content_end = match.end(1) if quoted else match.end()
            closed = quoted and bool(match.group(2))
            is_key = frame.kind == "{" and frame.state in ("key", "colon", "after")
            raw = text[content_start:content_end] if is_key or cursor is None else ""
            # Inside a string from just after its opening quote; inside a bare word from its second character.
            if cursor is None and (content_start <= offset if quoted else content_start < offset) and offset <= content_end:
                value = _decode(raw) if quoted else raw
                where: Literal["key", "value"] | None = "key" if is_key else ("value" if frame.state == "value" else None)
                if frame.kind == "[" and frame.state == "after":
                    where = None
                typed = text[content_start:offset]
                cursor = JsonCursor(
                    where, frame.pointer, _container(frame),
                    frame.member() if where == "value" else None, quoted, content_start,
                    content_end + (1 if closed else 0), _decode(typed) if quoted else typed, value, frame.keys)
                cursor_frame = frame
                if is_key:
                    current_key = value
            if is_key:
                frame.key = _decode(raw) if quoted else raw
                if quoted:
                    frame.keys.append(frame.key)
                frame.state = "colon"
            elif frame.kind == "[" and frame.state == "after":
                frame.index += 1  # a missing comma
            else:
                frame.state = "after"
            index = match.end()
        last_end = index
    assert cursor is not None
    siblings = list(cursor.siblings)
    if current_key is not None and current_key in siblings:
        siblings.remove(current_key)
    cursor.siblings = siblings
    return cursor


def _nowhere(offset: int) -> JsonCursor:
    return JsonCursor(None, (), "top", None, False, offset, offset, "", None, [])


def _container(frame: _Frame) -> Literal["object", "array", "top"]:
    return "object" if frame.kind == "{" else "array" if frame.kind == "[" else "top"


def next_char(text: str, index: int) -> str:
    """The first character at or after `index` that is not whitespace ("" at the end)."""
    index = _skip(text, index)
    return text[index] if index < len(text) else ""


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    assert match is not None  # `*` matches the empty string
    return match.end()

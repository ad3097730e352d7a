"""JSON with the line and column of every key and array element, for problems at the exact place.

The standard `json` module decides validity and reports syntax errors; this second, small pass over
text already known to be valid only records where each value starts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # typeshed leaves it out; the stdlib exports it

Pointer = tuple[str | int, ...]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


@dataclass
class LocatedJson:
    value: object
    # pointer -> (line, column), 1-based: for an object member, where its key starts.
    positions: dict[Pointer, tuple[int, int]] = field(default_factory=dict)

    def position(self, pointer: Pointer) -> tuple[int, int]:
        """The place of `pointer`, or of its nearest ancestor that has one."""
        while pointer:
            if pointer in self.positions:
                return self.positions[pointer]
            pointer = pointer[:-1]
        return self.positions.get((), (1, 1))


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def parse(text: str) -> LocatedJson:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    located = LocatedJson(value)
    _Locator(text, located.positions).value(_skip(text, 0), ())
    return located


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    assert match is not None  # `*` matches the empty string
    return match.end()


class _Locator:
    def __init__(self, text: str, positions: dict[Pointer, tuple[int, int]]) -> None:
        self.text = text
        self.positions = positions
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def place(self, index: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:  # binary search for the line holding `index`
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= index:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, index - self.line_starts[lo] + 1

    def value(self, index: int, pointer: Pointer) -> int:
        """Record positions inside the value starting at `index`; return the index after it."""
        self.positions.setdefault(pointer, self.place(index))
        char = self.text[index]
        if char == "{":
            index = _skip(self.text, index + 1)
            while self.text[index] != "}":
                key_start = index
                key, index = scanstring(self.text, index + 1)
                self.positions[pointer + (key,)] = self.place(key_start)
                index = _skip(self.text, _skip(self.text, index) + 1)  # past ':'
                index = _skip(self.text, self.value(index, pointer + (key,)))
                if self.text[index] == ",":
                    index = _skip(self.text, index + 1)
            return index + 1
        if char == "[":
            index = _skip(self.text, index + 1)
            item = 0
            while self.text[index] != "]":
                index = _skip(self.text, self.value(index, pointer + (item,)))
                item += 1
                if self.text[index] == ",":
                    index = _skip(self.text, index + 1)
            return index + 1
        if char == '"':
            return scanstring(self.text, index + 1)[1]
        match = _SCALAR.match(self.text, index)
        assert match is not None  # `json.loads` took the text: any other value is a scalar
        return match.end()

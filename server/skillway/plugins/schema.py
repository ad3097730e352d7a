"""Checks a value against the JSON Schemas in the bundled `manifest/schema/`.

The schemas are shared with the editor features (completion and hover read their `description`s).
Only the keywords those schemas use are implemented, plus four of our own: `x-severity: warning`
(a violation is a warning, not an error), `x-publish` (a rule for publishing that Claude Code does
not enforce when loading: a warning marked `publishing`, an error under `validate --strict`),
`x-legacy` (an `anyOf` branch that is accepted with that warning) and `x-message` (the message for a
violation at that node).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal, overload

from skillway.core.problems import Problem, Severity
from skillway.plugins.bundled import schema_dir

Pointer = tuple[str | int, ...]
Locate = Callable[[Pointer], tuple[int, int]]

_TYPE_NAMES = {
    "string": "a string",
    "array": "an array",
    "object": "an object",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


@cache
def load_schema(name: str) -> dict:
    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


@cache
def _pattern(source: str) -> re.Pattern:
    return re.compile(source)


def type_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else type(value).__name__


def _matches_type(value: object, expected: str) -> bool:
    actual = type_of(value)
    return actual == expected or (expected == "number" and actual == "integer")


def label(pointer: Pointer) -> str:
    text = ""
    for part in pointer:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f'"{text}"' if text else "the document"


def resolve(schema: dict, document: str) -> tuple[dict, str]:
    """Follow `$ref`s (`#/$defs/x` or `other.schema.json#/$defs/x`)."""
    while "$ref" in schema:
        target, _, fragment = schema["$ref"].partition("#")
        document = target or document
        schema = load_schema(document)
        for part in filter(None, fragment.split("/")):
            schema = schema[part]
    return schema, document


class _Publishing:
    """The severity of a broken publishing rule while checking: not an error (the item loads)."""


PUBLISHING = _Publishing()


def check(value: object, schema_name: str, path: Path, locate: Locate, at: Pointer = ()) -> list[Problem]:
    """Check `value` (found at `at` in its file) against a schema file or a part of one
    (`hooks.schema.json#/$defs/hooksObject`)."""
    found: list[tuple[Pointer, Severity | _Publishing, str]] = []
    _node({"$ref": schema_name}, schema_name.partition("#")[0]).check(value, at, Severity.ERROR, found)
    problems = []
    for pointer, severity, message in found:
        line, column = locate(pointer)
        if isinstance(severity, _Publishing):
            problems.append(Problem(path, line, column, Severity.WARNING, message, publishing=True))
        else:
            problems.append(Problem(path, line, column, severity, message))
    return problems


_NODES: dict[tuple[int, str], _Node] = {}


def _node(schema: dict, document: str) -> _Node:
    """The compiled form of a schema object, built once (validation runs on thousands of files)."""
    key = (id(schema), document)
    node = _NODES.get(key)
    if node is None:
        node = _NODES[key] = _Node(schema, document)
    return node


def _got(value: object) -> str:
    return _TYPE_NAMES.get(type_of(value), type_of(value))


class _Node:
    def __init__(self, schema: dict, document: str) -> None:
        self.raw = schema  # keeps the dict alive, so its id() in _NODES stays unique
        schema, document = resolve(schema, document)
        self.document = document
        self.schema = schema
        self.warning_only = schema.get("x-severity") == "warning"
        self.publish = bool(schema.get("x-publish"))
        self.custom = schema.get("x-message")
        self.legacy = schema.get("x-legacy")
        expected = schema.get("type")
        self.types = None if expected is None else (expected if isinstance(expected, list) else [expected])
        self.pattern = _pattern(schema["pattern"]) if "pattern" in schema else None
        self.required = schema.get("required", ())
        self.extra = schema.get("additionalProperties", True)
        # Children are compiled on first use: schemas refer to themselves ($ref cycles).
        self._parts: dict[str, object] = {}

    @overload
    def child(self, key: Literal["allOf", "anyOf"]) -> list[_Node]: ...
    @overload
    def child(self, key: Literal["properties"]) -> dict[str, _Node]: ...
    @overload
    def child(self, key: Literal["items"]) -> _Node: ...  # the bundled schemas' `items` are all objects
    @overload
    def child(self, key: Literal["additionalProperties"]) -> _Node | bool: ...

    def child(self, key: str) -> object:
        if key not in self._parts:
            value = self.schema[key] if key in ("allOf", "anyOf", "items", "properties") else self.extra
            if key in ("allOf", "anyOf"):
                value = [_node(part, self.document) for part in value]
            elif key == "properties":
                value = {name: _node(part, self.document) for name, part in value.items()}
            elif isinstance(value, dict):
                value = _node(value, self.document)
            self._parts[key] = value
        return self._parts[key]

    def check(self, value, pointer, severity, out) -> None:
        schema = self.schema
        if self.warning_only:
            severity = Severity.WARNING
        elif self.publish and not self.legacy and severity is Severity.ERROR:  # a legacy branch marks only its warning
            severity = PUBLISHING

        def report(message: str) -> None:
            out.append((pointer, severity, f"{label(pointer)} {self.custom}" if self.custom else message))

        if "allOf" in schema:
            for part in self.child("allOf"):
                before = len(out)
                part.check(value, pointer, severity, out)
                if any(s is Severity.ERROR for _, s, _ in out[before:]):
                    break  # the first broken rule is the one worth reading
        if "anyOf" in schema:
            for branch in self.child("anyOf"):
                trial: list = []
                branch.check(value, pointer, Severity.ERROR, trial)
                if not any(s is Severity.ERROR for _, s, _ in trial):
                    out.extend(trial)
                    if branch.legacy:
                        out.append((pointer, PUBLISHING if branch.publish else Severity.WARNING,
                                    f"{label(pointer)}: {branch.legacy}"))
                    break
            else:
                kinds = " or ".join(_describe(branch.schema) for branch in self.child("anyOf"))
                report(f"{label(pointer)} must be {kinds}, got {_got(value)}")
                return
        if self.types is not None and not any(_matches_type(value, t) for t in self.types):
            report(f"{label(pointer)} must be {' or '.join(_TYPE_NAMES[t] for t in self.types)}, got {_got(value)}")
            return
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(json.dumps(v) for v in schema["enum"])
            report(f"{label(pointer)} must be one of {choices}, got {json.dumps(value)}")
        if "const" in schema and value != schema["const"]:
            report(f"{label(pointer)} must be {json.dumps(schema['const'])}")

        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                report(f"{label(pointer)} must not be empty" if schema["minLength"] == 1
                       else f"{label(pointer)} is shorter than {schema['minLength']} characters")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                report(f"{label(pointer)} is {len(value)} characters long; the limit is {schema['maxLength']}")
            if self.pattern is not None and not self.pattern.search(value):
                report(f"{label(pointer)} does not match the pattern {self.pattern.pattern}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                report(f"{label(pointer)} must be at least {schema['minimum']}")
            if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
                report(f"{label(pointer)} must be greater than {schema['exclusiveMinimum']}")
        elif isinstance(value, list):
            if "items" in schema:
                items = self.child("items")
                for index, item in enumerate(value):
                    items.check(item, pointer + (index,), severity, out)
        elif isinstance(value, dict):
            for key in self.required:
                if key not in value:
                    out.append((pointer, severity, f'missing required field "{key}"'
                                + (f" in {label(pointer)}" if pointer else "")))
            properties = self.child("properties") if "properties" in schema else {}
            extra = self.child("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    properties[key].check(item, pointer + (key,), severity, out)
                elif extra is False:
                    out.append((pointer + (key,), Severity.WARNING, f'unknown field "{key}" is ignored'))
                elif isinstance(extra, _Node):
                    extra.check(item, pointer + (key,), severity, out)


def _describe(schema: dict) -> str:
    expected = schema.get("type")
    if expected is None:
        return "a value" if "enum" not in schema else "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    options = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_NAMES[t] for t in options)


def field_docs(schema_name: str) -> dict[str, str]:
    """Top-level property name -> description: what the editor's hover and completion show."""
    schema, document = resolve(load_schema(schema_name), schema_name)
    return {key: prop.get("description") or resolve(prop, document)[0].get("description", "")
            for key, prop in schema.get("properties", {}).items()}

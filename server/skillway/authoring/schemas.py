"""Walking the bundled JSON Schemas for the editor: what may stand at a JSON pointer, its description,
the keys an object allows and the values a field suggests."""

from __future__ import annotations

import json
from functools import cache

from skillway.core.located_json import Pointer
from skillway.plugins import schema as plugin_schema

HOOKS = "hooks.schema.json"

# A settings file is Claude Code's: only its `hooks` are skillway's business.
SETTINGS = {
    "type": "object",
    "properties": {
        "hooks": {
            "$ref": f"{HOOKS}#/$defs/hooksObject",
            "description": "Hooks of this workspace: event name -> matcher groups (the same shape as in hooks.json).",
        },
    },
}

_MAX_DEPTH = 16  # $ref and anyOf/allOf nesting followed at most this deep


class Node:
    """A schema object as written (`raw`, which may hold a `$ref` with a `description` beside it),
    with the document its `$ref`s are relative to."""

    __slots__ = ("document", "raw")

    def __init__(self, raw: dict, document: str) -> None:
        self.raw, self.document = raw, document

    def resolved(self) -> tuple[dict, str]:
        return plugin_schema.resolve(self.raw, self.document)

    def branches(self) -> list[tuple[dict, str]]:
        """This node resolved, followed by the nodes of its `anyOf` and `allOf`, depth first."""
        out: list[tuple[dict, str]] = []

        def walk(raw: dict, document: str, depth: int) -> None:
            if depth > _MAX_DEPTH or not isinstance(raw, dict):
                return
            schema, document = plugin_schema.resolve(raw, document)
            out.append((schema, document))
            for key in ("anyOf", "allOf"):
                for part in schema.get(key, ()):
                    walk(part, document, depth + 1)

        walk(self.raw, self.document, 0)
        return out

    def child(self, part: str | int | None) -> Node | None:
        """The schema of member `part` (a key, or an array index) of a value of this schema; None is
        a key not typed yet (`{: `), which only `additionalProperties` covers."""
        branches = self.branches()
        if isinstance(part, int):
            for schema, document in branches:
                if isinstance(schema.get("items"), dict):
                    return Node(schema["items"], document)
            return None
        for schema, document in branches:
            properties = schema.get("properties")
            if isinstance(properties, dict) and part in properties:
                return Node(properties[part], document)
        for schema, document in branches:
            if isinstance(schema.get("additionalProperties"), dict):
                return Node(schema["additionalProperties"], document)
        return None

    def at(self, pointer: Pointer) -> Node | None:
        node: Node | None = self
        for part in pointer:
            if node is None:
                return None
            node = node.child(part)
        return node

    def properties(self) -> dict[str, Node]:
        """The keys an object of this schema names, in the schema's order."""
        found: dict[str, Node] = {}
        for schema, document in self.branches():
            for name, raw in (schema.get("properties") or {}).items():
                found.setdefault(name, Node(raw, document))
        return found

    def is_same(self, definition: dict) -> bool:
        """True when this schema is `definition`, or refers to it, or offers it as one of its forms."""
        return any(schema is definition for schema, _ in self.branches())

    @property
    def description(self) -> str:
        if isinstance(self.raw.get("description"), str):
            return self.raw["description"]
        schema, _ = self.resolved()
        text = schema.get("description")
        return text if isinstance(text, str) else ""

    def types(self) -> list[str]:
        """The JSON types a value may have, in the schema's order ([] when the schema does not say)."""
        found: list[str] = []
        for schema, _ in self.branches():
            expected = schema.get("type")
            for name in expected if isinstance(expected, list) else [expected] if expected else []:
                if name not in found:
                    found.append(name)
        return found

    def type_text(self) -> str:
        return " or ".join(self.types())

    def allows_boolean(self) -> bool:
        return "boolean" in self.types()

    def values(self) -> tuple[list[object], bool]:
        """Suggested values and whether they are the only ones allowed (an `enum`, or a boolean).

        A flag (a boolean that also accepts yes/no/on/off strings) suggests just true and false.
        """
        if self.allows_boolean():
            return [True, False], True
        values: list[object] = []
        closed = False
        for schema, _ in self.branches():
            for key in ("enum", "examples"):
                for value in schema.get(key, ()):
                    if value not in values:
                        values.append(value)
            if "enum" in schema:
                closed = True
            if "const" in schema and schema["const"] not in values:
                values.append(schema["const"])
                closed = True
        if closed and any(s.get("examples") for s, _ in self.branches()):
            closed = False
        return values, closed


@cache
def root(schema_name: str) -> Node:
    """The schema a document of that name follows ("settings" for a Claude Code settings file)."""
    if schema_name == "settings":
        return Node(SETTINGS, HOOKS)
    return Node({"$ref": schema_name}, schema_name)


@cache
def hooks_def(name: str) -> dict:
    """A definition of the hooks schema (`hooksObject`, `matcherGroup`, ...), as written."""
    return plugin_schema.load_schema(HOOKS)["$defs"][name]


def literal(value: object) -> str:
    """A value as JSON writes it."""
    return json.dumps(value, ensure_ascii=False)


def yaml_literal(value: object) -> str:
    """A value as frontmatter writes it (booleans in lowercase, strings bare)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def markdown(name: str, node: Node, *, heading: str | None = None) -> str:
    """Hover text for field `name`: its type, description and the values it takes."""
    kind = heading or node.type_text()
    parts = [f"**`{name}`**" + (f" · {kind}" if kind else "")]
    if node.description:
        parts.append(node.description)
    values, closed = node.values()
    if values:
        shown = ", ".join(f"`{yaml_literal(v)}`" for v in values)
        parts.append(("Allowed values: " if closed else "Examples: ") + shown)
    return "\n\n".join(parts)

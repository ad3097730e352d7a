"""Hover in plugin files: what the key under the cursor means, from its JSON Schema."""

from __future__ import annotations

from pathlib import Path

from skillway.authoring import jsonscan, markdown, schemas
from skillway.authoring.kinds import JSON_KINDS, MARKDOWN_KINDS, SCHEMAS, document_kind
from skillway.authoring.text import Lines
from skillway.plugins.files import MAX_FILE_BYTES


def hover(path: Path, text: str, line: int, character: int) -> str | None:
    """Markdown describing the key at the 0-based (`line`, `character`) of `text`, or None.

    JSON keys (by their place in the document, so `name` in an author is the person's name) and
    frontmatter keys of skills, commands and agents: the description, the type and the values.
    """
    kind = document_kind(Path(path))
    if kind is None or len(text) > MAX_FILE_BYTES:
        return None
    lines = Lines(text)
    if kind in JSON_KINDS:
        return _json(kind, lines, line, character)
    if kind in MARKDOWN_KINDS:
        return _frontmatter(kind, lines, line, character)
    return None


def _json(kind: str, lines: Lines, line: int, character: int) -> str | None:
    if not 0 <= line < len(lines):
        return None
    offset = lines.offset(line, character)
    cursor = jsonscan.scan(lines.text, offset)
    if cursor.where != "key" or not cursor.quoted:
        # On the opening quote: the key starts just after it.
        if lines.text[offset:offset + 1] != '"':
            return None
        cursor = jsonscan.scan(lines.text, offset + 1)
        if cursor.where != "key" or not cursor.quoted:
            return None
    if cursor.container != "object" or cursor.token is None:
        return None
    container = schemas.root(SCHEMAS[kind]).at(cursor.pointer)
    if container is None:
        return None
    node = container.properties().get(cursor.token)
    if node is None:
        return None
    heading = "hook event" if container.is_same(schemas.hooks_def("hooksObject")) else None
    return schemas.markdown(cursor.token, node, heading=heading)


def _frontmatter(kind: str, lines: Lines, line: int, character: int) -> str | None:
    block = markdown.frontmatter_lines(lines)
    if block is None or line not in block:
        return None
    match = markdown.KEY_LINE.match(lines.line(line))
    if match is None or not 0 <= character <= len(match.group(1)):
        return None
    node = schemas.root(SCHEMAS[kind]).properties().get(match.group(1))
    return None if node is None else schemas.markdown(match.group(1), node)

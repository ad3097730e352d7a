"""Documents as the editor has them: their path, text, version, and positions in UTF-16 safely."""

from __future__ import annotations

from itertools import accumulate
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from skillway.lsp.server import SkillwayServer

MAX_DOCUMENT_CHARS = 5_000_000  # beyond this a document is not sent anywhere


def utf16_length(text: str) -> int:
    """How long `text` is in LSP columns (UTF-16 code units, the default position encoding)."""
    return len(text.encode("utf-16-le")) // 2


def path_of(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def document(ls: SkillwayServer, uri: str):
    """The open document, or None for a URI the editor has not opened."""
    return ls.workspace.text_documents.get(uri)


_LINE_STARTS: dict[str, tuple[int | None, str, list[int]]] = {}  # uri -> (version, text, line starts)


def _line_starts(doc) -> list[int]:
    """Where each line starts, computed once per document version (not once per request)."""
    source = doc.source
    cached = _LINE_STARTS.get(doc.uri)
    if cached is not None and cached[0] == doc.version and cached[1] is source:
        return cached[2]
    starts = [0]
    starts.extend(accumulate(len(line) for line in source.splitlines(keepends=True)))
    if source and source[-1] not in "\r\n":
        starts.pop()  # the last line has no line break: no line starts after it
    _LINE_STARTS[doc.uri] = (doc.version, source, starts)
    return starts


def offset(doc, position: lsp.Position) -> int | None:
    """The Python string index of an LSP position (UTF-16 columns), or None when it is outside."""
    starts = _line_starts(doc)
    if position.line < 0 or position.character < 0 or position.line >= len(starts):
        return len(doc.source) if position.line == len(starts) and position.character == 0 else None
    start = starts[position.line]
    end = starts[position.line + 1] if position.line + 1 < len(starts) else len(doc.source)
    line = doc.source[start:end].rstrip("\r\n")
    if line.isascii():
        return start + min(position.character, len(line))
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return start + index
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(line)


def clamp(doc, position: lsp.Position) -> lsp.Position | None:
    """`position` inside the document: a column past the end of its line (or inside a character
    that takes two UTF-16 units) moves to where `offset` puts it; None for a line the document
    does not have."""
    where = offset(doc, position)
    if where is None:
        return None
    starts = _line_starts(doc)
    if position.line >= len(starts):
        return position  # the end of the document, as `offset` reads it
    return lsp.Position(position.line, utf16_length(doc.source[starts[position.line]:where]))


def forget(uri: str) -> None:
    _LINE_STARTS.pop(uri, None)


def version_of(ls: SkillwayServer, uri: str) -> int | None:
    doc = document(ls, uri)
    return doc.version if doc is not None else None

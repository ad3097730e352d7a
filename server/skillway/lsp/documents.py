"""Documents as the editor has them: their path, text, version, and positions in UTF-16 safely."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from skillway.lsp.server import SkillwayServer

MAX_DOCUMENT_CHARS = 5_000_000  # beyond this a document is not sent anywhere


def path_of(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def document(ls: SkillwayServer, uri: str):
    """The open document, or None for a URI the editor has not opened."""
    return ls.workspace.text_documents.get(uri)


def offset(doc, position: lsp.Position) -> int | None:
    """The Python string index of an LSP position, or None when it is outside the document."""
    lines = doc.lines
    if position.line < 0 or position.character < 0 or position.line > len(lines):
        return None
    if position.line == len(lines):
        return len(doc.source) if position.character == 0 else None
    try:
        return doc.offset_at_position(position)
    except (IndexError, ValueError):
        return None


def version_of(ls: SkillwayServer, uri: str) -> int | None:
    doc = document(ls, uri)
    return doc.version if doc is not None else None

"""Texts with a cursor mark, as the editor features take them."""

from __future__ import annotations

CURSOR = "<|>"


def split(marked: str) -> tuple[str, int, int]:
    """The text without its cursor mark, and the mark's 0-based line and character."""
    offset = marked.index(CURSOR)
    text = marked.replace(CURSOR, "", 1)
    before = text[:offset]
    return text, before.count("\n"), offset - (before.rfind("\n") + 1)

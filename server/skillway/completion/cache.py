"""Suggestions already fetched: the same spot twice makes one request, and typing the first
characters of a suggestion is served the rest without a request (type-through)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

TAIL = 2000  # characters of prefix that identify a spot; beyond that the text is the same anyway
HEAD = 500


@dataclass
class _Shown:
    prefix: str
    suffix: str
    suggestion: str


class SuggestionCache:
    def __init__(self, size: int = 256) -> None:
        self.entries: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self.size = size
        self.last: dict[str, _Shown] = {}  # per document: the latest suggestion, for type-through

    def store(self, document: str, prefix: str, suffix: str, suggestion: str) -> None:
        key = (document, prefix[-TAIL:], suffix[:HEAD])
        self.entries[key] = suggestion
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        if suggestion:
            self.last[document] = _Shown(prefix, suffix, suggestion)

    def lookup(self, document: str, prefix: str, suffix: str) -> str | None:
        hit = self.entries.get((document, prefix[-TAIL:], suffix[:HEAD]))
        if hit is not None:
            return hit
        shown = self.last.get(document)
        if shown is None or not prefix.startswith(shown.prefix) or suffix[:HEAD] != shown.suffix[:HEAD]:
            return None
        typed = prefix[len(shown.prefix):]
        if typed and shown.suggestion.startswith(typed) and len(typed) < len(shown.suggestion):
            return shown.suggestion[len(typed):]
        return None

    def forget(self, document: str) -> None:
        self.last.pop(document, None)
        for key in [k for k in self.entries if k[0] == document]:
            del self.entries[key]

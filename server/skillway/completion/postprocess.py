"""Turning the model's answer into text to insert: no fences, no repeat of what is already there."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)(\n```\s*)?$", re.DOTALL)


def clean(raw: str, prefix: str, suffix: str, *, max_lines: int = 20, max_chars: int = 2000) -> str:
    text = raw
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    text = _drop_prefix_overlap(text, prefix)
    text = _drop_suffix_overlap(text, suffix)
    lines = text.split("\n")[:max_lines]
    text = "\n".join(lines)[:max_chars]
    return text.rstrip()


def _drop_prefix_overlap(text: str, prefix: str) -> str:
    """The model sometimes repeats the start of the current line: keep only what is new."""
    line = prefix.rsplit("\n", 1)[-1]
    for size in range(min(len(line), len(text)), 0, -1):
        if line.endswith(text[:size]) and text[:size].strip():
            return text[size:]
    return text


def _drop_suffix_overlap(text: str, suffix: str) -> str:
    """...and sometimes writes what already follows the cursor: cut it from the end."""
    head = suffix.split("\n", 1)[0] if suffix.strip() else ""
    for size in range(min(len(suffix), len(text)), 0, -1):
        tail = text[-size:]
        if suffix.startswith(tail) and tail.strip() and (size >= 3 or tail == head):
            return text[:-size]
    return text

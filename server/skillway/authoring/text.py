"""Positions in an editor's text: lines end at \\n, \\r\\n or \\r, as the Language Server Protocol says."""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Lines:
    """The lines of `text` and the offset each starts at."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends = []  # where each line's text ends (before its line break)
        for match in _LINE_BREAK.finditer(text):
            self.ends.append(match.start())
            self.starts.append(match.end())
        self.ends.append(len(text))

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, number: int) -> str:
        """Line `number` (0-based) without its line break; "" past the end."""
        if not 0 <= number < len(self.starts):
            return ""
        return self.text[self.starts[number]:self.ends[number]]

    def offset(self, line: int, character: int) -> int:
        """The offset of a 0-based position, clamped to the text and to its line."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        return self.starts[line] + max(0, min(character, self.ends[line] - self.starts[line]))

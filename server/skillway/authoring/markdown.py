"""The frontmatter block of a markdown plugin file, found leniently while the user types it."""

from __future__ import annotations

import re

from skillway.authoring.text import Lines

FENCE = "---"
KEY_LINE = re.compile(r"^([A-Za-z0-9_-]+)[ \t]*:")


def frontmatter_lines(lines: Lines) -> range | None:
    """The 0-based numbers of the lines between the opening `---` (the first line) and the closing one.

    Not closed yet (the user is writing it): every line after the opening one.
    """
    if lines.line(0).removeprefix("\ufeff") != FENCE:
        return None
    for number in range(1, len(lines)):
        if lines.line(number) == FENCE:
            return range(1, number)
    return range(1, len(lines))


def present_keys(lines: Lines, block: range, skip: int | None = None) -> set[str]:
    """The top-level keys written in the frontmatter (line `skip` aside)."""
    keys = set()
    for number in block:
        if number != skip and (match := KEY_LINE.match(lines.line(number))):
            keys.add(match.group(1))
    return keys

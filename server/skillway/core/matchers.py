"""Hook matchers, as Claude Code reads them.

`*`, empty or absent matches everything; text made only of letters, digits, `_`, `-`, spaces, `,`
and `|` is a list of exact names; anything else is an unanchored regular expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME_LIST = re.compile(r"^[A-Za-z0-9_\- ,|]+$")
_SEPARATORS = re.compile(r"[,|]")


@dataclass(frozen=True)
class Matcher:
    source: str | None
    names: frozenset[str] | None = None  # exact names; None when this is not a name list
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str | None) -> bool:
        if self.names is None and self.pattern is None:
            return True
        if value is None:
            return False
        if self.names is not None:
            return value in self.names
        assert self.pattern is not None  # neither names nor a pattern returned above
        return self.pattern.search(value) is not None


def compile_matcher(source: str | None) -> Matcher:
    """Raise ValueError with the reason when `source` is an invalid regular expression."""
    if source is None or source.strip() in ("", "*"):
        return Matcher(source)
    if _NAME_LIST.match(source):
        names = frozenset(part.strip() for part in _SEPARATORS.split(source) if part.strip())
        return Matcher(source, names=names)
    try:
        return Matcher(source, pattern=re.compile(source))
    except re.error as exc:
        raise ValueError(f"matcher {source!r} is not a valid regular expression: {exc}") from None

"""What a completion request shows the model: the text around the cursor and a little of the rest.

Everything is bounded by a character budget (about four characters per token), taken nearest the
cursor first. Files that look like secrets are never included, not even as the document itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillway.core.secrets import is_secret_file

PREFIX_SHARE = 0.7  # of the budget: text before the cursor matters most
SNIPPET_CHARS = 1500  # per other open document


@dataclass(frozen=True)
class OpenDocument:
    path: Path
    language: str
    text: str


@dataclass(frozen=True)
class CompletionContext:
    prefix: str
    suffix: str
    language: str
    path: str  # relative to the workspace when inside it
    snippets: tuple[tuple[str, str], ...] = field(default=())  # (relative path, text) of other open documents


def relative(path: Path, workspace: Path | None) -> str:
    if workspace is not None:
        try:
            return str(path.relative_to(workspace))
        except ValueError:
            pass
    return path.name


def build_context(
    text: str,
    offset: int,
    path: Path,
    language: str,
    *,
    workspace: Path | None = None,
    others: Sequence[OpenDocument] = (),
    budget_chars: int = 8000,
) -> CompletionContext | None:
    """The context for a cursor at `offset` in `text`; None when the document must not be sent."""
    if is_secret_file(path):
        return None
    prefix_room = int(budget_chars * PREFIX_SHARE)
    prefix = text[max(0, offset - prefix_room):offset]
    suffix = text[offset:offset + budget_chars - len(prefix)]
    room = budget_chars - len(prefix) - len(suffix)
    snippets = []
    for other in others:
        if room <= 0:
            break
        if other.path == path or is_secret_file(other.path) or not other.text.strip():
            continue
        piece = other.text[:min(SNIPPET_CHARS, room)]
        snippets.append((relative(other.path, workspace), piece))
        room -= len(piece)
    return CompletionContext(prefix, suffix, language, relative(path, workspace), tuple(snippets))

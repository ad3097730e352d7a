"""Reading plugin files defensively: too large, binary, empty or non-UTF-8 files are problems."""

from __future__ import annotations

from pathlib import Path

from skillway.core import located_json
from skillway.core.problems import Problem, error, warning

MAX_FILE_BYTES = 1024 * 1024


def read_text(path: Path, *, head_until: str | None = None) -> tuple[str | None, list[Problem]]:
    """Return the file's text, or None and the reason.

    With `head_until`, reading stops after the second line equal to that marker (the end of a
    frontmatter block), so a skill's body is not read until it is needed.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [error(path, f"file is too large ({size} bytes; the limit is {MAX_FILE_BYTES})")]
        with path.open("rb") as stream:
            data = _read_head(stream, head_until) if head_until else stream.read()
    except PermissionError as exc:  # the file is there but not ours to read: left out, like an unreadable folder
        return None, [warning(path, f"cannot read file: {exc.strerror or exc}")]
    except OSError as exc:
        return None, [error(path, f"cannot read file: {exc.strerror or exc}")]
    if b"\x00" in data:
        return None, [error(path, "file is binary, not text")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [error(path, f"file is not valid UTF-8 (byte {exc.start})", line)]
    return _checked(path, text)


def check_text(path: Path, text: str) -> tuple[str | None, list[Problem]]:
    """`read_text` for text already in memory (an editor's unsaved buffer): the same limits and problems."""
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_FILE_BYTES else len(text)
    if size > MAX_FILE_BYTES:
        return None, [error(path, f"file is too large ({size} bytes; the limit is {MAX_FILE_BYTES})")]
    if "\x00" in text:
        return None, [error(path, "file is binary, not text")]
    return _checked(path, text.removeprefix("\ufeff"))


def _checked(path: Path, text: str) -> tuple[str, list[Problem]]:
    if not text.strip():
        return text, [warning(path, "file is empty")]
    return text, []


def _read_head(stream, marker: str) -> bytes:
    wanted = marker.encode()
    first = stream.readline()
    if first.rstrip(b"\r\n").lstrip(b"\xef\xbb\xbf") != wanted:
        # No frontmatter: the description falls back to the first line of text, found in a few lines.
        parts = [first]
        while not first.strip() and len(parts) < 20 and (first := stream.readline()):
            parts.append(first)
        return b"".join(parts)
    parts = [first]
    for line in stream:
        parts.append(line)
        if line.rstrip(b"\r\n") == wanted:
            break
    return b"".join(parts)


def read_json(path: Path, text: str | None = None) -> tuple[located_json.LocatedJson | None, list[Problem]]:
    """A JSON file with the position of every key, or None and the problem (syntax errors at their place).

    With `text`, that text is checked instead of the file's content (an editor's unsaved buffer).
    """
    text, problems = read_text(path) if text is None else check_text(path, text)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [error(path, "file is empty; expected a JSON object")]
    try:
        return located_json.parse(text), problems
    except located_json.JsonSyntaxError as exc:
        return None, [error(path, exc.message, exc.line, exc.column)]
    except RecursionError:
        return None, [error(path, "invalid JSON: nested too deeply")]

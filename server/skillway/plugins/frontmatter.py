"""YAML frontmatter of markdown plugin files (commands, skills, agents), with the line of every key.

Frontmatter that is not valid YAML is read the forgiving way Claude Code reads it: one `key: value`
per line, the value taken as a plain string, with a warning so the author can fix the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from skillway.core.problems import Problem, error, warning
from skillway.plugins import files, schema

try:  # libyaml is ~10x faster; PyYAML wheels ship it, source builds may not
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_FENCE = "---"
_LOOSE_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s?(.*)$")


@dataclass
class Frontmatter:
    values: dict[str, object] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)  # 1-based line in the file
    present: bool = False
    body_line: int = 1  # 1-based line where the body starts
    body: str = ""

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def parse(path: Path, text: str) -> tuple[Frontmatter, list[Problem]]:
    """Split `text` into frontmatter and body. `text` may stop after the frontmatter (lazy reads)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != _FENCE:
        return Frontmatter(body=text), []
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip("\r\n") == _FENCE), None)
    if end is None:
        return Frontmatter(body=text), [error(path, "frontmatter is not closed with a '---' line", 1)]
    block = "".join(lines[1:end])
    result = Frontmatter(present=True, body_line=end + 2, body="".join(lines[end + 1 :]))
    try:
        _parse_yaml(block, result)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 2
        reason = getattr(exc, "problem", None) or "invalid YAML"
        result.values, result.key_lines = {}, {}
        unreadable = _parse_loose(lines[1:end], result)
        if unreadable:
            # Not even one `key: value` per line: nothing trustworthy can be read from it.
            result.values, result.key_lines = {}, {}
            return result, [error(path, f"frontmatter is not valid YAML: {reason}", line)]
        return result, [warning(path, f"frontmatter is not valid YAML ({reason}); read as plain 'key: value' lines", line)]
    if not isinstance(result.values, dict):
        kind = type(result.values).__name__
        result.values, result.key_lines = {}, {}
        return result, [error(path, f"frontmatter must be a mapping of keys to values, got {kind}", 2)]
    return result, []


def _parse_yaml(block: str, result: Frontmatter) -> None:
    loader = _Loader(block)
    try:
        node = loader.get_single_node()
        if node is None:
            result.values = {}
            return
        result.values = loader.construct_document(node)
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                result.key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    finally:
        loader.dispose()
    if isinstance(result.values, dict):
        result.values = {str(k): v for k, v in result.values.items()}


def _parse_loose(lines: list[str], result: Frontmatter) -> int:
    """Read `key: value` lines; return how many non-blank, non-comment lines were not of that form."""
    unreadable = 0
    for number, line in enumerate(lines, start=2):
        match = _LOOSE_LINE.match(line.rstrip("\r\n"))
        if match:
            key, value = match.groups()
            result.values[key] = value.strip().strip("\"'")
            result.key_lines[key] = number
        elif line.strip() and not line.lstrip().startswith("#"):
            unreadable += 1
    return unreadable


def first_line(body: str) -> str:
    """The first non-blank line of a body without heading marks: the fallback description."""
    for line in body.splitlines():
        text = line.strip().lstrip("#").strip()
        if text:
            return text
    return ""


_TRUE = {"true", "yes", "on", "1"}


def as_flag(value: object, default: bool) -> bool:
    """Booleans as plugins write them: true/false, yes/no, on/off, 1/0 (quoted or not)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def as_list(value: object) -> tuple[str, ...]:
    """A YAML list, or a string of entries separated by commas or spaces.

    Spaces inside parentheses belong to the entry: `Bash(git diff:*) Read` is two entries.
    """
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(item).strip() for item in value if str(item).strip())
    entries: list[str] = []
    current: list[str] = []
    depth = 0
    for char in str(value):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if depth == 0 and (char == "," or char.isspace()):
            entries.append("".join(current))
            current = []
        else:
            current.append(char)
    entries.append("".join(current))
    return tuple(entry for entry in entries if entry)


def as_text(value: object) -> str | None:
    return None if value is None else str(value)


def as_hint(value: object) -> str | None:
    """An argument hint. Unquoted, `[name, greeting]` is YAML for a list; it means the text as written."""
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return as_text(value)


def load(path: Path, schema_name: str, *, head_only: bool = False,
         text: str | None = None) -> tuple[Frontmatter | None, list[Problem]]:
    """Read a markdown plugin file and check its frontmatter against `schema_name`.

    `head_only` stops reading after the frontmatter: the body is read later, when it is used.
    With `text`, that text is checked instead of the file's content (an editor's unsaved buffer).
    """
    if text is None:
        text, problems = files.read_text(path, head_until=_FENCE if head_only else None)
    else:
        text, problems = files.check_text(path, text)
    if text is None:
        return None, problems
    parsed, more = parse(path, text)
    problems += more
    def position(pointer) -> tuple[int, int]:
        return (parsed.line_of(str(pointer[0])) if pointer else 1, 1)

    problems += schema.check(parsed.values, schema_name, path, position)
    return parsed, problems

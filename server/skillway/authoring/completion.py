"""Completion in plugin files: the keys and values their JSON Schemas allow where the cursor is.

JSON documents (plugin.json, marketplace.json, hooks.json, `.claude/settings*.json`): at a key
position, the keys the object's schema names that it does not have yet (hook event names inside a
hooks object, a handler's fields inside a handler); at a value position, the values the schema
enumerates or gives as examples, booleans, and hook matchers by event. Markdown files (SKILL.md,
commands, agents): the frontmatter keys at the start of a line, and after `key: ` the values of that
key. The text may be broken: it is read leniently around the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from skillway.authoring import jsonscan, markdown, schemas
from skillway.authoring.kinds import JSON_KINDS, MARKDOWN_KINDS, SCHEMAS, document_kind
from skillway.authoring.text import Lines
from skillway.plugins.files import MAX_FILE_BYTES
from skillway.plugins.model import HookEvent


@dataclass(frozen=True, slots=True)
class Candidate:
    """One completion. `insert_text` replaces the characters `replace` = (start, end) of the cursor's
    line (0-based Python str indices; start <= cursor <= end): what is typed of the key or value, with
    its closing quote when there is one. `replace` is None when the text goes in at the cursor."""

    label: str
    kind: Literal["key", "value"]
    detail: str
    documentation: str
    insert_text: str
    replace: tuple[int, int] | None = None


# Matcher values by event: what the matcher is tested against (hooks-contract.md).
_SESSION_SOURCES = (
    ("startup", "A new session."),
    ("resume", "A resumed session."),
    ("clear", "After `/clear`."),
    ("compact", "After the conversation was compacted."),
)
_TOOLS = (
    ("Bash", "Shell commands."),
    ("Read", "Reading files."),
    ("Write", "Writing whole files."),
    ("Edit", "Editing files."),
    ("Write|Edit", "Writing or editing files."),
    ("Glob", "Finding files by pattern."),
    ("Grep", "Searching file contents."),
    ("WebFetch", "Fetching a web page."),
    ("WebSearch", "Searching the web."),
    ("Agent", "Starting a sub-agent (older name `Task`)."),
    ("NotebookEdit", "Editing a notebook."),
    ("TodoWrite", "Updating the task list."),
    ("*", "Every tool."),
)
MATCHERS: dict[str, tuple[tuple[str, str], ...]] = {
    HookEvent.SESSION_START: _SESSION_SOURCES,
    HookEvent.PRE_TOOL_USE: _TOOLS,
    HookEvent.POST_TOOL_USE: _TOOLS,
    HookEvent.POST_TOOL_USE_FAILURE: _TOOLS,
    HookEvent.PERMISSION_REQUEST: _TOOLS,
}


def complete(path: Path, text: str, line: int, character: int) -> list[Candidate]:
    """Completions at the 0-based (`line`, `character`) of `text`, the content of plugin file `path`."""
    kind = document_kind(Path(path))
    if kind is None or len(text) > MAX_FILE_BYTES:
        return []
    lines = Lines(text)
    if kind in JSON_KINDS:
        return _json(kind, lines, lines.offset(line, character))
    if kind in MARKDOWN_KINDS:
        return _frontmatter(kind, lines, line, character)
    return []


# -- JSON ---------------------------------------------------------------------------------------

def _json(kind: str, lines: Lines, offset: int) -> list[Candidate]:
    text = lines.text
    cursor = jsonscan.scan(text, offset)
    if cursor.where is None or cursor.container == "top":
        return []
    root = schemas.root(SCHEMAS[kind])
    container = root.at(cursor.pointer)
    if container is None:
        return []
    line = _line_of(lines, offset)
    start, end = cursor.start - lines.starts[line], cursor.end - lines.starts[line]
    colon_follows = jsonscan.next_char(text, cursor.end) == ":"
    if cursor.where == "key":
        if cursor.container != "object":
            return []
        events = container.is_same(schemas.hooks_def("hooksObject"))
        out = []
        for name, prop in container.properties().items():
            if name in cursor.siblings:
                continue
            key = name + '"' if cursor.quoted else schemas.literal(name)
            out.append(Candidate(name, "key", "hook event" if events else prop.type_text(), prop.description,
                                 key if colon_follows else key + ": ", (start, end)))
        return out
    node = container.child(cursor.member)
    if node is None:
        return []
    if cursor.member == "matcher" and container.is_same(schemas.hooks_def("matcherGroup")) and len(cursor.pointer) >= 2:
        event = cursor.pointer[-2]
        suggestions: list[tuple[object, str]] = [(value, doc) for value, doc in MATCHERS.get(str(event), ())]
    else:
        values, _ = node.values()
        suggestions = [(value, node.description) for value in values]
    out = []
    for value, doc in suggestions:
        if cursor.quoted:
            if not isinstance(value, str):
                continue
            insert = value + '"'
        else:
            insert = schemas.literal(value)
        out.append(Candidate(schemas.yaml_literal(value), "value", str(cursor.member), doc, insert, (start, end)))
    return out


def _line_of(lines: Lines, offset: int) -> int:
    lo, hi = 0, len(lines.starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if lines.starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


# -- frontmatter ----------------------------------------------------------------------------------

def _frontmatter(kind: str, lines: Lines, line: int, character: int) -> list[Candidate]:
    block = markdown.frontmatter_lines(lines)
    if block is None or line not in block:
        return []
    text = lines.line(line)
    character = max(0, min(character, len(text)))
    before = text[:character]
    root = schemas.root(SCHEMAS[kind])
    word_end = _word_end(text, character)
    if all(c.isalnum() or c in "_-" for c in before):
        # The start of a line: a key.
        present = markdown.present_keys(lines, block, skip=line)
        colon_follows = text[word_end:].lstrip(" \t").startswith(":")
        return [Candidate(name, "key", node.type_text(), node.description, name if colon_follows else name + ": ",
                          (0, word_end))
                for name, node in root.properties().items() if name not in present]
    match = markdown.KEY_LINE.match(before)
    if match is None:
        return []
    rest = before[match.end():]
    typed = rest.lstrip(" \t")
    if any(c.isspace() for c in typed):
        return []
    node = root.properties().get(match.group(1))
    if node is None:
        return []
    values, _ = node.values()
    space = "" if rest[:1] in (" ", "\t") else " "
    start = character - len(typed)
    return [Candidate(schemas.yaml_literal(value), "value", match.group(1), node.description,
                      space + schemas.yaml_literal(value), (start, word_end))
            for value in values]


def _word_end(text: str, index: int) -> int:
    while index < len(text) and not text[index].isspace() and text[index] != ":":
        index += 1
    return index

"""Memory: the CLAUDE.md files Claude Code puts in front of every conversation, found and read the way
Claude Code 2.1.328 reads them.

Which files, in this order:
- the user's: `CLAUDE.md` and `rules/**/*.md` in `~/.claude` (or `CLAUDE_CONFIG_DIR`);
- for each folder from the home folder down to the workspace: `CLAUDE.md`, `.claude/CLAUDE.md`,
  `.claude/rules/**/*.md` and `CLAUDE.local.md`. Claude Code goes on up to `/`; a folder above the
  home folder is neither the user's nor the workspace's (anyone may write to /tmp), so skillway stops
  at the home folder, and reads no parent folders of a workspace outside it.
A rule whose frontmatter has `paths` is for those files only: it is not read up front.

Each file is followed by the files it imports, depth first; a file reached twice is read the first
time only, so cycles end by themselves. An import is `@path` at the start of a line or after white
space (`\\ ` for a space in the path): relative to the file holding it, `@~/...` from the home folder,
or absolute. Imports inside code spans and fenced code blocks are text, and HTML comments that fill
whole lines are dropped before anything else (as Claude Code drops them); so is frontmatter. Only text
files are imported (a text extension, or none); imports nest up to 5 levels, the memory file being the
first; a target that is not there is skipped without a word, as Claude Code skips it.

skillway's own limits: nothing is read outside the workspace and the home folder (symlinks followed),
nor a file that looks like a secret; until the workspace is trusted, the project's files (all but the
user's own) read only below the folder they belong to (Claude Code, likewise, asks before a project's
memory imports files from outside it). Each file is cut at MAX_FILE_CHARS and all of them together
at MAX_TOTAL_CHARS; every refusal is a warning naming the file and line.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import yaml

from skillway.core.paths import Walk, is_dir, is_file, markdown_tree, real_path
from skillway.core.problems import Problem, warning
from skillway.core.secrets import is_secret_file
from skillway.settings.dirs import claude_user_dir, home_dir

log = logging.getLogger(__name__)

MAX_LEVELS = 5  # a memory file and four levels of imports below it, as deep as Claude Code goes
MAX_FILE_CHARS = 40_000  # Claude Code warns that a memory file larger than this slows every request
MAX_TOTAL_CHARS = 100_000  # about 25,000 tokens in front of every request; beyond it files are left out

# Files an import may name: Claude Code imports text files only (`.md`, `.txt`, `.py`, none; not `.png`).
_TEXT_SUFFIXES = frozenset("""
    .md .markdown .mdx .txt .text .rst .adoc .asciidoc .org .tex .json .jsonc .json5 .yaml .yml .toml .ini .cfg
    .conf .properties .xml .html .htm .css .scss .sass .less .csv .tsv .sql .graphql .gql .proto .sh .bash .zsh
    .fish .ps1 .bat .cmd .py .pyi .js .jsx .ts .tsx .mjs .cjs .mts .cts .vue .svelte .astro .java .kt .kts .scala
    .groovy .gradle .go .rs .rb .php .pl .pm .lua .r .swift .m .mm .c .h .cc .cpp .cxx .hpp .hh .cs .fs .ex .exs
    .erl .hrl .hs .ml .mli .clj .cljs .dart .elm .nim .zig .jl .tf .hcl .nix .cmake .mk .dockerfile .diff .patch
""".split())
_IMPORT = re.compile(r"(?<!\S)@((?:\\.|[^\s\\])+)")
_ESCAPE = re.compile(r"\\(.)")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class Scope(enum.Enum):
    """Whose a memory file is; what the model is told about it."""

    USER = "the user's own, for every project"
    PROJECT = "the project's, checked in"
    LOCAL = "the user's own for this project, not checked in"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class MemoryFile:
    path: Path  # where it was found (an import: the path it names, resolved)
    scope: Scope  # an import has the scope of the file that imports it
    text: str  # without frontmatter and whole-line HTML comments; cut at the limits with a note

    @property
    def label(self) -> str:
        return self.scope.label


@dataclass
class Memory:
    files: list[MemoryFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    held_back: int = 0  # imports that wait for the workspace to be trusted

    @property
    def chars(self) -> int:
        return sum(len(file.text) for file in self.files)


def load_memory(workspace: Path, *, trusted: bool, home: Path | None = None, user_dir: Path | None = None) -> Memory:
    """The memory of a session in `workspace`. `home` and `user_dir` default to the user's
    (`Path.home()`, `~/.claude` or CLAUDE_CONFIG_DIR)."""
    home = home if home is not None else home_dir()
    user_dir = user_dir if user_dir is not None else claude_user_dir()
    reader = _Reader(workspace, home, user_dir, trusted)
    if user_dir is not None:
        reader.add(user_dir / "CLAUDE.md", Scope.USER, None)
        reader.add_rules(user_dir / "rules", Scope.USER, None)
    for folder in reader.folders():
        reader.add(folder / "CLAUDE.md", Scope.PROJECT, folder)
        reader.add(folder / ".claude" / "CLAUDE.md", Scope.PROJECT, folder)
        reader.add_rules(folder / ".claude" / "rules", Scope.PROJECT, folder)
        reader.add(folder / "CLAUDE.local.md", Scope.LOCAL, folder)
    return reader.memory


class _Reader:
    def __init__(self, workspace: Path, home: Path | None, user_dir: Path | None, trusted: bool) -> None:
        self.workspace = real_path(workspace) or workspace
        self.home = real_path(home) if home is not None else None
        # The places anything may be read from: the workspace and the user's own folders.
        self.roots = [self.workspace] + [r for r in (self.home, real_path(user_dir) if user_dir else None) if r]
        self.trusted = trusted
        self.memory = Memory()
        self.seen: set[Path] = set()

    def folders(self) -> list[Path]:
        """The workspace and its parents up to the home folder (when it lies below it), highest first."""
        if self.home is None or not self.workspace.is_relative_to(self.home):
            return [self.workspace]
        return [p for p in reversed(self.workspace.parents) if p.is_relative_to(self.home)] + [self.workspace]

    def add_rules(self, folder: Path, scope: Scope, base: Path | None) -> None:
        real = real_path(folder)
        if real is None or not is_dir(real):
            return
        # Linked folders are followed while they stay where this file's reads may go; each file is checked again.
        boundary = base if scope is not Scope.USER and not self.trusted and base is not None else next(
            (root for root in self.roots if real.is_relative_to(root)), real)
        walk = Walk(boundary, "folder its memory may read")
        found = markdown_tree(folder, walk)
        self.memory.problems += walk.problems
        for item in found:
            self.add(item.path, scope, base, rule=True)

    def add(self, path: Path, scope: Scope, base: Path | None, *, depth: int = 1, rule: bool = False,
            imported: bool = False) -> None:
        """Read the memory file at `path`, then what it imports. `base`: the folder a project's file
        belongs to (None: the user's). An `imported` file has been checked by `follow`."""
        real = real_path(path)
        if real is None or real in self.seen or not is_file(real):
            return
        if not imported:
            refused = self.refusal(real, scope, base) or (
                "looks like a secret file; it is not read" if is_secret_file(real) else None)
            if refused is not None:
                self.memory.problems.append(warning(path, f"this memory file (a link to {real}) {refused}"
                                                    if real != path else f"this memory file {refused}"))
                return
        self.seen.add(real)
        text = _read(real, self.memory.problems, path)
        if text is None or (rule and _conditional(text)):
            return  # a rule for some paths only applies when those files are read: not up front
        kept, cut = _within(_visible(text), min(MAX_FILE_CHARS, MAX_TOTAL_CHARS - self.memory.chars))
        body = "".join(line for _, line, _ in kept).strip("\n")
        if cut and not body.strip():
            self.memory.problems.append(warning(path, f"memory is over {MAX_TOTAL_CHARS:,} characters in all; "
                                                "this file is left out"))
            return
        if cut:
            limit = "its limit" if len(body) >= MAX_FILE_CHARS else "the limit for all memory files"
            self.memory.problems.append(warning(path, f"memory file cut at {len(body):,} characters ({limit})"))
            body += f"\n[skillway cut this file here: {limit} is reached]"
        if body.strip():
            self.memory.files.append(MemoryFile(real if imported else path, scope, body))
        for line, written in _imports(kept):
            self.follow(path, line, written, scope, base, depth)

    def follow(self, holder: Path, line: int, written: str, scope: Scope, base: Path | None, depth: int) -> None:
        target = _target(holder, written, self.home)
        real = real_path(target) if target is not None else None
        if target is None or real is None:
            return
        refused = self.refusal(real, scope, base) or (
            "looks like a secret file; it is not read" if is_secret_file(target) or is_secret_file(real) else None)
        if refused is not None:
            self.memory.problems.append(warning(holder, f'import "@{written}" {refused}', line))
        elif not _is_text_name(real.name) or real in self.seen or not is_file(real):
            log.debug("%s:%d: @%s skipped: not a text file, read already, or not there", holder, line, written)
        elif depth >= MAX_LEVELS:
            self.memory.problems.append(warning(
                holder, f'import "@{written}" is more than {MAX_LEVELS} levels of imports deep; it is not read', line))
        else:
            self.add(target, scope, base, depth=depth + 1, imported=True)

    def refusal(self, real: Path, scope: Scope, base: Path | None) -> str | None:
        """Why `real` may not be read for a file of `scope` that belongs to `base`, or None."""
        if not any(real.is_relative_to(root) for root in self.roots):
            return "leaves the workspace and the home folder; it is not read"
        if scope is not Scope.USER and base is not None and not self.trusted and not real.is_relative_to(base):
            self.memory.held_back += 1
            where = "the workspace" if base == self.workspace else str(base)
            return f"reads outside {where}, which waits until you trust the workspace (`skillway trust`)"
        return None


def _target(holder: Path, written: str, home: Path | None) -> Path | None:
    if written == "~" or written.startswith("~/"):
        return home / written[2:] if home is not None else None
    path = Path(written)
    return path if path.is_absolute() else holder.parent / path


def _is_text_name(name: str) -> bool:
    suffix = PurePath(name).suffix.lower()
    return suffix in _TEXT_SUFFIXES if suffix else not name.endswith(".")


def _read(real: Path, problems: list[Problem], shown: Path) -> str | None:
    try:
        with real.open("rb") as stream:
            data = stream.read(MAX_FILE_CHARS * 4 + 4)  # enough for MAX_FILE_CHARS of any UTF-8 text
    except OSError as exc:
        problems.append(warning(shown, f"cannot read memory file: {exc.strerror or exc}"))
        return None
    if b"\x00" in data:
        log.debug("%s is binary; not read as memory", shown)
        return None
    return data.decode("utf-8-sig", errors="replace")


def _frontmatter_end(lines: list[str]) -> int:
    """The index of the first line after a frontmatter block (0 when there is none)."""
    if not lines or lines[0].rstrip("\r\n") != "---":
        return 0
    return next((i + 1 for i in range(1, len(lines)) if lines[i].rstrip("\r\n") == "---"), 0)


def _conditional(text: str) -> bool:
    """Whether a rule's frontmatter limits it to some paths."""
    lines = text.splitlines(keepends=True)
    end = _frontmatter_end(lines)
    if not end:
        return False
    try:
        values = yaml.safe_load("".join(lines[1:end - 1]))
    except yaml.YAMLError:
        return False
    return isinstance(values, dict) and bool(values.get("paths"))


def _visible(text: str) -> list[tuple[int, str, bool]]:
    """(line number, line, inside a fenced code block) for the lines the model sees: frontmatter
    and HTML comments that fill whole lines are dropped (not inside code blocks)."""
    lines = text.splitlines(keepends=True)
    kept: list[tuple[int, str, bool]] = []
    fence: str | None = None
    index = _frontmatter_end(lines)
    while index < len(lines):
        line = lines[index]
        if fence is None and line.lstrip().startswith("<!--"):
            end = _comment_end(lines, index)
            if end is not None:
                index = end + 1
                continue
        marker = _FENCE.match(line)
        if fence is None and marker:
            fence = marker.group(1)
            kept.append((index + 1, line, True))
        elif fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence) \
                    and not line.strip().lstrip(fence[0]):
                fence = None
            kept.append((index + 1, line, True))
        else:
            kept.append((index + 1, line, False))
        index += 1
    return kept


def _comment_end(lines: list[str], start: int) -> int | None:
    """The index of the line closing the comment opened on `lines[start]`, when nothing but white
    space follows its `-->`; None when the comment shares a line with text or is never closed."""
    offset = lines[start].index("<!--") + 4
    for index in range(start, len(lines)):
        close = lines[index].find("-->", offset if index == start else 0)
        if close >= 0:
            return index if not lines[index][close + 3:].strip() else None
    return None


def _within(lines: list[tuple[int, str, bool]], budget: int) -> tuple[list[tuple[int, str, bool]], bool]:
    """The lines that fit in `budget` characters (the last one cut), and whether any were cut."""
    kept, used = [], 0
    for number, line, code in lines:
        if used + len(line) > budget:
            if budget - used > 0:
                kept.append((number, line[: budget - used], code))
            return kept, True
        kept.append((number, line, code))
        used += len(line)
    return kept, False


def _imports(lines: list[tuple[int, str, bool]]) -> Iterator[tuple[int, str]]:
    """(line number, path as written) for each `@path` outside code."""
    for number, line, code in lines:
        if code:
            continue
        for written in _IMPORT.findall(_CODE_SPAN.sub(" ", line)):
            yield number, _ESCAPE.sub(r"\1", written)

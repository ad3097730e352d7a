"""Paths named by a plugin must stay inside the plugin's root, and walks of its folders are bounded.

A walk follows a symlinked folder only while it stays inside the root, walks each real folder once
(a link back to a folder being walked is a loop) and stops at a depth and an entry count. Nothing a
folder holds (a link to `/`, an unreadable entry) raises: why anything was skipped is a Problem.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from skillway.core.problems import Problem, error, warning

# The bounds of one walk of a component folder. Real plugins nest commands two or three folders deep
# and hold hundreds of files; these leave room for far more, yet stop a generated or linked tree long
# before loading keeps the editor waiting.
MAX_DEPTH = 16
MAX_ENTRIES = 10_000


def inside(root: Path, path: Path) -> bool:
    """True when `path`, with symlinks followed, is `root` or below it."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def real_path(path: Path) -> Path | None:
    """`path` with symlinks followed, or None when that cannot be found out (an unreadable folder)."""
    try:
        return Path(os.path.realpath(path))  # a loop is left unresolved rather than raised
    except (OSError, ValueError):
        return None


def is_file(path: Path) -> bool:
    """`Path.is_file`, false too when `path` cannot be looked at."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    """`Path.is_dir`, false too when `path` cannot be looked at."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """`Path.exists`, false too when `path` cannot be looked at."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def resolve_declared(root: Path, declared: str) -> tuple[Path | None, str | None]:
    """Resolve a path written in a manifest. Returns (path, None) or (None, why it is refused)."""
    if not declared.strip():
        return None, "an empty path"
    candidate = Path(declared)
    if candidate.is_absolute() or declared.startswith("~"):
        return None, f'path "{declared}" is absolute; plugin paths are relative to the plugin root'
    full = root / candidate
    if not inside(root, full):
        return None, f'path "{declared}" leaves the plugin root'
    return full, None


class Found(NamedTuple):
    path: Path
    linked: bool  # a symlink was followed on the way: the real place must be checked
    name: str = ""  # the local name made of sub-folders (frontend:component)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class Walk:
    """One bounded walk of folders below `root` (a real path); `problems` says what it skipped and why.

    `boundary` names the root in problems ("plugin root", ".claude folder").
    """

    def __init__(self, root: Path, boundary: str = "plugin root") -> None:
        self.root = real_path(root) or root
        self.boundary = boundary
        self.problems: list[Problem] = []
        self.entries = 0
        self.stopped = False  # the entry bound was hit: nothing more is listed
        self._visited: set[tuple[int, int]] = set()  # (st_dev, st_ino) of every folder walked
        self._open: set[tuple[int, int]] = set()  # the folders being walked: a link to one is a loop

    def start(self, top: Path) -> tuple[int, int] | None:
        """Begin at `top`, a folder; None (and the problem) when it cannot be walked."""
        real = real_path(top)
        if real is None:
            self.problems.append(warning(top, "cannot follow this path; it is skipped"))
            return None
        if not real.is_relative_to(self.root):
            self.problems.append(error(top, f"folder leaves the {self.boundary} through a symlink "
                                            f"(to {real}); it is not followed"))
            return None
        return self._enter(top, lambda: os.stat(top))

    def enter(self, path: Path, entry: os.DirEntry, depth: int) -> tuple[int, int] | None:
        """Enter the sub-folder `path` (`entry`), `depth` folders below the top: its key, to `leave`
        it by, or None when it is not walked (too deep, leaves the root, a loop, walked already)."""
        if depth > MAX_DEPTH:
            self.problems.append(warning(path, f"folder is more than {MAX_DEPTH} folders deep; it is not loaded"))
            return None
        if entry.is_symlink():
            real = real_path(path)
            if real is None:
                self.problems.append(warning(path, "cannot follow this symlink; it is skipped"))
                return None
            if not real.is_relative_to(self.root):
                self.problems.append(error(path, f"folder leaves the {self.boundary} through a symlink "
                                                 f"(to {real}); it is not followed"))
                return None
        return self._enter(path, entry.stat)

    def leave(self, key: tuple[int, int]) -> None:
        self._open.discard(key)

    def _enter(self, path: Path, stat_of) -> tuple[int, int] | None:
        try:
            info = stat_of()
        except OSError as exc:
            self.problems.append(warning(path, f"cannot read folder: {_reason(exc)}; it is skipped"))
            return None
        key = (info.st_dev, info.st_ino)
        if key in self._open:
            self.problems.append(warning(path, "symlink loop: this leads back to a folder being walked; it is not followed"))
            return None
        if key in self._visited:
            return None  # reached again by another link: its files are loaded once anyway
        self._visited.add(key)
        self._open.add(key)
        return key

    def listing(self, folder: Path) -> list[tuple[os.DirEntry, bool]]:
        """(entry, is a folder) for each entry of `folder`, sorted by name; bounded by MAX_ENTRIES."""
        if self.stopped:
            return []
        entries = []
        try:
            with os.scandir(folder) as scan:
                for entry in scan:
                    self.entries += 1
                    if self.entries > MAX_ENTRIES:
                        self.stopped = True
                        self.problems.append(warning(
                            folder, f"more than {MAX_ENTRIES} entries to walk; this folder and the rest are not loaded"))
                        return []
                    entries.append(entry)
        except OSError as exc:
            self.problems.append(warning(folder, f"cannot read folder: {_reason(exc)}; it is skipped"))
            return []
        listed = []
        for entry in sorted(entries, key=lambda e: e.name):
            try:
                entry.is_symlink()  # asked now, so that later asks are answered from the cache
                listed.append((entry, entry.is_dir()))
            except OSError as exc:
                self.problems.append(warning(folder / entry.name, f"cannot read: {_reason(exc)}; it is skipped"))
        return listed


# Walking with scandir tells symlinks apart for free, so only linked files need a realpath(): a
# folder of thousands of skills is validated without resolving every file.

def markdown_tree(folder: Path, walk: Walk | None = None) -> list[Found]:
    """`.md` files below `folder` (resolved), sorted, named by their sub-folders."""
    walk = walk or Walk(folder)
    found: list[Found] = []

    def visit(here: Path, linked: bool, parts: tuple[str, ...]) -> None:
        for entry, is_folder in walk.listing(here):
            via_link = linked or entry.is_symlink()
            if is_folder:
                if entry.name.startswith("."):  # hidden folders are not components
                    continue
                key = walk.enter(here / entry.name, entry, len(parts) + 1)
                if key is not None:
                    visit(here / entry.name, via_link, parts + (entry.name,))
                    walk.leave(key)
            elif entry.name.endswith(".md"):
                found.append(Found(here / entry.name, via_link, ":".join(parts + (entry.name[:-3],))))

    top = walk.start(folder)
    if top is not None:
        visit(folder, False, ())
        walk.leave(top)
    return found


def files_in_subfolders(folder: Path, file_name: str, walk: Walk | None = None) -> list[Found]:
    """`folder/*/file_name` (resolved `folder`), sorted: one lstat per candidate."""
    walk = walk or Walk(folder)
    found: list[Found] = []
    top = walk.start(folder)
    if top is None:
        return found
    for entry, is_folder in walk.listing(folder):
        if not is_folder or (key := walk.enter(folder / entry.name, entry, 1)) is None:
            continue
        walk.leave(key)
        path = folder / entry.name / file_name
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            walk.problems.append(warning(path, f"cannot read: {_reason(exc)}; it is skipped"))
            continue
        if stat.S_ISREG(mode) or (stat.S_ISLNK(mode) and is_file(path)):
            found.append(Found(path, entry.is_symlink() or stat.S_ISLNK(mode), entry.name))
    walk.leave(top)
    return found

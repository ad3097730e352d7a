"""Paths named by a plugin must stay inside the plugin's root."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple


def inside(root: Path, path: Path) -> bool:
    """True when `path`, with symlinks followed, is `root` or below it."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
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


# Walking with scandir tells symlinks apart for free, so only linked files need a realpath(): a
# folder of thousands of skills is validated without resolving every file.

def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        return sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []


def markdown_tree(folder: Path, linked: bool = False, parts: tuple[str, ...] = ()) -> list[Found]:
    """`.md` files below `folder` (resolved), sorted, named by their sub-folders."""
    found: list[Found] = []
    for entry in _entries(folder):
        via_link = linked or entry.is_symlink()
        if entry.is_dir():
            # Hidden folders are not components; link loops stop at a sane depth.
            if not entry.name.startswith(".") and len(parts) < 16:
                found += markdown_tree(folder / entry.name, via_link, parts + (entry.name,))
        elif entry.name.endswith(".md"):
            found.append(Found(folder / entry.name, via_link, ":".join(parts + (entry.name[:-3],))))
    return found


def files_in_subfolders(folder: Path, file_name: str) -> list[Found]:
    """`folder/*/file_name` (resolved `folder`), sorted: one lstat per candidate."""
    found: list[Found] = []
    for entry in _entries(folder):
        if not entry.is_dir():
            continue
        path = folder / entry.name / file_name
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) or (stat.S_ISLNK(mode) and path.is_file()):
            found.append(Found(path, entry.is_symlink() or stat.S_ISLNK(mode), entry.name))
    return found

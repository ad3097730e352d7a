"""Paths named by a plugin must stay inside the plugin's root."""

from __future__ import annotations

from pathlib import Path


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

"""Where installed plugins and known marketplaces live in the user's data folder, and the two JSON
files that list them. The layout is Claude Code's `~/.claude/plugins/`, in the data folder's
`plugin-installs/` (its `plugins/` holds each plugin's own data folder, `${CLAUDE_PLUGIN_DATA}`,
where a plugin named "cache" would meet the cache):

    known_marketplaces.json                  name -> source, installLocation, commit
    marketplaces/<marketplace>/              a marketplace's clone
    cache/<marketplace>/<plugin>/<commit>/   one installed plugin, at one commit
    installed_plugins.json                   {"version": 2, "plugins": {"plugin@marketplace": [record]}}

Both files are rewritten whole through a temporary file and os.replace: a reader sees the old
content or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillway.core.paths import inside
from skillway.core.problems import Problem, warning
from skillway.settings import data_dir

INSTALLED_FORMAT = 2  # the "version" of Claude Code's installed_plugins.json
_UNSAFE_IN_FOLDER_NAME = re.compile(r"[^A-Za-z0-9._-]")


class RegistryError(Exception):
    """A registry file cannot be read or written; the message names it."""


def folder_name(name: str) -> str | None:
    """`name` (of a plugin or a marketplace) made safe as one folder name, or None when nothing
    safe is left of it ("", ".", "..")."""
    safe = _UNSAFE_IN_FOLDER_NAME.sub("-", name)
    return None if not safe.strip(".") else safe


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class KnownMarketplace:
    name: str
    # {"source": "github", "repo"} | {"source": "git", "url"} | {"source": "directory", "path"}
    source: dict[str, str]
    location: Path  # the clone, or the folder itself for a directory source
    last_updated: str
    commit: str | None = None  # None for a directory source: it is read in place

    @property
    def is_clone(self) -> bool:
        return self.source.get("source") != "directory"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "installLocation": str(self.location), "lastUpdated": self.last_updated}
        if self.commit:
            data["gitCommitSha"] = self.commit
        return data


@dataclass(frozen=True)
class InstalledPlugin:
    plugin: str  # the marketplace entry's name
    marketplace: str
    path: Path
    commit: str | None
    version: str | None
    installed_at: str
    last_updated: str
    definition: dict[str, Any] | None = None  # the entry, when it is the whole definition (strict: false)

    @property
    def install_id(self) -> str:
        return f"{self.plugin}@{self.marketplace}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"scope": "user", "installPath": str(self.path), "version": self.version,
                                "installedAt": self.installed_at, "lastUpdated": self.last_updated}
        if self.commit:
            data["gitCommitSha"] = self.commit
        if self.definition is not None:
            data["definition"] = self.definition
        return data


class PluginsHome:
    """The `plugin-installs/` folder of the data folder: its paths, and its two registry files."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir() / "plugin-installs"
        self.marketplaces_file = self.root / "known_marketplaces.json"
        self.installed_file = self.root / "installed_plugins.json"
        self.cache = self.root / "cache"

    def marketplace_folder(self, name: str) -> Path:
        return self.root / "marketplaces" / name

    def cache_folder(self, marketplace: str, plugin: str, version: str) -> Path:
        return self.cache / marketplace / plugin / version

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder on the same file system as the cache (so that moving out of it is a
        rename), removed with whatever is left in it however the block ends."""
        parent = self.root / ".staging"
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=parent))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):  # another install's staging is still in it
                parent.rmdir()

    # --- known_marketplaces.json --------------------------------------------------------------

    def read_marketplaces(self, *, strict: bool = False) -> tuple[dict[str, KnownMarketplace], list[Problem]]:
        """The known marketplaces, and why any record was left out. `strict`: a file that cannot
        be read raises RegistryError (before a change: writing it back would lose what it held)."""
        data, problems = _read_object(self.marketplaces_file, strict)
        found: dict[str, KnownMarketplace] = {}
        for name, raw in data.items():
            source = raw.get("source") if isinstance(raw, dict) else None
            location = raw.get("installLocation") if isinstance(raw, dict) else None
            if not (isinstance(source, dict) and isinstance(location, str) and folder_name(name) == name):
                problems.append(warning(self.marketplaces_file,
                                        f'marketplace "{name}" has no usable source or location; it is ignored'))
                continue
            commit = raw.get("gitCommitSha")
            found[name] = KnownMarketplace(name, source, Path(location), str(raw.get("lastUpdated") or ""),
                                           commit if isinstance(commit, str) else None)
        return found, problems

    def write_marketplaces(self, marketplaces: dict[str, KnownMarketplace]) -> None:
        _write_atomically(self.marketplaces_file, {name: m.to_json() for name, m in sorted(marketplaces.items())})

    # --- installed_plugins.json ---------------------------------------------------------------

    def read_installed(self, *, strict: bool = False) -> tuple[dict[str, InstalledPlugin], list[Problem]]:
        """The installed plugins, and why any record was left out; `strict` as for read_marketplaces."""
        data, problems = _read_object(self.installed_file, strict)
        plugins = data.get("plugins", {})
        found: dict[str, InstalledPlugin] = {}
        for install_id, records in plugins.items() if isinstance(plugins, dict) else ():
            plugin, _, marketplace = install_id.rpartition("@")
            raw = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else None
            path = raw.get("installPath") if raw else None
            # A record only ever points into the cache: a path elsewhere was not written by an install.
            if not (plugin and marketplace and isinstance(path, str) and inside(self.cache, Path(path))):
                problems.append(warning(self.installed_file,
                                        f'installed plugin "{install_id}" has no usable record; it is ignored'))
                continue
            assert raw is not None  # a path was found in it
            commit, version, definition = raw.get("gitCommitSha"), raw.get("version"), raw.get("definition")
            found[install_id] = InstalledPlugin(
                plugin, marketplace, Path(path), commit if isinstance(commit, str) else None,
                version if isinstance(version, str) else None, str(raw.get("installedAt") or ""),
                str(raw.get("lastUpdated") or ""), definition if isinstance(definition, dict) else None)
        return found, problems

    def write_installed(self, installed: dict[str, InstalledPlugin]) -> None:
        _write_atomically(self.installed_file, {
            "version": INSTALLED_FORMAT,
            "plugins": {install_id: [record.to_json()] for install_id, record in sorted(installed.items())},
        })


def _read_object(path: Path, strict: bool) -> tuple[dict[str, Any], list[Problem]]:
    why = None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            why = "must be a JSON object"
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        why = f"cannot read: {exc.strerror or exc}"
    except ValueError as exc:
        why = f"not valid JSON ({exc})"
    if why is None:
        return data, []
    if strict:
        raise RegistryError(f"{path}: {why}; fix or remove it first")
    return {}, [warning(path, f"{why}; what it lists is not loaded")]


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=2)
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise RegistryError(f"cannot write {path}: {exc.strerror or exc}") from None

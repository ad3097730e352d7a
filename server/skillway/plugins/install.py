"""Installs a plugin listed by a known marketplace into the cache, pinned at one commit; moves it to
the newest commit; uninstalls it.

The plugin's files are fetched into a staging folder (a copy of a `./` source from the marketplace's
clone, or a clone of a github, url or git-subdir source), checked to load, and only then renamed
into `cache/<marketplace>/<plugin>/<commit>/` and recorded: a fetch that fails leaves nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from skillway.core import git
from skillway.core.paths import is_dir, real_path, resolve_declared
from skillway.core.problems import Problem, has_error
from skillway.plugins import known_marketplaces
from skillway.plugins.known_marketplaces import github_url
from skillway.plugins.loader import load_plugin
from skillway.plugins.marketplace import Marketplace
from skillway.plugins.model import MarketplaceEntry, Source
from skillway.plugins.registry import InstalledPlugin, KnownMarketplace, PluginsHome, RegistryError, folder_name, now

UNVERSIONED = "local"  # the cache folder of a plugin from a directory marketplace with no version


class InstallError(Exception):
    """A plugin cannot be installed, updated or uninstalled; the message says which and why."""


def parse_install_id(text: str) -> tuple[str, str]:
    """(plugin, marketplace) of `plugin@marketplace`."""
    plugin, _, marketplace = text.rpartition("@")
    if not plugin or not marketplace:
        raise InstallError(f'"{text}" is not PLUGIN@MARKETPLACE (see: skillway plugins marketplace list)')
    return plugin, marketplace


async def install(home: PluginsHome, install_id: str) -> InstalledPlugin:
    plugin, marketplace = parse_install_id(install_id)
    installed = _read_installed(home)
    if install_id in installed:
        raise InstallError(f"{install_id} is already installed (at {_short(installed[install_id])}); "
                           f"to move it to the newest commit: skillway plugins update {install_id}")
    known = _find_marketplace(home, marketplace)
    try:
        return await _install_entry(home, known, plugin, None)
    except OSError as exc:
        raise InstallError(f"cannot install {install_id}: {_os_reason(exc)}") from None


async def update(home: PluginsHome, install_id: str) -> tuple[InstalledPlugin, InstalledPlugin]:
    """Move an installed plugin to the newest commit its marketplace entry names: (before, after).
    The marketplace is brought up to date first, since its entry may have changed (a new ref or sha)."""
    plugin, marketplace = parse_install_id(install_id)
    before = _read_installed(home).get(install_id)
    if before is None:
        raise InstallError(f"{install_id} is not installed")
    known = _find_marketplace(home, marketplace)
    if known.is_clone:
        try:
            known = (await known_marketplaces.update(home, marketplace))[1]
        except known_marketplaces.MarketplaceError as exc:
            raise InstallError(f"cannot update {install_id}: {exc}") from None
    try:
        return before, await _install_entry(home, known, plugin, before)
    except OSError as exc:
        raise InstallError(f"cannot update {install_id}: {_os_reason(exc)}") from None


def uninstall(home: PluginsHome, install_id: str) -> InstalledPlugin:
    """Remove the record, then the folder: a removal cut short leaves a folder nothing refers to."""
    installed = _read_installed(home)
    record = installed.pop(install_id, None)
    if record is None:
        raise InstallError(f"{install_id} is not installed")
    _write_installed(home, installed)
    _remove_version(home, record.path)
    return record


@dataclass(frozen=True)
class _Fetched:
    tree: Path  # the plugin's files, in the staging folder
    commit: str | None  # None: a directory marketplace, read in place, pins nothing


async def _install_entry(home: PluginsHome, known: KnownMarketplace, plugin: str,
                         before: InstalledPlugin | None) -> InstalledPlugin:
    market = known_marketplaces.load(known)
    entry = _entry(market, plugin, known.name)
    plugin_folder = folder_name(entry.name)
    if plugin_folder is None:
        raise InstallError(f'cannot install "{entry.name}" of marketplace {known.name}: the name cannot be used as a folder name')
    installed_at = before.installed_at if before else now()
    with home.staging() as staging:
        fetched = await _fetch(entry, market, known, staging)
        loaded = load_plugin(fetched.tree, Source.USER, definition=entry.definition, marketplace=known.name)
        if not loaded.loaded:
            raise InstallError(f"cannot install {entry.install_id}: the plugin does not load:\n" + _lines(loaded.problems))
        if before and fetched.commit and fetched.commit == before.commit and is_dir(before.path):
            return before  # up to date: the folder it has is that commit's
        version = loaded.version or entry.version
        target = home.cache_folder(known.name, plugin_folder, fetched.commit or version or UNVERSIONED)
        record = InstalledPlugin(entry.name, known.name, target, fetched.commit, version, installed_at, now(),
                                 entry.definition)
        _place(fetched.tree, target, staging, lambda: _record(home, record))
    if before and before.path != target:
        _remove_version(home, before.path)
    return record


def _entry(market: Marketplace, plugin: str, marketplace: str) -> MarketplaceEntry:
    entry = next((e for e in market.entries if e.name == plugin), None)
    if entry is None and has_error(market.problems) and not market.entries:
        raise InstallError(f"marketplace {marketplace} cannot be read:\n" + _lines(market.problems))
    if entry is None:
        names = ", ".join(e.name for e in market.entries) or "none"
        raise InstallError(f'marketplace {marketplace} has no plugin named "{plugin}" (it lists: {names})')
    return entry


async def _fetch(entry: MarketplaceEntry, market: Marketplace, known: KnownMarketplace, staging: Path) -> _Fetched:
    what = f'cannot install {entry.install_id} (entry "{entry.name}" of marketplace {known.name})'
    tree = staging / "plugin"
    if isinstance(entry.source, str):
        local = market.local.get(entry.install_id)
        if local is None:  # the marketplace said why when it was read
            raise InstallError(f"{what}: its source is not usable:\n" + _lines(market.problems))
        _copy_plugin(local[0], tree)
        return _Fetched(tree, known.commit)
    source = entry.source
    kind, subfolder = source.get("source"), None
    if kind == "github":
        url = github_url(str(source.get("repo", "")))
        if url is None:
            raise InstallError(f'{what}: "repo" must be a GitHub owner/repo, not {source.get("repo")!r}')
    elif kind in ("url", "git-subdir"):
        url = source.get("url")
        if not isinstance(url, str) or not url or url.startswith("-"):
            raise InstallError(f'{what}: "url" must be a git URL, not {url!r}')
        if kind == "git-subdir":
            subfolder = source.get("path")
            if why := _refused_subfolder(subfolder):
                raise InstallError(f"{what}: {why}")
    else:
        raise InstallError(f'{what}: a "{kind}" source cannot be installed (github, url, git-subdir and ./ sources can)')
    clone = staging / "clone"
    try:
        commit = await git.clone(url, clone, ref=source.get("ref"), commit=source.get("sha"))
    except git.GitError as exc:
        raise InstallError(f"{what}: git clone of {git.without_credentials(url)} failed: {exc}") from None
    if subfolder is None:
        shutil.rmtree(clone / ".git")
        clone.rename(tree)
        return _Fetched(tree, commit)
    declared, refused = resolve_declared(clone, subfolder)
    folder = real_path(declared) if declared else None  # a linked sub-folder moves as its real folder
    if folder is None or not is_dir(folder):
        raise InstallError(f'{what}: {refused or f"path {subfolder!r} is not a folder of {git.without_credentials(url)}"}')
    folder.rename(tree)
    return _Fetched(tree, commit)


def _refused_subfolder(path: object) -> str | None:
    # Checked before cloning, so a path that could only leave the clone costs no download; the
    # clone's own symlinks are checked once it is there (resolve_declared).
    if not isinstance(path, str) or not path.strip():
        return '"path" must name a folder of the repository'
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if path.startswith(("/", "~")) or ".." in parts:
        return f'path "{path}" leaves the repository'
    return None


def _copy_plugin(folder: Path, tree: Path) -> None:
    # Links are copied as links (never their targets' content); the loader refuses any that leave the plugin.
    shutil.copytree(folder, tree, symlinks=True, ignore=shutil.ignore_patterns(".git"))


def _place(tree: Path, target: Path, staging: Path, record: Callable[[], None]) -> None:
    """Rename `tree` to `target` and `record` it; a folder already at `target` (the same commit
    fetched again, or left by an uninstall cut short) is swapped out, and back if recording fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = staging / "replaced"
    if target.exists():
        target.rename(aside)
    tree.rename(target)
    try:
        record()
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        if aside.exists():
            aside.rename(target)
        raise


def _record(home: PluginsHome, record: InstalledPlugin) -> None:
    installed = _read_installed(home)
    installed[record.install_id] = record
    _write_installed(home, installed)


def _remove_version(home: PluginsHome, folder: Path) -> None:
    """Remove one installed version, then the plugin's and the marketplace's cache folders if empty."""
    shutil.rmtree(folder, ignore_errors=True)
    for parent in (folder.parent, folder.parent.parent):
        if parent.is_relative_to(home.cache) and parent != home.cache:
            try:
                parent.rmdir()
            except OSError:  # not empty: another version or plugin lives there
                break


def _find_marketplace(home: PluginsHome, name: str) -> KnownMarketplace:
    try:
        return known_marketplaces.find(home, name)
    except known_marketplaces.MarketplaceError as exc:
        raise InstallError(str(exc)) from None


def _read_installed(home: PluginsHome) -> dict[str, InstalledPlugin]:
    try:
        return home.read_installed(strict=True)[0]
    except RegistryError as exc:
        raise InstallError(str(exc)) from None


def _write_installed(home: PluginsHome, installed: dict[str, InstalledPlugin]) -> None:
    try:
        home.write_installed(installed)
    except RegistryError as exc:
        raise InstallError(str(exc)) from None


def _os_reason(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc.strerror or exc)


def _short(record: InstalledPlugin) -> str:
    return record.commit[:12] if record.commit else record.version or UNVERSIONED


def _lines(problems: list[Problem]) -> str:
    shown = [p for p in problems if p.is_error] if has_error(problems) else problems
    return "\n".join(f"  {p.format()}" for p in shown)

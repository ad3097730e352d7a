"""The marketplaces the user has added: a git repository cloned into the data folder, or a local
folder read in place. Adding, updating (to the newest commit) and removing them.

A marketplace is known by the `name` its marketplace.json declares, as in Claude Code.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

from skillway.core import git
from skillway.core.paths import is_dir, is_file
from skillway.core.problems import Problem, has_error
from skillway.plugins.marketplace import MARKETPLACE_FILE, Marketplace, load_marketplace
from skillway.plugins.registry import KnownMarketplace, PluginsHome, RegistryError, folder_name, now

_GITHUB_SHORTHAND = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:")  # git@github.com:owner/repo.git


class MarketplaceError(Exception):
    """A marketplace cannot be added, updated or removed; the message says which and why."""


def github_url(repo: str) -> str | None:
    """https://github.com/owner/repo.git for `owner/repo`, or None when `repo` is not that shape."""
    return f"https://github.com/{repo.removesuffix('.git')}.git" if _GITHUB_SHORTHAND.match(repo) and ".." not in repo else None


def parse_source(text: str, cwd: Path) -> dict[str, str]:
    """What `marketplace add` was given: a folder, `owner/repo` or a git URL, as a known_marketplaces.json source."""
    folder = Path(text).expanduser()
    folder = folder if folder.is_absolute() else cwd / folder
    if is_dir(folder):
        return {"source": "directory", "path": str(folder.resolve())}
    if github_url(text):
        return {"source": "github", "repo": text.removesuffix(".git")}
    if not text.startswith("-") and ("://" in text or _SCP_LIKE.match(text)):
        return {"source": "git", "url": text}
    raise MarketplaceError(f'"{text}" is not a folder, an owner/repo or a git URL')


def clone_url(source: dict[str, str]) -> str:
    if source["source"] == "github":
        url = github_url(source.get("repo", ""))
        if url is None:
            raise MarketplaceError(f'"{source.get("repo")}" is not a GitHub owner/repo')
        return url
    return source["url"]


def describe(source: dict[str, str]) -> str:
    """A source as a person reads it: github:owner/repo, the URL (without credentials) or the folder."""
    if source.get("source") == "github":
        return f"github:{source.get('repo')}"
    if source.get("source") == "directory":
        return source.get("path", "")
    return git.without_credentials(source.get("url", ""))


def load(known: KnownMarketplace) -> Marketplace:
    return load_marketplace(known.location / MARKETPLACE_FILE)


def read_known(home: PluginsHome) -> dict[str, KnownMarketplace]:
    """The known marketplaces, for a change to them."""
    try:
        return home.read_marketplaces(strict=True)[0]
    except RegistryError as exc:
        raise MarketplaceError(str(exc)) from None


def find(home: PluginsHome, name: str) -> KnownMarketplace:
    known = read_known(home)
    if name not in known:
        names = ", ".join(sorted(known)) or "none"
        raise MarketplaceError(f'no marketplace named "{name}" (known: {names}); '
                               "add it with: skillway plugins marketplace add SOURCE")
    return known[name]


async def add(home: PluginsHome, text: str, cwd: Path) -> tuple[KnownMarketplace, Marketplace]:
    source = parse_source(text, cwd)
    known = read_known(home)
    if source["source"] == "directory":
        location = Path(source["path"])
        market = _readable(location, text)
        name = _new_name(market, known, text)
        added = KnownMarketplace(name, source, location, now())
        _write(home, {**known, name: added})
        return added, market
    url = clone_url(source)
    with home.staging() as staging:
        clone = staging / "clone"
        try:
            commit = await git.clone(url, clone)
        except git.GitError as exc:
            raise MarketplaceError(f"cannot add marketplace {describe(source)}: git clone failed: {exc}") from None
        market = _readable(clone, text)
        name = _new_name(market, known, text)
        location = home.marketplace_folder(name)
        location.parent.mkdir(parents=True, exist_ok=True)
        if location.exists():  # left by a removal that did not finish: nothing refers to it
            shutil.rmtree(location)
        clone.rename(location)
    added = KnownMarketplace(name, source, location, now(), commit)
    try:
        _write(home, {**known, name: added})
    except MarketplaceError:
        shutil.rmtree(location, ignore_errors=True)
        raise
    return added, load(added)


async def update(home: PluginsHome, name: str) -> tuple[KnownMarketplace, KnownMarketplace]:
    """Move the marketplace's clone to the newest commit of its default branch: (before, after).
    A directory source is read in place, so there is nothing to fetch."""
    before = find(home, name)
    if not before.is_clone:
        return before, before
    try:
        commit = await git.fetch_newest(before.location)
    except git.GitError as exc:
        raise MarketplaceError(f"cannot update marketplace {name} ({describe(before.source)}): git fetch failed: {exc}") from None
    after = replace(before, commit=commit, last_updated=now())
    _write(home, {**read_known(home), name: after})
    return before, after


def remove(home: PluginsHome, name: str) -> list[str]:
    """Forget the marketplace, its clone and the plugins installed from it; their install ids.
    The registries change first, so a removal cut short leaves folders nothing refers to, never
    a record of a folder that is gone."""
    marketplace = find(home, name)
    try:
        installed = home.read_installed(strict=True)[0]
    except RegistryError as exc:
        raise MarketplaceError(str(exc)) from None
    removed = sorted(i for i, record in installed.items() if record.marketplace == name)
    try:
        home.write_installed({i: record for i, record in installed.items() if i not in removed})
        home.write_marketplaces({n: m for n, m in read_known(home).items() if n != name})
    except RegistryError as exc:
        raise MarketplaceError(str(exc)) from None
    shutil.rmtree(home.cache / name, ignore_errors=True)
    if marketplace.is_clone:  # a directory source is the user's own folder
        shutil.rmtree(marketplace.location, ignore_errors=True)
    return removed


def _readable(root: Path, given: str) -> Marketplace:
    if not is_file(root / MARKETPLACE_FILE):
        raise MarketplaceError(f"{given} has no {MARKETPLACE_FILE.as_posix()}")
    market = load_marketplace(root / MARKETPLACE_FILE)
    if has_error(market.problems) and not market.entries:  # not even its name and plugins could be read
        raise MarketplaceError(f"{given}: {MARKETPLACE_FILE.as_posix()} has errors:\n" + _lines(market.problems))
    return market


def _new_name(market: Marketplace, known: dict[str, KnownMarketplace], given: str) -> str:
    if folder_name(market.name) != market.name:
        raise MarketplaceError(f'{given}: the marketplace name "{market.name}" cannot be used as a folder name')
    if market.name in known:
        raise MarketplaceError(f'a marketplace named "{market.name}" is already added '
                               f"(from {describe(known[market.name].source)}); remove it first")
    return market.name


def _write(home: PluginsHome, known: dict[str, KnownMarketplace]) -> None:
    try:
        home.write_marketplaces(known)
    except RegistryError as exc:
        raise MarketplaceError(str(exc)) from None


def _lines(problems: list[Problem]) -> str:
    return "\n".join(f"  {p.format()}" for p in problems)

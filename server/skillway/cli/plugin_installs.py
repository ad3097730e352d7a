"""`skillway plugins install|update|uninstall` and `skillway plugins marketplace add|list|update|remove`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from skillway.plugins import install, known_marketplaces
from skillway.plugins.registry import InstalledPlugin, PluginsHome


def run(args: argparse.Namespace, workspace: Path) -> int:
    try:
        return asyncio.run(_run(args, workspace, PluginsHome()))
    except (install.InstallError, known_marketplaces.MarketplaceError) as exc:
        print(f"skillway: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, workspace: Path, home: PluginsHome) -> int:
    if args.plugins_command == "install":
        record = await install.install(home, args.install_id)
        version = f" {record.version}" if record.version else ""
        print(f"installed {record.install_id}{version} at {_commit(record)} in {record.path}")
    elif args.plugins_command == "update":
        before, after = await install.update(home, args.install_id)
        if after == before:
            print(f"{after.install_id} is up to date at {_commit(after)}")
        elif after.commit is None:  # from a directory marketplace: copied again from its folder
            print(f"updated {after.install_id} from its marketplace's folder ({_commit(after)})")
        else:
            print(f"updated {after.install_id}: {_commit(before)} -> {_commit(after)}")
    elif args.plugins_command == "uninstall":
        record = install.uninstall(home, args.install_id)
        print(f"uninstalled {record.install_id} ({_commit(record)})")
    elif args.marketplace_command == "add":
        return await _add(home, args.source, workspace)
    elif args.marketplace_command == "list":
        return _list(home, args.json)
    elif args.marketplace_command == "update":
        return await _update(home, args.name)
    else:
        removed = known_marketplaces.remove(home, args.name)
        print(f"removed marketplace {args.name}" + (f"; uninstalled {', '.join(removed)}" if removed else ""))
    return 0


async def _add(home: PluginsHome, source: str, workspace: Path) -> int:
    added, market = await known_marketplaces.add(home, source, workspace)
    for problem in market.problems:
        print(problem.format(), file=sys.stderr)
    at = f" at {added.commit[:12]}" if added.commit else ""
    names = ", ".join(entry.name for entry in market.entries) or "none"
    print(f"added marketplace {added.name} from {known_marketplaces.describe(added.source)}{at} "
          f"({len(market.entries)} plugins: {names})")
    return 0


def _list(home: PluginsHome, as_json: bool) -> int:
    known, problems = home.read_marketplaces()
    installed, more = home.read_installed()
    entries = {name: known_marketplaces.load(marketplace).entries for name, marketplace in sorted(known.items())}
    if as_json:
        print(json.dumps([{
            "name": name, "source": known[name].source, "installLocation": str(known[name].location),
            "gitCommitSha": known[name].commit, "lastUpdated": known[name].last_updated,
            "plugins": [{"name": e.name, "installed": e.install_id in installed,
                         "gitCommitSha": installed[e.install_id].commit if e.install_id in installed else None}
                        for e in listed],
        } for name, listed in entries.items()], indent=2))
    elif not entries:
        print("no marketplaces; add one with: skillway plugins marketplace add SOURCE")
    else:
        for name, listed in entries.items():
            marketplace = known[name]
            at = f"at {marketplace.commit[:12]}" if marketplace.commit else "a local folder, read in place"
            print(f"{name}  {known_marketplaces.describe(marketplace.source)}  {at}")
            for entry in listed:
                record = installed.get(entry.install_id)
                print(f"  {entry.name}  {f'installed at {_commit(record)}' if record else 'not installed'}")
    for problem in problems + more:
        print(problem.format(), file=sys.stderr)
    return 0


async def _update(home: PluginsHome, name: str | None) -> int:
    names = [name] if name else sorted(known_marketplaces.read_known(home))
    failed = 0
    for each in names:
        try:
            before, after = await known_marketplaces.update(home, each)
        except known_marketplaces.MarketplaceError as exc:
            print(f"skillway: {exc}", file=sys.stderr)
            failed += 1
            continue
        if not after.is_clone:
            print(f"{each}: a local folder, read in place")
        elif before.commit == after.commit:
            print(f"{each}: up to date at {(after.commit or '')[:12]}")
        else:
            print(f"{each}: {(before.commit or '')[:12]} -> {(after.commit or '')[:12]}")
    return 1 if failed else 0


def _commit(record: InstalledPlugin) -> str:
    return record.commit[:12] if record.commit else f"version {record.version or install.UNVERSIONED}"

"""The /ship gate on the command line: `skillway ship --check` (the working tree's change, or with
`--pre-push` what each pushed ref gains, must have a complete GO), and the git pre-push hook that runs
it (the `skillway` found on PATH: no interpreter path is written into it). Only the ship rules are
needed here, so a push is not slowed by loading the rest of skillway."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from skillway.ship import rules
from skillway.ship.rules import ChangeError

EXIT_GO, EXIT_NO_GO = 0, 1
HOOK_MARK = "# skillway ship gate"


def run(args: argparse.Namespace, workspace: Path, plugin_dirs: list[Path]) -> int:
    if args.pre_push and not args.check:
        print("skillway ship: --pre-push goes with --check", file=sys.stderr)
        return 1
    out, err = sys.stdout, sys.stderr  # the streams of this run, not those when the module loaded
    if args.install_git_hook:
        return install_git_hook(workspace, out, err)
    if args.pre_push:
        return check_push(workspace, args.base, sys.stdin.read(), args.remote, out, err)
    return check(workspace, args.base, out, err)


def check(workspace: Path, base: str | None, out=sys.stdout, err=sys.stderr) -> int:
    """`skillway ship --check`: 0 when the working tree's change has a complete GO or may skip review."""
    try:
        verdict = rules.check_change(workspace, base)
    except ChangeError as exc:
        print(f"skillway ship --check: {exc}", file=err)
        return EXIT_NO_GO
    print(f"skillway ship --check: {verdict.message}", file=out if verdict.ok else err)
    return EXIT_GO if verdict.ok else EXIT_NO_GO


def check_push(workspace: Path, base: str | None, pushed: str, remote: str | None = None, out=sys.stdout,
               err=sys.stderr) -> int:
    """`skillway ship --check --pre-push`: git's pre-push hook input on stdin (`local-ref local-sha
    remote-ref remote-sha` per line); 0 when what every pushed ref gains has a complete GO."""
    code = EXIT_GO
    for line in pushed.splitlines():
        fields = line.split()
        if len(fields) != 4 or not fields[1].strip("0"):
            continue  # a deleted ref sends nothing
        try:
            verdict = rules.check_push(workspace, fields[1], fields[3], remote, base)
        except ChangeError as exc:
            verdict = rules.Verdict(False, str(exc))
        print(f"skillway ship --check: {fields[0]} -> {fields[2]}: {verdict.message}", file=out if verdict.ok else err)
        code = code if verdict.ok else EXIT_NO_GO
    return code


# The hook runs the `skillway` on PATH. Without one it refuses the push: a gate that waved pushes
# through whenever skillway is missing (another shell, a GUI client, a removed virtualenv) would be
# off exactly when nobody notices.
HOOK_COMMAND = 'skillway ship --check --pre-push --remote "$1"'
NOT_ON_PATH = ("skillway pre-push hook: cannot check this push for a /ship GO: the `skillway` command is not on "
               "PATH. Install skillway (pip install skillway) or put the folder that holds it on PATH, then push again.")
HOOK = f"""#!/bin/sh
{HOOK_MARK}: a push goes out only with a complete GO for its change.
if ! command -v skillway >/dev/null 2>&1; then
    echo '{NOT_ON_PATH}' >&2
    exit 1
fi
exec {HOOK_COMMAND}
"""


def install_git_hook(workspace: Path, out=sys.stdout, err=sys.stderr) -> int:
    """Write a pre-push hook that runs `skillway ship --check --pre-push`; one of ours already there
    (an older form too) is updated, one that is not ours is kept, and so is a hooks folder shared by
    every repository."""
    try:
        path = pre_push_path(workspace)
    except ChangeError as exc:
        print(f"skillway ship --install-git-hook: {exc}", file=err)
        return 1
    existing = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
    if existing is not None and HOOK_MARK not in existing:
        print(f"skillway ship --install-git-hook: {path} already exists and is not ours; it was left as it is. "
              f"Add this line to it:\n  {HOOK_COMMAND} || exit 1", file=err)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOOK, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"{'updated' if existing not in (None, HOOK) else 'installed'} {path}", file=out)
    return 0


def pre_push_path(workspace: Path) -> Path:
    root = Path(rules.git(workspace, "rev-parse", "--show-toplevel").decode().strip())
    try:
        hooks = rules.git(root, "config", "--local", "--get", "core.hooksPath").decode().strip()
    except ChangeError:  # not set for this repository
        hooks = ""
    if not hooks:
        try:
            shared = rules.git(root, "config", "--get", "core.hooksPath").decode().strip()
        except ChangeError:
            shared = ""
        if shared:
            raise ChangeError(f"git runs the hooks of every repository from {shared} (core.hooksPath); a pre-push "
                              "hook there would judge all of them. Add `skillway ship --check --pre-push` to its "
                              "pre-push hook yourself, or set core.hooksPath for this repository")
        hooks = rules.git(root, "rev-parse", "--git-path", "hooks").decode().strip()
    return (root / os.path.expanduser(hooks)).resolve() / "pre-push"

"""`skillway ship` in a terminal or CI: the whole /ship flow with progress on stderr and the decision
on stdout (markdown, or JSON with `--json`); `--check` and the git pre-push hook that calls it (the
`skillway` found on PATH: no interpreter path is written into it)."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from pathlib import Path

from skillway.ship.orchestrator import REVIEWER_TIMEOUT, ShipError, ShipEvent, ShipResult, fan_out_command, run_ship
from skillway.ship.rules import ChangeError, rules

EXIT_GO, EXIT_NO_GO = 0, 1
HOOK_MARK = "# skillway ship gate"


async def ship(workspace: Path, plugin_dirs: list[Path], base: str | None, accept_risks: list[str], *,
               as_json: bool = False, reviewer_timeout: float = REVIEWER_TIMEOUT, out=sys.stdout, err=sys.stderr) -> int:
    from skillway.model.errors import ModelError
    from skillway.session import Session
    from skillway.slash.prepare import PromptRefused

    session = Session.open(workspace, plugin_dirs)
    for problem in session.settings.problems:
        print(f"skillway: {problem.format()}", file=err)
    start = await session.start("startup")
    for message in start.system_messages + start.warnings:
        print(f"skillway: {message}", file=err)
    words = ([base] if base else []) + [w for risk in accept_risks for w in ("--accept-risk", risk)]
    typed = f"/{command_name(session)} {shlex.join(words)}".strip()

    def progress(event: ShipEvent) -> None:
        said = {"start": "started", "retry": f"failed ({event.detail}); retrying once", "done": event.detail}[event.kind]
        print(f"skillway ship: {event.reviewer}: {said}", file=err, flush=True)

    try:
        result = await run_ship(session, typed, on_event=None if as_json else progress, reviewer_timeout=reviewer_timeout)
    except (ShipError, PromptRefused, ModelError) as exc:  # a ModelError: the API cannot serve the reviewers
        print(f"skillway ship: {exc}", file=err)
        return EXIT_NO_GO
    finally:
        await session.end("other")
    for notice in result.notices:
        print(f"skillway ship: {notice}", file=err)
    out.write(json.dumps(summary(result), indent=2) + "\n" if as_json else result.document)
    return EXIT_GO if result.verdict in ("GO", "NOTHING") else EXIT_NO_GO


def command_name(session) -> str:
    """The ship command to run: `/ship` when that name is unambiguous, else the bundled one."""
    entry = fan_out_command(session, "/ship")
    return entry.qualified if entry is not None else "skillway:ship"


def summary(result: ShipResult) -> dict:
    """The decision as data, for CI (`skillway ship --json`) and print mode."""
    change, decision = result.change, result.decision
    return {
        "decision": result.verdict,
        "outcome": "failed" if decision is not None and decision.failed else "verdict",
        "complete": result.gate_passed,
        "skipped": result.skipped,
        "base": change.base if change else None,
        "merge_base": change.merge_base if change else None,
        "diff_sha256": change.digest if change else None,
        "files": list(change.files) if change else [],
        "lines": change.lines if change else 0,
        "blockers": decision.blockers if decision else [],
        "findings": [{"severity": f.severity, "file": f.file, "line": f.line, "message": f.message,
                      "reviewers": list(f.reviewers)} for f in (decision.findings if decision else [])],
        "accepted_risks": [{"file": f.file, "line": f.line, "message": f.message, "accepted_with": text}
                           for f, text in (decision.accepted if decision else [])],
        "reviewers": [{"name": r.reviewer, "ok": r.ok, "attempts": r.attempts, "seconds": round(r.seconds, 3),
                       "error": r.error, "findings": len(r.findings)} for r in result.reviews],
        "gate": {"passed": result.gate_passed, "reasons": result.gate_reasons, "recorded": result.record is not None},
        "fan_out_seconds": round(result.fan_out_seconds, 3),
        "usage": {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens,
                  "total_cost_usd": round(result.usage.cost_usd, 6)},
        "document": result.document,
    }


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

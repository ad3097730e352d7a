"""The rules of /ship, in one place: what the change is, when it may skip review, how a reviewer's
findings and a decision document read, and the ship ledger under the git dir.

Standard library only, and importing nothing else of skillway: the bundled hook scripts that judge
every /ship turn (`hooks/ship-*.py`, which also run under Claude Code, with no skillway installed)
put the folder holding the `skillway` package on sys.path and import this module, and skillway
imports it as it imports any other: there is no second copy. It stays light to import (no
dataclasses; git's helpers imported when used): the PreToolUse and SubagentStop hooks start a
Python process with it on every Agent call.

git runs here, synchronously, in `git` below, not through `skillway.core.processes`: the hook
scripts run these rules in a short-lived process of their own, where an event loop and the
process-group machinery (built for commands that may leave children behind) would cost more than
the few git calls, each needing the answer of the one before. skillway's event loop never waits
on them: it calls every function that runs git (`compute_change`, `commits`, `has_uncommitted`,
`read_records`) in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

SEVERITIES = ("critical", "important", "suggestion")
SECTIONS = ("### Blockers", "### Recommended fixes", "### Acknowledged risks", "### Rollback plan",
            "### Specialist reports")
DECISION = re.compile(r"^## Ship Decision: (GO|NO-GO)[ \t]*$", re.MULTILINE)
# A /ship turn starts with the rendered ship command (its marker) or, in Claude Code's transcript, the
# command's name as typed: `/ship` or `/skillway:ship`.
SHIP_PROMPT = re.compile(r"<!-- skillway:ship -->|<command-name>/(?:[\w.-]+:)?ship</command-name>")
# skillway's orchestrator stamps its /ship prompt with the change it judges and the risks accepted.
CHANGE_MARKER = re.compile(r"<!-- skillway:ship-change (\{.*?\}) -->")
COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.DOTALL)
# The gate's own block reason, as the host puts it back into the conversation.
GATE_FEEDBACK = "The /ship turn cannot end"
MIN_RISK_WORDS = 8  # --accept-risk TEXT matching a message must be at least this long (not "a")
FENCED_JSON = re.compile(r"```json[ \t]*\n(.*?)\n[ \t]*```", re.DOTALL)

SKIP_MAX_FILES = 2
SKIP_MAX_LINES = 49  # "fewer than 50 changed lines"
# Paths a change may not touch and still skip the review, by area.
SENSITIVE_AREAS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in {
    "auth": r"auth|login|passw|oauth|(^|/)sessions?([/._-]|$)",
    "payments": r"payment|billing|invoice|checkout|subscription",
    "data access": r"data[_-]?access|repositor(y|ies)|(^|/)(dal|dao)([/._-]|$)",
    "db": r"(^|/)db([/._-]|$)|database|\.sql$|(^|/)schemas?([/._-]|$)",
    "migrations": r"migrat",
    "config": r"config|settings|\.ini$|\.cfg$",
    "env": r"(^|/)\.env|(^|/)env([/._-]|$)|environment",
    "secrets": r"secret|credential|\.pem$|\.key$|(^|/)\.?keys?(/|$)|vault",
}.items()}


def sensitive_areas(path: str) -> list:
    return [name for name, pattern in SENSITIVE_AREAS.items() if pattern.search(path)]


LEDGER_FILE = "ship-ledger.jsonl"
REVIEWS_FOLDER = "ship-reviews"
GIT_TIMEOUT = 60


class ChangeError(Exception):
    """The change cannot be computed (not a repository, unknown base ref, no commits)."""


# --- the change -----------------------------------------------------------------------------------

def git(cwd, *args: str, env: dict | None = None) -> bytes:
    import subprocess  # lazy: the hooks load these rules on every Agent call, and most never need it

    try:
        done = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, env=env, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise ChangeError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise ChangeError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        raise ChangeError(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return done.stdout


def _text(cwd, *args: str) -> str:
    return git(cwd, *args).decode("utf-8", "replace").strip()


def _resolves(cwd, ref: str) -> bool:
    try:
        git(cwd, "rev-parse", "--verify", "--quiet", ref + "^{commit}")
        return True
    except ChangeError:
        return False


def default_base(cwd) -> str:
    """The upstream of the current branch, else `main`, else `master`."""
    try:
        upstream = _text(cwd, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
        if upstream:
            return upstream
    except ChangeError:
        pass
    for name in ("main", "master"):
        if _resolves(cwd, name):
            return name
    raise ChangeError("no base ref: this branch has no upstream and there is no main or master branch; name one")


# Options that make the diff text depend only on the change, not on the user's git configuration.
_DIFF = ("-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
         "-c", "diff.relative=false", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
         "--diff-algorithm=myers", "--indent-heuristic")
_PATCH = ("--full-index", "--binary", "--src-prefix=a/", "--dst-prefix=b/")


class Change:
    """Everything since the merge base with the base ref: commits, staged and unstaged edits and new
    (untracked, not ignored) files."""

    def __init__(self, root: str, base: str, merge_base: str, head: str, diff: bytes, files: tuple | list = (),
                 added: int = 0, removed: int = 0, renamed_from: tuple | list = ()) -> None:
        self.root, self.base, self.merge_base, self.head, self.diff = root, base, merge_base, head, diff
        self.files = tuple(files)  # changed paths, relative to the root
        self.renamed_from = tuple(renamed_from)  # the old paths of renamed files
        self.added, self.removed = added, removed
        self._digest: str | None = None

    def __repr__(self) -> str:
        return f"Change({self.describe()}, diff {self.digest[:12]})"

    @property
    def digest(self) -> str:
        """The SHA-256 of the diff: what the ledger keys a decision by."""
        if self._digest is None:
            import hashlib  # lazy: the hooks load these rules on every Agent call, and most never need it

            self._digest = hashlib.sha256(self.diff).hexdigest()
        return self._digest

    @property
    def lines(self) -> int:
        return self.added + self.removed

    @property
    def empty(self) -> bool:
        return not self.files

    @property
    def sensitive_files(self) -> list:
        """Changed paths in a sensitive area; a rename counts by its old path too."""
        return [name for name in self.files + self.renamed_from if sensitive_areas(name)]

    def may_skip(self) -> bool:
        """The skip predicate: at most 2 files, fewer than 50 changed lines, nothing sensitive."""
        return (0 < len(self.files) <= SKIP_MAX_FILES and self.lines <= SKIP_MAX_LINES
                and not self.sensitive_files)

    def describe(self) -> str:
        return f"{len(self.files)} file(s), +{self.added}/-{self.removed} against {self.base}"


def compute_change(cwd, base: str | None = None, commit: str | None = None) -> Change:
    """The change in the repository holding `cwd` against `base` (default: `default_base`): of the
    working tree, or of `commit` alone (what a push sends).

    The working tree is staged into a throwaway copy of the index, so the user's own index is never
    touched, and untracked files count as the new files they are.
    """
    import shutil  # lazy: the hooks load these rules on every Agent call, and most never need it
    import tempfile

    try:
        root = _text(cwd, "rev-parse", "--show-toplevel")
    except ChangeError:
        raise ChangeError(f"{cwd} is not inside a git repository") from None
    if not _resolves(root, "HEAD"):
        raise ChangeError("the repository has no commits yet")
    if commit is not None and not _resolves(root, commit):
        raise ChangeError(f"unknown commit {commit!r}")
    head = _text(root, "rev-parse", commit or "HEAD")
    base = base or default_base(root)
    if not _resolves(root, base):
        raise ChangeError(f"unknown base ref {base!r}")
    merge_base = _text(root, "merge-base", head, base)
    if commit is not None:
        diff = git(root, *_DIFF, *_PATCH, merge_base, head)
        numstat = git(root, *_DIFF, "--numstat", "-z", merge_base, head)
        return Change(root, base, merge_base, head, diff, *_parse_numstat(numstat.decode("utf-8", "replace")))
    index = Path(root, _text(root, "rev-parse", "--git-path", "index"))
    with tempfile.TemporaryDirectory(prefix="skillway-ship-") as folder:
        scratch = Path(folder, "index")
        if index.is_file():
            # copy2 keeps the index's mtime: git's check for "racily clean" entries (a file changed in
            # the second the index was written) must work on the copy as it does on the original.
            shutil.copy2(index, scratch)
        env = {**os.environ, "GIT_INDEX_FILE": str(scratch)}
        git(root, "add", "--all", "--", ".", env=env)
        diff = git(root, *_DIFF, "--cached", *_PATCH, merge_base, env=env)
        numstat = git(root, *_DIFF, "--cached", "--numstat", "-z", merge_base, env=env)
    return Change(root, base, merge_base, head, diff, *_parse_numstat(numstat.decode("utf-8", "replace")))


def commits(change: Change) -> list:
    """(short hash, subject) of each commit of the change, newest first."""
    log = _text(change.root, "log", "--no-color", "--format=%h%x09%s", f"{change.merge_base}..{change.head}")
    return [tuple(line.split("\t", 1)) for line in log.splitlines() if "\t" in line]


def has_uncommitted(change: Change) -> bool:
    return bool(_text(change.root, "status", "--porcelain", "--untracked-files=normal"))


def _parse_numstat(text: str) -> tuple[list, int, int, list]:
    """(paths, added, removed, old paths of renames) from `git diff --numstat -z`: `A\\tR\\tpath\\0`,
    or `A\\tR\\t\\0old\\0new\\0` for a rename."""
    files, added, removed, renamed_from = [], 0, 0, []
    tokens = iter(text.split("\0"))
    for token in tokens:
        if not token:
            continue
        counts = token.split("\t", 2)
        if len(counts) < 3:
            continue
        plus, minus, name = counts
        if not name:  # a rename or copy: the old and the new path follow
            renamed_from.append(next(tokens, ""))
            name = next(tokens, "")
        files.append(name)
        added += int(plus) if plus.isdigit() else 0  # binary files count as a file, not as lines
        removed += int(minus) if minus.isdigit() else 0
    return files, added, removed, renamed_from


# --- reviewer reports and decisions ---------------------------------------------------------------

def parse_arguments(text: str) -> tuple:
    """`[base-ref] [--accept-risk TEXT]...` -> (base or None, accepted risks); ValueError says what is wrong."""
    import shlex  # lazy: the hooks load these rules on every Agent call, and most never need it

    words = shlex.split(text)
    base, risks = None, []
    while words:
        word = words.pop(0)
        if word == "--accept-risk":
            if not words:
                raise ValueError("--accept-risk needs the risk it accepts (a file, file:line or words of the finding)")
            risks.append(words.pop(0))
        elif word.startswith("--accept-risk="):
            risks.append(word.split("=", 1)[1])
        elif word.startswith("-"):
            raise ValueError(f"unknown option {word} (expected [base-ref] [--accept-risk TEXT])")
        elif base is None:
            base = word
        else:
            raise ValueError(f"one base ref only (got {base!r} and {word!r})")
    return base, tuple(risks)


def stamp(change: Change, risks) -> str:
    """The line skillway's orchestrator adds to its /ship prompt: the change it judges, the risks accepted."""
    data = json.dumps({"base": change.base, "diff": change.digest, "accept_risks": list(risks)})
    return "<!-- skillway:ship-change " + data.replace(">", "\\u003e") + " -->"


def ship_request(prompt: str) -> dict:
    """What a /ship prompt asked for: {"base", "accept_risks", "diff" (skillway's stamp only)}.

    skillway's stamp closes its prompt, after anything the user typed into it: the last one counts.
    """
    stamps = list(CHANGE_MARKER.finditer(prompt))
    marker = stamps[-1] if stamps else None
    if marker:
        try:
            data = json.loads(marker.group(1))
            return {"base": data.get("base"), "diff": data.get("diff"), "accept_risks": list(data.get("accept_risks") or [])}
        except (ValueError, AttributeError):
            pass
    arguments = COMMAND_ARGS.search(prompt)  # Claude Code: the command's arguments as typed
    try:
        base, risks = parse_arguments(arguments.group(1)) if arguments else (None, ())
    except ValueError:
        base, risks = None, ()
    return {"base": base, "diff": None, "accept_risks": list(risks)}


def required_reviewers(plugin_root) -> list:
    """The reviewers of the plugin's ship command (`fan-out`), for the hook scripts: of the plugin
    the host names (`CLAUDE_PLUGIN_ROOT`), else of `plugin_root`, the one holding the script."""
    root = Path(os.environ.get("CLAUDE_PLUGIN_ROOT") or plugin_root)
    return reviewers_from(root / "commands" / "ship.md")


def reviewers_from(ship_command: Path) -> list:
    """The `fan-out` list of the ship command's frontmatter."""
    try:
        text = ship_command.read_text(encoding="utf-8")
    except OSError:
        return []
    head = text.split("\n---", 2)[0] if text.startswith("---") else ""
    match = re.search(r"^fan-out:[ \t]*\[(.*?)\][ \t]*$", head, re.MULTILINE)
    return [name.strip().strip("'\"") for name in match.group(1).split(",") if name.strip()] if match else []


def reviewer_name(agent_type: object) -> str:
    """`skillway:code-reviewer` and `code-reviewer` are the same reviewer."""
    return str(agent_type or "").split(":")[-1]


def findings_of(report: str):
    """The findings in the last fenced `json` block of a report, normalised; None when the report has
    no such block or it is not a JSON array."""
    blocks = FENCED_JSON.findall(report or "")
    if not blocks:
        return None
    try:
        value = json.loads(blocks[-1])
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    found = []
    for item in value:
        if not isinstance(item, dict):
            continue
        item = {str(key).strip().lower(): field for key, field in item.items()}
        severity = re.sub(r"[^a-z]", "", str(item.get("severity", "")).lower())
        try:
            line = max(1, int(item.get("line", "")))
        except (TypeError, ValueError):
            line = 1
        # A severity that is none of the three counts as critical: a gate errs on the side of stopping.
        found.append({"severity": severity if severity in SEVERITIES else "critical",
                      "file": str(item.get("file") or "").strip() or "?", "line": line,
                      "message": " ".join(str(item.get("message") or "").split())})
    return found


def section(decision: str, title: str) -> str:
    """The text under `title` up to the next known section or level-2 heading."""
    start = decision.find(title)
    if start < 0:
        return ""
    rest = decision[start + len(title):]
    ends = [rest.find(t) for t in SECTIONS + ("\n## ",) if rest.find(t) >= 0]
    return rest[: min(ends)] if ends else rest


def names(risk: str, finding: dict) -> bool:
    """Whether `--accept-risk risk` names the finding: its file, its `file:line`, or words of its
    message (at least MIN_RISK_WORDS characters, so that "a" accepts nothing)."""
    risk = " ".join(str(risk).split()).casefold()
    where = str(finding.get("file", "")).casefold()
    if not risk:
        return False
    if risk in (where, f"{where}:{finding.get('line')}"):
        return True
    return len(risk) >= MIN_RISK_WORDS and risk in " ".join(str(finding.get("message", "")).split()).casefold()


def accepted_by(finding: dict, risks) -> str | None:
    """The first of `risks` that names the finding, or None."""
    return next((risk for risk in risks if names(risk, finding)), None)


def is_listed(finding: dict, acknowledged: str) -> bool:
    """Whether the Acknowledged risks section lists the finding (its message, or its file:line)."""
    text = " ".join(acknowledged.split()).lower()
    message = " ".join(str(finding.get("message", "")).split()).lower()[:40]
    return (message or f"{finding.get('file')}:{finding.get('line')}".lower()) in text


# --- where /ship keeps its records ----------------------------------------------------------------

def ship_folder(cwd) -> Path:
    """`<git common dir>/skillway`: shared by the repository's worktrees, never committed."""
    common = _text(cwd, "rev-parse", "--git-common-dir")
    return Path(cwd, common).resolve() / "skillway"


def now() -> str:
    # timezone.utc, not datetime.UTC (3.11): the hook scripts run under whatever python3 the host has
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: UP017


def seconds_between(start: str | None, end: str | None):
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        return round((_parse_time(end) - _parse_time(start)).total_seconds(), 3)
    except (TypeError, ValueError):  # not a time, or one with a zone and one without
        return None


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_review(plugin_data: str, session_id: str, record: dict) -> Path:
    """One reviewer's report, as the SubagentStop recorder saw it: one file per sub-agent, in the
    plugin's data folder (`CLAUDE_PLUGIN_DATA`), until the Stop gate puts it into the ledger."""
    folder = Path(plugin_data) / REVIEWS_FOLDER / _safe(session_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe(record.get('agent_id') or 'agent')}.json"
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(scratch, path)
    return path


def read_reviews(plugin_data: str | None, session_id: str) -> list:
    if not plugin_data:
        return []
    folder = Path(plugin_data) / REVIEWS_FOLDER / _safe(session_id)
    reviews = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            reviews.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(reviews, key=lambda r: str(r.get("ended") or ""))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", str(name))[:100] or "-"


def append_record(cwd, record: dict) -> Path:
    """Add one judged decision to the ledger (one JSON line; a lock where the platform has one)."""
    path = ship_folder(cwd) / LEDGER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    with open(path, "ab") as stream:
        try:
            import fcntl

            fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
        except ImportError:  # no fcntl (Windows): appends of one write are still whole lines there
            pass
        stream.write(line)
    return path


def read_records(cwd) -> list:
    try:
        path = ship_folder(cwd) / LEDGER_FILE
    except ChangeError:
        return []
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    except OSError:
        return []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn line from a crash: the others still count
        if isinstance(record, dict):
            records.append(record)
    return records


def failed_run(verdict, failed: int, findings: int) -> bool:
    """Whether a decision only says that the review did not happen: a NO-GO with `failed` reviewers
    that returned no report and no finding at all from the others. The ledger records it with
    `"outcome": "failed"`: it is no verdict on the change, so it never replaces one."""
    return verdict == "NO-GO" and failed > 0 and findings == 0


def latest_decision(records: list, digest: str):
    """The last complete decision recorded for the change with this diff hash, or None; a failed run
    is no decision."""
    judged = [r for r in records if r.get("diff_sha256") == digest and r.get("complete") and r.get("decision")
              and r.get("outcome") != "failed"]
    return judged[-1] if judged else None


def latest_failure(records: list, digest: str):
    """The last complete failed run recorded for the change with this diff hash, or None."""
    failed = [r for r in records if r.get("diff_sha256") == digest and r.get("complete") and r.get("outcome") == "failed"]
    return failed[-1] if failed else None


class Verdict:
    """What `skillway ship --check` says about the current change."""

    def __init__(self, ok: bool, message: str, record: dict | None = None) -> None:
        self.ok, self.message, self.record = ok, message, record


def check_push(cwd, commit: str, remote_sha: str, remote: str | None = None, base: str | None = None) -> Verdict:
    """Whether pushing `commit` over `remote_sha` (zeros: a new ref) to `remote` may go out.

    What the ref gains must have a complete GO, or be small enough to skip, and the remote must
    already hold the merge base of the change that was judged: nothing outside it goes out unjudged.
    """
    known = remote_sha.strip("0") and _resolves(cwd, remote_sha)
    remote_refs = ([f"--remotes={remote}"] if remote else ["--remotes"]) + ([remote_sha] if known else [])

    def held(merge_base: str) -> bool:  # nothing reachable from the merge base is missing on the remote
        return _text(cwd, "rev-list", "--count", merge_base, "--not", *remote_refs) == "0"

    gained = compute_change(cwd, remote_sha if known else base, commit)
    if gained.empty:
        return Verdict(True, f"nothing to ship: no change against {gained.base}")
    if gained.may_skip() and (known or held(gained.merge_base)):
        return Verdict(True, f"small change ({gained.describe()}, nothing sensitive): the review may be skipped")
    records = read_records(gained.root)
    bases = list(dict.fromkeys(r.get("base") for r in reversed(records) if r.get("complete") and r.get("base")))
    for judged_base in bases:
        try:
            change = compute_change(cwd, judged_base, commit)
        except ChangeError:
            continue  # that base is gone
        decision = latest_decision(records, change.digest)
        if decision is None or not held(change.merge_base):
            continue
        if decision.get("decision") != "GO":
            return Verdict(False, f"the decision for this change (diff {change.digest[:12]}) is NO-GO, recorded at "
                                  f"{decision.get('recorded_at')}", decision)
        return Verdict(True, f"GO for this change ({change.describe()}, diff {change.digest[:12]}), recorded at "
                             f"{decision.get('recorded_at')}", decision)
    return Verdict(False, f"no /ship decision covers what this push sends ({gained.describe()}); run skillway ship")


def check_change(cwd, base: str | None = None, commit: str | None = None) -> Verdict:
    """Whether the change (of the working tree, or of `commit`) has a complete GO or may skip review."""
    change = compute_change(cwd, base, commit)
    if change.empty:
        return Verdict(True, f"nothing to ship: no change against {change.base}")
    if change.may_skip():
        return Verdict(True, f"small change ({change.describe()}, nothing sensitive): the review may be skipped")
    records = read_records(change.root)
    decision = latest_decision(records, change.digest)
    short = change.digest[:12]
    failure = latest_failure(records, change.digest) if decision is None else None
    if failure is not None:
        return Verdict(False, f"the last /ship run for the current change (diff {short}) failed (reviewers returned "
                              f"no report), recorded at {failure.get('recorded_at')}; it decided nothing: run skillway "
                              "ship again", failure)
    if decision is None:
        others = [r for r in records if r.get("complete") and r.get("decision") == "GO" and r.get("base") == change.base]
        moved = f"; the change moved since the GO recorded at {others[-1].get('recorded_at')}" if others else ""
        return Verdict(False, f"no /ship decision for the current change ({change.describe()}, diff {short}){moved}; "
                              "run skillway ship")
    if decision.get("decision") != "GO":
        return Verdict(False, f"the decision for the current change (diff {short}) is NO-GO, recorded at "
                              f"{decision.get('recorded_at')}", decision)
    return Verdict(True, f"GO for the current change ({change.describe()}, diff {short}), recorded at "
                         f"{decision.get('recorded_at')}", decision)

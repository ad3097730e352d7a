"""The merge step of /ship: reviewers' findings become one decision document.

Any critical finding not named by `--accept-risk`, or any reviewer without a report, makes it NO-GO.
A NO-GO only because reviewers failed (no finding at all) is a failed run: it says so, and the ledger
records it as failed rather than as a verdict (`rules.failed_run`).
The rollback plan is built from the change itself (its commits, migrations, configuration).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skillway.ship import rules
from skillway.ship.rules import Change

RANK = {severity: rank for rank, severity in enumerate(rules.SEVERITIES)}


@dataclass(frozen=True)
class Review:
    """One reviewer's outcome: its report and findings, or why there is none."""

    reviewer: str
    report: str = ""
    findings: tuple = ()
    error: str | None = None  # set when the reviewer failed (twice) and returned no report
    attempts: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def counts(self) -> str:
        numbers = {s: sum(1 for f in self.findings if f["severity"] == s) for s in rules.SEVERITIES}
        return f"{numbers['critical']} critical, {numbers['important']} important, {numbers['suggestion']} suggestions"


@dataclass(frozen=True)
class Finding:
    severity: str
    file: str
    line: int
    message: str
    reviewers: tuple

    def where(self) -> str:
        return f"`{self.file}:{self.line}`"


@dataclass
class Decision:
    verdict: str  # GO | NO-GO
    document: str
    blockers: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, the --accept-risk text)
    unmatched_risks: list[str] = field(default_factory=list)  # --accept-risk texts that named nothing
    failed: bool = False  # NO-GO only because reviewers failed, with no finding: no verdict on the change


def merge(reviews: list[Review]) -> list[Finding]:
    """Every finding once: the same file, line and message from several reviewers is one finding."""
    merged: dict[tuple, list] = {}
    for review in reviews:
        for item in review.findings:
            key = (item["file"], item["line"], item["message"].lower(), item["severity"])
            merged.setdefault(key, [item, []])[1].append(review.reviewer)
    findings = [Finding(item["severity"], item["file"], item["line"], item["message"], tuple(names))
                for item, names in merged.values()]
    return sorted(findings, key=lambda f: (RANK[f.severity], f.file, f.line))


def decide(change: Change, reviews: list[Review], accept_risks: tuple[str, ...] = (), *, skipped: bool = False,
           commits: list | None = None, uncommitted: bool = False) -> Decision:
    findings = merge(reviews)
    accepted, blockers, used = [], [], set()
    for finding in (f for f in findings if f.severity == "critical"):
        named = rules.accepted_by({"file": finding.file, "line": finding.line, "message": finding.message}, accept_risks)
        if named is None:
            blockers.append(f"{finding.where()}: {finding.message} ({', '.join(finding.reviewers)})")
        else:
            accepted.append((finding, named))
            used.add(named)
    failed = [r for r in reviews if not r.ok]
    blockers += [f"{r.reviewer} returned no report: {r.error}" for r in failed]
    verdict = "NO-GO" if blockers else "GO"
    decision = Decision(verdict, "", blockers, findings, accepted, [r for r in accept_risks if r not in used],
                        rules.failed_run(verdict, len(failed), len(findings)))
    decision.document = _document(change, reviews, decision, skipped, commits or [], uncommitted)
    return decision


def _document(change: Change, reviews: list[Review], decision: Decision, skipped: bool, commits: list,
              uncommitted: bool) -> str:
    criticals = sum(1 for f in decision.findings if f.severity == "critical")
    if skipped:
        summary = f"A small change ({change.describe()}, no sensitive path) that may skip the review."
    else:
        summary = (f"{len(reviews)} reviewers checked {change.describe()}: {criticals} critical "
                   f"({len(decision.accepted)} accepted), "
                   f"{sum(1 for f in decision.findings if f.severity == 'important')} important, "
                   f"{sum(1 for f in decision.findings if f.severity == 'suggestion')} suggestions.")
    if decision.failed:
        summary += (f" It does not ship: the review did not complete ({sum(1 for r in reviews if not r.ok)} of "
                    f"{len(reviews)} reviewers returned no report, and no finding was reported), so this run "
                    "counts as failed, not as a verdict on the change.")
    elif decision.verdict == "NO-GO":
        summary += f" It does not ship: {len(decision.blockers)} blocker(s) below."
    fixes = [f"- [{f.severity}] {f.where()}: {f.message} ({', '.join(f.reviewers)})"
             for f in decision.findings if f.severity != "critical"]
    risks = [f"- {f.where()}: {f.message} ({', '.join(f.reviewers)}). Accepted with --accept-risk \"{text}\"."
             for f, text in decision.accepted]
    parts = [
        f"## Ship Decision: {decision.verdict}", "", summary, "",
        "### Blockers", *(["- " + b for b in decision.blockers] or ["None."]), "",
        "### Recommended fixes", *(fixes or ["None."]), "",
        "### Acknowledged risks", *(risks or ["None."]),
        *[f"- --accept-risk \"{text}\" named no critical finding; nothing was accepted by it."
          for text in decision.unmatched_risks],
        "",
        "### Rollback plan", *_rollback(change, commits, uncommitted), "",
        "### Specialist reports",
    ]
    if skipped:
        parts.append(f"skipped: small change ({change.describe()}; nothing sensitive).")
    for review in reviews:
        if review.ok:
            retried = ", after a retry" if review.attempts > 1 else ""
            parts += ["", f"#### {review.reviewer}: {review.counts()} ({review.seconds:.1f} s{retried})", "",
                      *("> " + line if line else ">" for line in review.report.strip().splitlines())]
        else:
            parts += ["", f"#### {review.reviewer}: no report", "", f"It failed {review.attempts} time(s): {review.error}"]
    return "\n".join(parts).rstrip() + "\n"


def _rollback(change: Change, commits: list, uncommitted: bool) -> list[str]:
    base = change.merge_base[:12]
    if commits:
        listed = "; ".join(f"`{sha}` {subject}" for sha, subject in commits[:10]) + ("; ..." if len(commits) > 10 else "")
        steps = [f"1. Revert the change: `git revert --no-edit {base}..{change.head[:12]}` undoes its "
                 f"{len(commits)} commit(s) ({listed}); once it is merged, revert the merge commit instead "
                 "(`git revert -m 1 <merge commit>`)."]
    else:
        steps = ["1. Revert the change: it is not committed yet; once committed, `git revert --no-edit <that commit>` "
                 "undoes it (or revert the merge commit with `git revert -m 1 <merge commit>`)."]
    if uncommitted and commits:
        steps.append("   The judged change includes uncommitted edits: commit them before pushing, and revert that "
                     "commit as well.")
    migrations = [f for f in change.files if "migrations" in rules.sensitive_areas(f)]
    settings = [f for f in change.files if {"config", "env"} & set(rules.sensitive_areas(f))]
    steps.append(f"2. Migrations: {', '.join(migrations)} changed; run their down migrations before the code is "
                 "reverted, and confirm each has one (a migration without a way back blocks the rollback)."
                 if migrations else "2. Migrations: none changed; no data step is needed.")
    steps.append(f"3. Configuration: {', '.join(settings)} changed; restore the previous values "
                 f"(`git show {base}:<path>`) wherever they were deployed."
                 if settings else "3. Configuration: none changed.")
    steps.append(f"4. Confirm: `git diff --stat {base}` lists none of the {len(change.files)} changed file(s), the "
                 "test suite passes, and the deployed version is the previous one.")
    return steps

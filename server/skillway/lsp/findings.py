"""A /ship decision's findings as diagnostics on the lines they name, replacing the previous run's in
the same repository."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp

from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.server import SkillwayServer

SOURCE = "skillway-ship"
_SEVERITY = {"critical": lsp.DiagnosticSeverity.Error, "important": lsp.DiagnosticSeverity.Warning,
             "suggestion": lsp.DiagnosticSeverity.Information}
UNREAD_LINE_END = 10_000  # a line whose file cannot be read: clients clamp the end to the line's length


async def publish_findings(ls: SkillwayServer, result) -> None:
    """The decision's findings as diagnostics on the lines they name, replacing the previous run's in
    the same repository. Findings without a file, or naming one outside the repository, are skipped."""
    if result.change is None:
        return
    root = await asyncio.to_thread(Path(result.change.root).resolve)
    decision = result.decision
    accepted = {finding for finding, _ in decision.accepted} if decision else set()
    placed = []
    for finding in decision.findings if decision else []:
        if finding.file.strip() in ("", "?"):
            continue
        path = (root / finding.file).resolve()
        if path.is_relative_to(root):  # a path from a model never leaves its root
            placed.append((finding, path))
    lines = {}  # the editor's text where the file is open, else the file's, read off the event loop
    for _, path in placed:
        doc = document(ls, path.as_uri())
        if doc is not None:
            lines[path] = doc.lines
    lines.update(await asyncio.to_thread(_read_lines, {path for _, path in placed} - lines.keys()))
    by_uri: dict[str, list[lsp.Diagnostic]] = {}
    for finding, path in placed:
        message = f"[{', '.join(finding.reviewers)}] {finding.message}" + (" (risk accepted)" if finding in accepted else "")
        by_uri.setdefault(path.as_uri(), []).append(lsp.Diagnostic(
            range=_line_range(lines[path], finding.line - 1), message=message,
            severity=_SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Warning), source=SOURCE))

    def in_repository(uri: str) -> bool:
        path = path_of(uri)
        return path is not None and path.is_relative_to(root)

    ls.diagnostics.replace(ls, SOURCE, by_uri, within=in_repository)


def _read_lines(paths) -> dict[Path, list[str] | None]:
    lines = {}
    for path in paths:
        try:
            lines[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines[path] = None
    return lines


def _line_range(lines: list[str] | None, line: int) -> lsp.Range:
    """The whole of 0-based `line`. A line past the end is the last line: a diagnostic there would be
    invisible (or refused) in some editors."""
    if lines is None:
        return lsp.Range(start=lsp.Position(line, 0), end=lsp.Position(line, UNREAD_LINE_END))
    line = max(0, min(line, len(lines) - 1))
    text = lines[line].rstrip("\r\n") if lines else ""
    return lsp.Range(start=lsp.Position(line, 0), end=lsp.Position(line, utf16_length(text)))

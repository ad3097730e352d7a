"""Plugin files while they are written: diagnostics at the exact line, completion of keys and
values, hover with what a field means. The work is done by `skillway.authoring`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from skillway.authoring.completion import complete
from skillway.authoring.diagnostics import diagnose
from skillway.authoring.hover import hover as describe
from skillway.authoring.kinds import document_kind
from skillway.lsp.documents import MAX_DOCUMENT_CHARS, document, offset, path_of, utf16_length
from skillway.lsp.feature import Feature
from skillway.lsp.server import SkillwayServer

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}
SOURCE = "skillway"


class AuthoringFeature(Feature):
    """Plugin files (plugin.json, hooks.json, SKILL.md, commands, agents) checked as they are typed."""

    def opened(self, doc: TextDocument) -> None:
        publish(self.server, doc.uri)

    def changed(self, doc: TextDocument) -> None:
        publish(self.server, doc.uri)

    def closed(self, uri: str) -> None:
        if _kind(uri):  # /ship findings on the file stay: they are about the file on disk
            self.server.diagnostics.set(self.server, uri, SOURCE, [])

    def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        where = _where(self.server, params.text_document.uri, params.position)
        if where is None:
            return None
        path, text, line, character = where
        markdown = describe(path, text, line, character)
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown)) if markdown else None

    async def completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        items = authoring_completion(self.server, params)
        return lsp.CompletionList(is_incomplete=False, items=items) if items is not None else None


def _kind(uri: str) -> str | None:
    path = path_of(uri)
    return document_kind(path) if path is not None else None


def _where(ls: SkillwayServer, uri: str, position: lsp.Position):
    """(path, text, 0-based line, Python character index) in a plugin file, or None."""
    doc, path = document(ls, uri), path_of(uri)
    if doc is None or path is None or not _kind(uri) or len(doc.source) > MAX_DOCUMENT_CHARS:
        return None
    at = offset(doc, position)
    line_start = offset(doc, lsp.Position(position.line, 0))
    if at is None or line_start is None:
        return None
    return path, doc.source, position.line, at - line_start


def publish(ls: SkillwayServer, uri: str) -> None:
    doc, path = document(ls, uri), path_of(uri)
    if doc is None or path is None or not _kind(uri):
        return
    diagnostics = []
    lines = doc.lines
    for problem in diagnose(path, doc.source):
        line = max(0, problem.line - 1)
        text = lines[line].rstrip("\r\n") if line < len(lines) else ""
        column = min(max(0, problem.column - 1), len(text))
        start = lsp.Position(line, utf16_length(text[:column]))
        end = lsp.Position(line, max(start.character, utf16_length(text)))
        diagnostics.append(lsp.Diagnostic(range=lsp.Range(start=start, end=end), message=problem.message,
                                          severity=_SEVERITY[problem.severity.value], source=SOURCE))
    ls.diagnostics.set(ls, uri, SOURCE, diagnostics, doc.version)


def authoring_completion(ls: SkillwayServer, params: lsp.CompletionParams) -> list[lsp.CompletionItem] | None:
    """Completion items for a plugin file; None when the document is not one."""
    where = _where(ls, params.text_document.uri, params.position)
    if where is None:
        return None
    path, text, line, character = where
    line_start = offset(document(ls, params.text_document.uri), lsp.Position(line, 0))
    line_text = text[line_start:line_start + character + 4096].split("\n", 1)[0]

    def column(index: int) -> int:  # a Python index on the line, in the client's UTF-16 units
        return utf16_length(line_text[:index])

    items = []
    for candidate in complete(path, text, line, character):
        edit = None
        if candidate.replace is not None:  # e.g. inside quotes: the closing quote is replaced, not doubled
            start, end = candidate.replace
            edit = lsp.TextEdit(range=lsp.Range(start=lsp.Position(line, column(start)), end=lsp.Position(line, column(end))),
                                new_text=candidate.insert_text)
        items.append(lsp.CompletionItem(
            label=candidate.label,
            kind=lsp.CompletionItemKind.Property if candidate.kind == "key" else lsp.CompletionItemKind.Value,
            detail=candidate.detail or None,
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=candidate.documentation)
            if candidate.documentation else None,
            insert_text=None if edit else candidate.insert_text,
            text_edit=edit,
        ))
    return items

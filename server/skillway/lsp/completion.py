"""The model's suggestions: textDocument/inlineCompletion, and textDocument/completion for clients
without it."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from skillway.completion.context import OpenDocument, build_context
from skillway.lsp.documents import (
    MAX_DOCUMENT_CHARS,
    clamp,
    document,
    offset,
    path_of,
    utf16_length,
    version_of,
)
from skillway.lsp.feature import Feature
from skillway.lsp.server import SkillwayServer
from skillway.model.errors import ModelError

_WORD_BEFORE = re.compile(r"[\w.$-]*$")


class CompletionFeature(Feature):
    """The model's suggestion at the cursor: inline (ghost text), or as a completion item for clients
    without inline completion (or with the `completionItems` setting)."""

    async def inline_completion(self, params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList | None:
        ls, uri = self.server, params.text_document.uri
        here = cursor(ls, uri, params.position)
        suggestion = await suggest(ls, uri, here) if here is not None else None
        if here is None or not suggestion:
            return lsp.InlineCompletionList(items=[])
        at = lsp.Range(start=here, end=here)
        return lsp.InlineCompletionList(items=[lsp.InlineCompletionItem(insert_text=suggestion, range=at)])

    async def completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        ls, uri = self.server, params.text_document.uri
        if not wants_completion_items(ls, uri):
            return lsp.CompletionList(is_incomplete=False, items=[])
        here = cursor(ls, uri, params.position)
        suggestion = await suggest(ls, uri, here) if here is not None else None
        doc = document(ls, uri)
        if here is None or not suggestion or doc is None:
            return lsp.CompletionList(is_incomplete=True, items=[])
        line = doc.lines[here.line] if here.line < len(doc.lines) else ""
        at, line_start = offset(doc, here), offset(doc, lsp.Position(here.line, 0))
        assert at is not None and line_start is not None  # suggest() saw no change since `here` was clamped
        before = line[: at - line_start]
        match = _WORD_BEFORE.search(before)
        assert match is not None  # `*$` matches at the end of any text
        word = match.group(0)
        start = lsp.Position(here.line, here.character - utf16_length(word))
        first = suggestion.strip().split("\n", 1)[0]
        item = lsp.CompletionItem(
            label=(word + first)[:80] or "(suggestion)",
            kind=lsp.CompletionItemKind.Text,
            detail="skillway suggestion",
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=f"```\n{word + suggestion}\n```"),
            filter_text=word + suggestion,
            sort_text="0",
            text_edit=lsp.TextEdit(range=lsp.Range(start=start, end=here), new_text=word + suggestion),
        )
        # Incomplete: the list is asked for again as the user types, so the suggestion follows along.
        return lsp.CompletionList(is_incomplete=True, items=[item])

    def closed(self, uri: str) -> None:
        path = path_of(uri)
        if self.server.sessions is None or path is None:
            return
        _, engine = self.server.sessions.for_path(path)
        if engine is not None:
            engine.close(uri)


def wants_completion_items(ls: SkillwayServer, uri: str) -> bool:
    """Whether the suggestion comes as a completion item: the `completionItems` setting of the folder
    holding the document, else only for clients without inline completion."""
    path = path_of(uri)
    session = ls.sessions.for_path(path)[0] if ls.sessions is not None and path is not None else None
    setting = session.settings.completion_items if session is not None else None
    return (not ls.supports_inline_completion) if setting is None else setting


def cursor(ls: SkillwayServer, uri: str, position: lsp.Position) -> lsp.Position | None:
    """Where a suggestion asked for at `position` goes: inside the document (a column past the end
    of its line is the line's end), or None for a document not open or a line it does not have."""
    doc = document(ls, uri)
    return clamp(doc, position) if doc is not None else None


async def suggest(ls: SkillwayServer, uri: str, position: lsp.Position) -> str | None:
    """The suggestion at `position`, or None. Never raises for bad input or model errors."""
    doc, path = document(ls, uri), path_of(uri)
    if doc is None or path is None or ls.sessions is None or len(doc.source) > MAX_DOCUMENT_CHARS:
        return None
    session, engine = ls.sessions.for_path(path)
    where = offset(doc, position)
    if session is None or engine is None or where is None:
        return None
    version = doc.version
    others = [OpenDocument(p, d.language_id or "", d.source) for d in ls.workspace.text_documents.values()
              if d.uri != uri and (p := path_of(d.uri)) is not None and len(d.source) <= MAX_DOCUMENT_CHARS]
    context = build_context(doc.source, where, path, doc.language_id or path.suffix.lstrip("."),
                            workspace=session.workspace, others=others)
    if context is None:
        return None  # a file that looks like a secret is never sent
    try:
        suggestion = await engine.suggest(uri, context)
    except ModelError as error:
        ls.model_error(error)
        return None
    ls.model_ok()
    if version_of(ls, uri) != version:
        return None  # the document changed while we waited: the suggestion is for an old text
    return suggestion

"""The one owner of each LSP method: document events fan out to every feature, a request asks the
features in turn, a command goes to the feature that declared it with its arguments typed. One
feature's error is logged and never stops the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from lsprotocol import types as lsp

from skillway.lsp import documents
from skillway.lsp.feature import ArgumentError, CommandHandler, CommandResult, Feature, structure_arguments
from skillway.lsp.server import SkillwayServer, cancellable

log = logging.getLogger(__name__)

COMPLETION_TRIGGERS = ['"', ":", " ", "/"]
CODE_ACTION_KINDS = [lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite, lsp.CodeActionKind.Source]


def register(server: SkillwayServer, features: Sequence[Feature]) -> None:
    def fan_out(what: str, *args: Any) -> None:
        for feature in features:
            try:
                getattr(feature, what)(*args)
            except Exception:
                log.exception("%s.%s failed", type(feature).__name__, what)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SkillwayServer, params: lsp.DidOpenTextDocumentParams) -> None:
        doc = documents.document(ls, params.text_document.uri)
        if doc is not None:
            fan_out("opened", doc)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SkillwayServer, params: lsp.DidChangeTextDocumentParams) -> None:
        doc = documents.document(ls, params.text_document.uri)
        if doc is not None:
            fan_out("changed", doc)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SkillwayServer, params: lsp.DidCloseTextDocumentParams) -> None:
        fan_out("closed", params.text_document.uri)
        documents.forget(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=COMPLETION_TRIGGERS))
    async def completion(ls: SkillwayServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        for feature in features:
            try:
                answer = await feature.completion(params)
            except Exception:
                log.exception("%s.completion failed", type(feature).__name__)
                continue
            if answer is not None:
                return answer
        return lsp.CompletionList(is_incomplete=False, items=[])

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(ls: SkillwayServer, params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList:
        for feature in features:
            try:
                answer = await feature.inline_completion(params)
            except Exception:
                log.exception("%s.inline_completion failed", type(feature).__name__)
                continue
            if answer is not None:
                return answer
        return lsp.InlineCompletionList(items=[])

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True))
    def code_action(ls: SkillwayServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        actions: list[lsp.CodeAction] = []
        for feature in features:
            try:
                actions += feature.code_actions(params)
            except Exception:
                log.exception("%s.code_actions failed", type(feature).__name__)
        return actions

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def resolve_code_action(ls: SkillwayServer, action: lsp.CodeAction) -> lsp.CodeAction:
        for feature in features:
            try:
                resolved = await feature.resolve_code_action(action)
            except Exception:
                log.exception("%s.resolve_code_action failed", type(feature).__name__)
                continue
            if resolved is not None:
                return resolved
        return action

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: SkillwayServer, params: lsp.HoverParams) -> lsp.Hover | None:
        for feature in features:
            try:
                answer = feature.hover(params)
            except Exception:
                log.exception("%s.hover failed", type(feature).__name__)
                continue
            if answer is not None:
                return answer
        return None

    for feature in features:
        for name, (kind, handler) in feature.commands().items():
            _register_command(server, name, kind, handler)


def _register_command(server: SkillwayServer, name: str, kind: type[Any], handler: CommandHandler) -> None:
    @server.command(name)
    @cancellable
    async def run(ls: SkillwayServer, *arguments: Any) -> Any:
        try:
            params = structure_arguments(list(arguments), kind)
        except ArgumentError as problem:
            ls.tell(f"{name}: {problem}")
            return CommandResult.refused(str(problem)).as_json()
        try:
            answer = await handler(params)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: the user hears of it and the server goes on
            log.exception("%s failed", name)
            ls.tell(f"{name} failed: {exc}", lsp.MessageType.Error)
            return CommandResult.refused(f"{name} failed: {exc}").as_json()
        return answer.as_json() if isinstance(answer, CommandResult) else answer

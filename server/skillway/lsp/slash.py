"""Slash commands in the editor: the `skillway.listCommands` and `skillway.runSlashCommand` commands
(an adapter over run_prompt), with the completion and code actions of slash lines (lsp/slash_lines.py)."""

from __future__ import annotations

from typing import Any

import attrs
from lsprotocol import types as lsp

from skillway.core.reports import write_report
from skillway.lsp.documents import document, path_of
from skillway.lsp.editor import EditorInterface, run_in_editor, show_document
from skillway.lsp.feature import CommandHandler, CommandResult, Feature, arguments
from skillway.lsp.sessions import is_chat, session_for
from skillway.lsp.ship import present_ship
from skillway.lsp.slash_lines import slash_actions, slash_completion
from skillway.plugins.catalog import Entry
from skillway.plugins.model import Command, Skill


@arguments
@attrs.frozen
class SlashCommandParams:
    command: str = ""  # the command's name, with or without its `/`
    arguments: str = ""
    uri: str | None = None  # where it was typed: a chat buffer, or a code line (the answer opens as a report)


@arguments
@attrs.frozen
class WhereParams:
    uri: str | None = None  # a document of the workspace whose commands are meant


class SlashFeature(Feature):
    """Slash commands: `/name` completed at the start of a line, "Send" and "Run /name" code actions,
    and the listCommands / runSlashCommand commands."""

    def commands(self) -> dict[str, tuple[type[Any], CommandHandler]]:
        return {"skillway.listCommands": (WhereParams, self.list_commands),
                "skillway.runSlashCommand": (SlashCommandParams, self.run_slash_command)}

    async def completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        items = slash_completion(self.server, params)
        return lsp.CompletionList(is_incomplete=False, items=items) if items is not None else None

    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        ls = self.server
        doc, path = document(ls, params.text_document.uri), path_of(params.text_document.uri)
        session = ls.sessions.for_path(path)[0] if ls.sessions is not None and path is not None else None
        if doc is None or session is None:
            return []
        return slash_actions(ls, doc, params.range.start.line, session.catalog)

    async def list_commands(self, params: WhereParams) -> list[dict[str, Any]]:
        session = session_for(self.server, params.uri)
        return [] if session is None else [_describe(entry) for entry in session.catalog.commands]

    async def run_slash_command(self, params: SlashCommandParams) -> CommandResult:
        ls = self.server
        command = params.command.strip()
        if not command:
            ls.tell("skillway.runSlashCommand needs a command")
            return CommandResult.refused("no command")
        typed = ("/" + command.lstrip("/") + " " + params.arguments).strip()
        session = session_for(ls, params.uri)
        if session is None:
            return CommandResult.refused("no workspace session yet")
        outcome = await run_in_editor(ls, session, typed, EditorInterface(ls, typed))
        if outcome.ship is not None:
            return await present_ship(ls, session, outcome.ship)
        if outcome.result is None:  # refused or failed: the user was told why
            return CommandResult.refused(outcome.text)
        report = None
        if params.uri and not is_chat(ls, params.uri):  # from a code line: the answer opens as a report
            report = write_report(session.workspace, typed.split()[0].lstrip("/"), typed, outcome.text).as_uri()
            await show_document(ls, report)
        return CommandResult(ok=True, result=outcome.text, turns=outcome.result.turns, report=report)


def _describe(entry: Entry[Command | Skill]) -> dict[str, Any]:
    return {"name": entry.qualified, "kind": entry.kind, "description": entry.item.description,
            "argument_hint": entry.item.argument_hint, "plugin": entry.plugin.name}

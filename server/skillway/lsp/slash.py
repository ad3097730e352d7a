"""Slash commands in the editor: completion of `/name` at the start of a line in a chat buffer or a
comment, and the `skillway.listCommands` / `skillway.runSlashCommand` commands."""

from __future__ import annotations

import re
from typing import Any

import attrs
from lsprotocol import types as lsp

from skillway.core.reports import write_report
from skillway.lsp.documents import document, path_of
from skillway.lsp.editor import EditorInterface, run_in_editor, show_document
from skillway.lsp.feature import CommandHandler, CommandResult, Feature, arguments
from skillway.lsp.server import SkillwayServer
from skillway.lsp.sessions import is_chat, session_for
from skillway.lsp.ship import present_ship
from skillway.plugins.catalog import Entry, UnknownName
from skillway.plugins.model import Command, Skill

# A slash command typed on its own line, possibly inside a comment: `# /review`, `// /fix`, `-- /x`.
_SLASH_LINE = re.compile(r"^(?P<lead>\s*(?:#|//|--|;+|\*|/\*)?\s*)/(?P<name>[\w:.-]*)$")
_SLASH_COMMAND_LINE = re.compile(r"^\s*(?:#|//|--|;+|\*|/\*)?\s*/(?P<name>[\w:.-]+)[ \t]*(?P<arguments>.*?)\s*$")


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


def slash_completion(ls: SkillwayServer, params: lsp.CompletionParams) -> list[lsp.CompletionItem] | None:
    """Command names when `/` starts the line (in a chat buffer, or after a comment marker)."""
    uri = params.text_document.uri
    doc = document(ls, uri)
    if doc is None or params.position.line >= len(doc.lines):
        return None
    before = doc.lines[params.position.line][: params.position.character]
    match = _SLASH_LINE.match(before)
    if match is None or (not is_chat(ls, uri) and not match.group("lead").strip()):
        return None
    session = session_for(ls, uri)
    if session is None:
        return []
    start = lsp.Position(params.position.line, len(match.group("lead")))
    items = []
    for entry in session.catalog.commands:
        hint = f" {entry.item.argument_hint}" if entry.item.argument_hint else ""
        items.append(lsp.CompletionItem(
            label=f"/{entry.qualified}", kind=lsp.CompletionItemKind.Function, detail=(entry.item.description or "")[:120],
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                            value=f"`/{entry.qualified}{hint}` ({entry.kind} from {entry.plugin.name})\n\n"
                                                  f"{entry.item.description}"),
            filter_text=f"/{entry.qualified}",
            text_edit=lsp.TextEdit(range=lsp.Range(start=start, end=params.position), new_text=f"/{entry.qualified} ")))
    return items


def slash_actions(ls: SkillwayServer, doc, line: int, catalog) -> list[lsp.CodeAction]:
    """"Send" in a chat buffer; "Run /name" on a line holding a known slash command."""
    actions = []
    chat = is_chat(ls, doc.uri)
    if chat:
        actions.append(lsp.CodeAction(title="skillway: Send", kind=lsp.CodeActionKind.Source,
                                      command=lsp.Command(title="Send", command="skillway.sendChat", arguments=[doc.uri])))
    text = doc.lines[line] if line < len(doc.lines) else ""
    match = _SLASH_COMMAND_LINE.match(text.rstrip("\r\n"))
    if match and not chat:
        try:
            catalog.resolve_command(match["name"])
        except UnknownName:
            return actions  # a path or a word, not a command
        spec = {"command": match["name"], "arguments": match["arguments"], "uri": doc.uri}
        actions.append(lsp.CodeAction(title=f"skillway: Run /{match['name']}", kind=lsp.CodeActionKind.Source,
                                      command=lsp.Command(title=f"Run /{match['name']}", command="skillway.runSlashCommand",
                                                          arguments=[spec])))
    return actions



"""Where a slash command is typed on a line: `/name` completed at the start of a line in a chat buffer
or after a comment marker, and the "Send" / "Run /name" code actions of such a line."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from skillway.lsp.documents import document
from skillway.lsp.server import SkillwayServer
from skillway.lsp.sessions import is_chat, session_for
from skillway.plugins.catalog import UnknownName

# A slash command typed on its own line, possibly inside a comment: `# /review`, `// /fix`, `-- /x`.
_SLASH_LINE = re.compile(r"^(?P<lead>\s*(?:#|//|--|;+|\*|/\*)?\s*)/(?P<name>[\w:.-]*)$")
_SLASH_COMMAND_LINE = re.compile(r"^\s*(?:#|//|--|;+|\*|/\*)?\s*/(?P<name>[\w:.-]+)[ \t]*(?P<arguments>.*?)\s*$")



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
    # The MCP servers' prompts, of those running; the others start now, for the next completion.
    session.mcp.warm()
    for prompt in session.mcp.running_prompts():
        hint = "".join(f" <{argument}>" for argument in prompt.arguments)
        items.append(lsp.CompletionItem(
            label=f"/{prompt.name}", kind=lsp.CompletionItemKind.Function, detail=prompt.description[:120],
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                            value=f"`/{prompt.name}{hint}` (prompt of the MCP server {prompt.server})\n\n"
                                                  f"{prompt.description}"),
            filter_text=f"/{prompt.name}",
            text_edit=lsp.TextEdit(range=lsp.Range(start=start, end=params.position), new_text=f"/{prompt.name} ")))
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



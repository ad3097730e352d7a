"""Slash commands in the editor: completion of `/name` at the start of a line in a chat buffer or a
comment, and the `skillway.listCommands` / `skillway.runSlashCommand` commands."""

from __future__ import annotations

import fnmatch
import re

from lsprotocol import types as lsp

from skillway.lsp.documents import document, path_of, utf16_length
from skillway.lsp.server import SkillwayServer, cancellable

# A slash command typed on its own line, possibly inside a comment: `# /review`, `// /fix`, `-- /x`.
_SLASH_LINE = re.compile(r"^(?P<lead>\s*(?:#|//|--|;+|\*|/\*)?\s*)/(?P<name>[\w:.-]*)$")
_SLASH_COMMAND_LINE = re.compile(r"^\s*(?:#|//|--|;+|\*|/\*)?\s*/(?P<name>[\w:.-]+)[ \t]*(?P<arguments>.*?)\s*$")


def register(server: SkillwayServer) -> None:
    @server.command("skillway.listCommands")
    def list_commands(ls: SkillwayServer, *arguments) -> list[dict]:
        session = session_for(ls, arguments[0].get("uri") if arguments and isinstance(arguments[0], dict) else None)
        return [] if session is None else [_describe(entry) for entry in session.catalog.commands]

    @server.command("skillway.runSlashCommand")
    @cancellable
    async def run_slash_command(ls: SkillwayServer, *arguments) -> dict:
        from skillway.agent.loop import AgentLoop
        from skillway.lsp.actions import with_progress
        from skillway.model.errors import ModelError
        from skillway.ship.orchestrator import fan_out_command
        from skillway.slash.prepare import PromptRefused, prepare

        spec = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
        command = str(spec.get("command", "")).strip()
        if not command:
            ls.tell("skillway.runSlashCommand needs a command")
            return {"ok": False, "error": "no command"}
        typed = ("/" + command.lstrip("/") + " " + str(spec.get("arguments") or "")).strip()
        session = session_for(ls, spec.get("uri"))
        if session is None:
            return {"ok": False, "error": "no workspace session yet"}
        if fan_out_command(session, typed) is not None:  # /ship: skillway runs the reviewers itself
            from skillway.lsp.ship import ship

            return (await ship(ls, session, typed))[0]
        try:
            prepared = await prepare(session, typed)
            loop = AgentLoop(session, allowed_tools=prepared.allowed_tools, model=prepared.model,
                             ask=lambda question: ask_user(ls, question), editor=EditorFiles(ls))
            result = await with_progress(ls, f"skillway: {typed.split()[0]}", loop.run(prepared.text))
        except PromptRefused as refused:
            ls.tell(str(refused))
            return {"ok": False, "error": str(refused)}
        except ModelError as error:
            ls.action_failed(error)
            return {"ok": False, "error": error.message}
        ls.model_ok()
        for notice in result.notices:
            ls.tell(notice, lsp.MessageType.Info)
        answer = {"ok": True, "result": result.text, "turns": result.turns}
        if spec.get("uri") and not is_chat(ls, spec["uri"]):  # from a code line: the answer opens as a report
            from skillway.lsp.actions import show_document
            from skillway.reports import write_report

            report = write_report(session.workspace, typed.split()[0].lstrip("/"), typed, result.text)
            answer["report"] = report.as_uri()
            await show_document(ls, report.as_uri())
        return answer


async def ask_user(ls: SkillwayServer, question: str) -> bool:
    """A yes/no question in the editor (a tool's "ask" permission); no answer means no."""
    params = lsp.ShowMessageRequestParams(type=lsp.MessageType.Warning, message=f"skillway: {question}",
                                          actions=[lsp.MessageActionItem(title="Allow"), lsp.MessageActionItem(title="Deny")])
    try:
        answer = await ls.window_show_message_request_async(params)
    except Exception:  # noqa: BLE001 - a client that cannot ask: not allowed
        return False
    return answer is not None and answer.title == "Allow"


def session_for(ls: SkillwayServer, uri: str | None):
    if ls.sessions is None or not ls.sessions.by_folder:
        return None
    path = path_of(uri) if uri else None
    session, _ = ls.sessions.for_path(path) if path else (None, None)
    return session or next(iter(ls.sessions.by_folder.values()))


def _describe(entry) -> dict:
    return {"name": entry.qualified, "kind": entry.kind, "description": entry.item.description,
            "argument_hint": entry.item.argument_hint, "plugin": entry.plugin.name}


def is_chat(ls: SkillwayServer, uri: str) -> bool:
    """Whether the document is a chat buffer (the `chatPattern` setting, `*.chat.md` by default)."""
    path = path_of(uri)
    session = session_for(ls, uri)
    return path is not None and session is not None and fnmatch.fnmatch(path.name, session.settings.chat_pattern)


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
    from skillway.plugins.catalog import UnknownName

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


class EditorFiles:
    """The agent's Edit and Write in the editor: they read the editor's (unsaved) text and change
    files through workspace/applyEdit, versioned when the document is open."""

    def __init__(self, ls: SkillwayServer) -> None:
        self.ls = ls

    def text_of(self, path) -> str | None:
        doc = document(self.ls, path.as_uri())
        return doc.source if doc is not None else None

    async def replace(self, path, text: str) -> bool:
        uri = path.as_uri()
        doc = document(self.ls, uri)
        if doc is not None:
            lines = doc.source.split("\n")
            end = lsp.Position(len(lines) - 1, utf16_length(lines[-1]))
            changes = [lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                                            edits=[lsp.TextEdit(range=lsp.Range(start=lsp.Position(0, 0), end=end), new_text=text)])]
        else:  # not open: the editor creates (or overwrites) it
            changes = [lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(overwrite=True)),
                       lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                            edits=[lsp.TextEdit(range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)),
                                                                new_text=text)])]
        result = await self.ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(
            edit=lsp.WorkspaceEdit(document_changes=changes), label="skillway"))
        return bool(result.applied)

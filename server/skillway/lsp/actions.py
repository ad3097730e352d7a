"""Code actions: listed without the model; the model runs in codeAction/resolve, or through the
`skillway.runCodeAction` command for clients that do not resolve. Edits are versioned: when the
document changed meanwhile, nothing is applied and the user is told."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from skillway.actions.catalog import available
from skillway.actions.run import ActionInput, ActionRefused, perform
from skillway.lsp.documents import document, offset, path_of, utf16_length
from skillway.lsp.editor import show_document, with_progress
from skillway.lsp.feature import CommandHandler, Feature
from skillway.lsp.server import SkillwayServer
from skillway.model.errors import ModelError

RUN_ACTION = "skillway.runCodeAction"
CONTEXT_BEFORE, CONTEXT_AFTER = 1500, 800


class CodeActionsFeature(Feature):
    """Code actions that ask the model (explain, fix, refactor, document, tests, apply a skill)."""

    def commands(self) -> dict[str, tuple[type[Any], CommandHandler]]:
        # The action's data is skillway's own, round-tripped by the client: run_action checks it.
        return {RUN_ACTION: (Any, self.run_command), "skillway.showDocument": (str, self.show_command)}

    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return list_actions(self.server, params)

    async def resolve_code_action(self, action: lsp.CodeAction) -> lsp.CodeAction | None:
        data = action.data if isinstance(action.data, dict) else {}
        outcome = await run_action(self.server, data)
        if isinstance(outcome, lsp.WorkspaceEdit):
            action.edit = outcome
        elif isinstance(outcome, str):  # a report: the client opens it through our command
            action.command = lsp.Command(title="Open report", command="skillway.showDocument", arguments=[outcome])
        return action

    async def run_command(self, data: Any) -> None:
        ls = self.server
        data = data if isinstance(data, dict) else {}
        outcome = await run_action(ls, data)
        if isinstance(outcome, lsp.WorkspaceEdit):
            doc = document(ls, data.get("uri", ""))
            if doc is None or doc.version != data.get("version"):
                ls.tell("the document changed while the model worked; nothing was applied")
                return
            result = await ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=outcome, label="skillway"))
            if not result.applied:
                ls.tell(f"the editor did not apply the edit: {result.failure_reason or 'no reason given'}")
        elif isinstance(outcome, str):
            await show_document(ls, outcome)

    async def show_command(self, uri: str) -> None:
        await show_document(self.server, uri)


def supports_resolve(ls: SkillwayServer) -> bool:
    document_caps = ls.client_capabilities.text_document if ls.client_capabilities else None
    action_caps = document_caps.code_action if document_caps else None
    support = action_caps.resolve_support if action_caps else None
    return bool(support and "edit" in (support.properties or []))


def list_actions(ls: SkillwayServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    doc, path = document(ls, uri), path_of(uri)
    if doc is None or path is None or ls.sessions is None:
        return []
    session, _ = ls.sessions.for_path(path)
    if session is None:
        return []
    start, end = offset(doc, params.range.start), offset(doc, params.range.end)
    if start is None or end is None:
        return []
    skills = [(e.qualified, e.item.description) for e in session.catalog.commands if e.kind == "skill"]
    diagnostics = list(params.context.diagnostics)
    resolvable = supports_resolve(ls)
    actions = []
    for spec in available(has_selection=end > start, diagnostics=[d.message for d in diagnostics], skills=skills):
        target = params.range
        diagnostic = None
        if spec.id.startswith("fix:"):
            diagnostic = diagnostics[int(spec.id.split(":")[1])]
            target = whole_lines(doc, diagnostic.range)
        data = {"action": spec.id.split(":")[0] if spec.id.startswith("fix:") else spec.id, "uri": uri,
                "version": doc.version, "range": {"start": [target.start.line, target.start.character],
                                                   "end": [target.end.line, target.end.character]},
                "diagnostic": diagnostic.message if diagnostic else None}
        action = lsp.CodeAction(title=spec.title, kind=spec.kind, data=data,
                                diagnostics=[diagnostic] if diagnostic else None)
        # Reports are opened by the command: resolve can only bring an edit to some clients (VS Code).
        if not resolvable or not spec.edits:
            action.command = lsp.Command(title=spec.title, command=RUN_ACTION, arguments=[data])
        actions.append(action)
    return actions


def whole_lines(doc, target: lsp.Range) -> lsp.Range:
    last = min(target.end.line, len(doc.lines) - 1) if doc.lines else 0
    end_character = utf16_length(doc.lines[last].rstrip("\r\n")) if doc.lines else 0
    return lsp.Range(start=lsp.Position(target.start.line, 0), end=lsp.Position(last, end_character))


async def run_action(ls: SkillwayServer, data: dict) -> lsp.WorkspaceEdit | str | None:
    """Run the action `data` describes: a versioned edit, the URI of a report, or None (told why)."""
    uri = data.get("uri")
    doc, path = document(ls, uri or ""), path_of(uri or "")
    try:
        (start_line, start_char), (end_line, end_char) = data["range"]["start"], data["range"]["end"]
        target = lsp.Range(start=lsp.Position(int(start_line), int(start_char)), end=lsp.Position(int(end_line), int(end_char)))
    except (KeyError, TypeError, ValueError):
        ls.tell("this code action is malformed; list the actions again")
        return None
    if uri is None or doc is None or path is None or ls.sessions is None:
        ls.tell("the document is not open any more")
        return None
    if doc.version != data.get("version"):
        ls.tell("the document changed since the action was offered; nothing was done")
        return None
    session, _ = ls.sessions.for_path(path)
    start, end = offset(doc, target.start), offset(doc, target.end)
    if session is None or start is None or end is None:
        ls.tell("this code action no longer fits the document")
        return None
    text = doc.source
    request = ActionInput(action=str(data.get("action")), path=path, language=doc.language_id or path.suffix.lstrip("."),
                          selection=text[start:end], before=text[max(0, start - CONTEXT_BEFORE):start],
                          after=text[end:end + CONTEXT_AFTER], diagnostic=data.get("diagnostic"))
    try:
        result = await with_progress(ls, f"skillway: {request.action}", perform(session, request))
    except ModelError as error:
        ls.action_failed(error)
        return None
    except ActionRefused as refused:
        ls.tell(str(refused))
        return None
    ls.model_ok()
    if result.report is not None:
        return result.report.as_uri()
    identifier = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=data["version"])
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
        text_document=identifier, edits=[lsp.TextEdit(range=target, new_text=result.new_text)])])



"""initialize / initialized / configuration / shutdown: sessions come and go with the editor."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from skillway.lsp.editor import with_progress
from skillway.lsp.server import SkillwayServer
from skillway.lsp.sessions import Sessions
from skillway.model.client import warm_up
from skillway.plugins.mcp_config import APPROVE, APPROVE_ALL, REFUSE

log = logging.getLogger(__name__)
TRUST, NOT_NOW = "Trust this workspace", "Not now"


def register(server: SkillwayServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: SkillwayServer, params: lsp.InitializeParams) -> None:
        # Only remember what was sent: the answer must go out fast.
        options = params.initialization_options
        ls.initialization_options = options if isinstance(options, dict) else {}

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: SkillwayServer, params: lsp.InitializedParams) -> None:
        warm_up()
        ls.sessions = Sessions(ls.initialization_options, ls.plugin_dirs)
        for folder in workspace_folders(ls):
            try:
                session = ls.sessions.open(folder)
            except Exception as exc:
                log.exception("cannot open %s", folder)
                ls.tell(f"cannot open the workspace {folder}: {exc}", lsp.MessageType.Error)
                continue
            for problem in session.settings.problems:
                ls.tell(problem.format(), _message_type(problem))
            ls.sessions.started[folder.resolve()] = asyncio.ensure_future(start_session(ls, session))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(ls: SkillwayServer, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        if ls.sessions is None:
            return
        for folder in params.event.removed:
            removed = _folder_path(folder.uri)
            session = ls.sessions.close(removed) if removed is not None else None
            if session is not None:
                await session.end("other")
        for folder in params.event.added:
            path = _folder_path(folder.uri)
            if path is None:
                continue
            session = ls.sessions.open(path)
            ls.sessions.started[session.workspace] = asyncio.ensure_future(start_session(ls, session))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: SkillwayServer, params: lsp.DidChangeConfigurationParams) -> None:
        if ls.sessions is None:
            return
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("skillway"), dict):
            options = settings["skillway"]
        else:
            options = await pull_configuration(ls)
        if options is None:
            return
        for problem in ls.sessions.apply_options(options):
            ls.tell(problem.format(), _message_type(problem))

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: SkillwayServer, params: None) -> None:
        if ls.sessions is not None:
            await ls.sessions.end_all("other")


def _message_type(problem) -> lsp.MessageType:
    return lsp.MessageType.Error if problem.is_error else lsp.MessageType.Warning


def workspace_folders(ls: SkillwayServer) -> list[Path]:
    folders = [path for f in ls.workspace.folders.values() if (path := _folder_path(f.uri)) is not None]
    if not folders and ls.workspace.root_path:
        folders = [Path(ls.workspace.root_path)]
    return folders or [Path.cwd()]


def _folder_path(uri: str) -> Path | None:
    """The folder on disk, or None (logged) for a folder that is not a file URI: it gets no session."""
    path = to_fs_path(uri)
    if path is None:
        log.warning("the workspace folder %s is not on disk (not a file: URI); it is left out", uri)
    return Path(path) if path is not None else None


async def pull_configuration(ls: SkillwayServer) -> dict | None:
    workspace = ls.client_capabilities.workspace if ls.client_capabilities else None
    if not (workspace and workspace.configuration):
        return None
    try:
        params = lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="skillway")])
        result = await ls.workspace_configuration_async(params)
    except Exception:
        log.exception("workspace/configuration failed")
        return None
    value = result[0] if result else None
    return value if isinstance(value, dict) else None


async def start_session(ls: SkillwayServer, session) -> None:
    """Ask about trust when the workspace brings hooks or settings that wait for it, then fire SessionStart."""
    if session.waits_for_trust() and await ask_trust(ls, session.workspace, len(session.untrusted_hooks()),
                                                    session.held_back(), len(session.untrusted_mcp_servers())):
        session.trust_workspace()
        if session.settings.held_back or session.plugins.held_back:  # its settings and plugin choices apply from now on
            assert ls.sessions is not None  # made on `initialized`, before any session starts
            session = ls.sessions.open(session.workspace)
    await approve_mcp_servers(ls, session)
    # A hook's statusMessage shows as progress while it runs, as Claude Code shows it while it waits.
    session.hooks.context.show_status = lambda text, work: with_progress(ls, text, work)
    outcome = await session.start("startup")
    for message in outcome.system_messages + outcome.warnings:
        ls.tell(message, lsp.MessageType.Info)


async def ask_trust(ls: SkillwayServer, workspace: Path, count: int, settings: tuple[str, ...] = (),
                    servers: int = 0) -> bool:
    brings = []
    if count:
        brings.append(f"{count} hook{'s' if count > 1 else ''} of its own that run commands on this machine")
    if servers:
        brings.append(f"{servers} MCP server{'s' if servers > 1 else ''} in its .mcp.json")
    if settings:
        brings.append(f"settings that decide where requests go and what loads ({', '.join(settings)})")
    params = lsp.ShowMessageRequestParams(
        type=lsp.MessageType.Warning,
        message=f"skillway: {workspace} brings {' and '.join(brings)}. "
                f"Trust this workspace and {'apply them' if settings else 'let them run'}?",
        actions=[lsp.MessageActionItem(title=TRUST), lsp.MessageActionItem(title=NOT_NOW)],
    )
    try:
        answer = await ls.window_show_message_request_async(params)
    except Exception:
        return False
    return answer is not None and answer.title == TRUST


# Claude Code's three answers about a workspace's `.mcp.json` server, in its words.
MCP_ANSWERS = {"Use this and all future MCP servers in this project": APPROVE_ALL,
               "Use this MCP server": APPROVE, "Continue without using this MCP server": REFUSE}


async def approve_mcp_servers(ls: SkillwayServer, session) -> None:
    """Ask about each `.mcp.json` server of a trusted workspace that nobody has approved or refused,
    and keep the answer where Claude Code keeps it. A dismissed question decides nothing: the server
    does not start, and the next session asks again."""
    for name in session.pending_mcp_servers():
        params = lsp.ShowMessageRequestParams(
            type=lsp.MessageType.Warning,
            message=f"skillway: new MCP server found in {session.workspace / '.mcp.json'}: {name}. "
                    "It runs on this machine with your rights. Use it?",
            actions=[lsp.MessageActionItem(title=title) for title in MCP_ANSWERS])
        try:
            answer = await ls.window_show_message_request_async(params)
        except Exception:
            return
        if answer is None or answer.title not in MCP_ANSWERS:
            continue
        try:
            session.answer_mcp_server(name, MCP_ANSWERS[answer.title])
        except ValueError as exc:  # the settings file is not one we may rewrite: told, and nothing starts
            ls.tell(f"cannot keep the answer about the MCP server {name}: {exc}", lsp.MessageType.Error)
            return
        if MCP_ANSWERS[answer.title] == APPROVE_ALL:
            return

"""skillway as an ACP agent: the protocol's methods, each a thin adapter over a `Session` and the one
`run_prompt`. A session is a stored one (resumable by `session/load`, by `--resume` in a terminal);
its SessionStart hooks run when it opens, after the person was asked whether to trust a workspace
whose own hooks, MCP servers or settings would run; one prompt runs at a time in each."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError
from acp.helpers import update_available_commands, update_current_mode
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    AuthenticateResponse,
    AuthMethodAgent,
    AvailableCommand,
    AvailableCommandInput,
    ClientCapabilities,
    EnvVarAuthMethod,
    Implementation,
    InitializeResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionMode,
    SessionModeState,
    SetSessionModeResponse,
    StopReason,
    TerminalAuthMethod,
    UnstructuredCommandInput,
)

from skillway import __version__
from skillway.acp import updates
from skillway.acp.client_tools import ClientFiles, ClientTerminal
from skillway.acp.interface import ALLOW, ALWAYS, REJECT, AcpInterface, Choice
from skillway.acp.prompt import client_servers, typed_text
from skillway.app import stored
from skillway.app.run import RunOptions, RunOutcome, Status, run_prompt
from skillway.app.session import Session
from skillway.model.client import ModelClient
from skillway.model.errors import Kind
from skillway.plugins.mcp_config import APPROVE, APPROVE_ALL, MCP_FILE, REFUSE
from skillway.settings import data_dir, load_settings
from skillway.ship.orchestrator import fan_out_command

log = logging.getLogger(__name__)
MODES = {"default": "Ask before edits and commands no rule allows",
         "acceptEdits": "Edit files without asking; ask before other commands",
         "bypassPermissions": "Run every tool without asking"}
# skillway reads its credentials itself, as it does everywhere: these say where it looks.
AUTH_METHODS: list[EnvVarAuthMethod | TerminalAuthMethod | AuthMethodAgent] = [
    AuthMethodAgent(id="anthropic-api-key", name="Anthropic API key",
                    description="ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) in the agent's environment"),
    AuthMethodAgent(id="base-url", name="A local or gateway API",
                    description="ANTHROPIC_BASE_URL, or the baseUrl setting, naming a server that needs no key")]
STOP_REASONS: dict[str, StopReason] = {"max_turns": "max_turn_requests"}
BUILT_IN_COMMANDS = [AvailableCommand(name="compact", description="Sum the conversation up and go on from that",
                                      input=AvailableCommandInput(root=UnstructuredCommandInput(hint="[what to keep]")))]


@dataclass
class AcpSession:
    session: Session
    ui: AcpInterface
    started: bool = False  # its SessionStart hooks ran (after the trust question, when there was one)
    source: str = "startup"  # what SessionStart is told: startup, or resume for a loaded session
    running: asyncio.Task[RunOutcome] | None = None
    cancelled: bool = False
    notices: list[str] = field(default_factory=list)


class SkillwayAgent:
    def __init__(self, plugin_dirs: list[Path] | None = None) -> None:
        self.plugin_dirs = plugin_dirs or []
        self.client: Client | None = None
        self.capabilities = ClientCapabilities()
        self.sessions: dict[str, AcpSession] = {}

    def on_connect(self, conn: Client) -> None:
        self.client = conn

    # --- connection --------------------------------------------------------------------------------

    async def initialize(self, protocol_version: int, client_capabilities: ClientCapabilities | None = None,
                         client_info: Implementation | None = None, **kwargs: Any) -> InitializeResponse:
        self.capabilities = client_capabilities or ClientCapabilities()
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(load_session=True,
                                                 prompt_capabilities=PromptCapabilities(embedded_context=True),
                                                 mcp_capabilities=McpCapabilities(http=True, sse=True)),
            auth_methods=AUTH_METHODS,
            agent_info=Implementation(name="skillway", title="skillway", version=__version__))

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse:
        """skillway reads its credentials itself: this says whether they are there."""
        if method_id not in {method.id for method in AUTH_METHODS}:
            raise RequestError.invalid_params({"message": f"unknown authentication method {method_id!r}"})
        problem = ModelClient(load_settings(Path.cwd()), project="").credential_problem()
        if problem is not None:
            raise RequestError.auth_required({"message": problem})
        return AuthenticateResponse()

    # --- sessions --------------------------------------------------------------------------------

    async def new_session(self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any) -> NewSessionResponse:
        opened = self._open(cwd, mcp_servers, session_id=stored.new_session_id())
        await self._start_unless_asking(opened)
        return NewSessionResponse(session_id=opened.session.session_id, modes=self._modes(opened))

    async def load_session(self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None,
                           **kwargs: Any) -> LoadSessionResponse:
        if session_id in self.sessions:
            raise RequestError.invalid_params({"message": f"the session {session_id} is open already"})
        path = stored.find(data_dir(), session_id) if stored.is_session_id(session_id) else None
        if path is None:
            raise RequestError.resource_not_found(session_id)
        opened = self._open(cwd, mcp_servers, session_id=session_id, transcript=path)
        opened.source = "resume"
        workspace = opened.session.workspace
        for message in opened.session.transcript.messages():
            for update in updates.replayed_updates(message, workspace):
                opened.ui.send(update)
        await opened.ui.flush()
        await self._start_unless_asking(opened)
        return LoadSessionResponse(modes=self._modes(opened))

    def _open(self, cwd: str, mcp_servers: list[Any] | None, *, session_id: str, transcript: Path | None = None) -> AcpSession:
        workspace = Path(cwd)
        if not workspace.is_absolute() or not workspace.is_dir():
            raise RequestError.invalid_params({"message": f"cwd must be an absolute path to a folder: {cwd!r}"})
        servers, problems = client_servers(mcp_servers or [], workspace)
        session = Session.open(workspace, self.plugin_dirs, session_id=session_id, transcript_path=transcript)
        session.mcp_config = tuple(servers)  # the editor's own servers, joined with the plugins'
        assert self.client is not None
        files = ClientFiles(self.client, session_id, self.capabilities)
        ui = AcpInterface(self.client, session_id, session.workspace, editor=files if files.reads or files.writes else None)
        if self.capabilities.terminal:
            ui.shell = ClientTerminal(self.client, session_id, on_created=ui.terminal_created)
        opened = AcpSession(session, ui, notices=[*problems, *(p.format() for p in session.settings.problems)])
        self.sessions[session_id] = opened
        return opened

    async def _start_unless_asking(self, opened: AcpSession) -> None:
        """Run SessionStart now, unless the workspace waits for trust or its `.mcp.json` servers for
        approval: then the first prompt asks first (a permission request needs a session the client
        knows)."""
        if not opened.session.waits_for_trust() and not opened.session.pending_mcp_servers():
            await self._start(opened)
        opened.ui.send(update_available_commands(self._commands(opened.session)))

    async def _start(self, opened: AcpSession) -> None:
        outcome = await opened.session.start(opened.source)
        opened.started = True
        opened.notices += outcome.system_messages + outcome.warnings

    async def _trust_then_start(self, opened: AcpSession) -> None:
        session = opened.session
        if session.waits_for_trust():
            held = ", ".join([*(["its hooks"] if session.untrusted_hooks() else []), *session.held_back(),
                              *([".mcp.json servers"] if session.untrusted_mcp_servers() else [])])
            if await opened.ui.ask_trust(f"Trust {session.workspace} and let {held} run?"):
                session.trust_workspace()
                if session.settings.held_back or session.plugins.held_back:  # what it held back loads now
                    reopened = Session.open(session.workspace, self.plugin_dirs, session_id=session.session_id,
                                            transcript_path=session.transcript.path)
                    reopened.mcp_config = session.mcp_config
                    reopened.hooks.context.permission_mode = session.hooks.context.permission_mode
                    opened.session = reopened
                    opened.ui.send(update_available_commands(self._commands(reopened)))
        await self._approve_mcp_servers(opened)
        await self._start(opened)

    async def _approve_mcp_servers(self, opened: AcpSession) -> None:
        """Each `.mcp.json` server of a trusted workspace nobody has approved or refused is asked about,
        as Claude Code asks, and the answer kept where Claude Code keeps it; no answer decides nothing
        (the server does not start, the next session asks again)."""
        session = opened.session
        answers = {ALLOW: APPROVE, ALWAYS: APPROVE_ALL, REJECT: REFUSE}
        for name in session.pending_mcp_servers():
            chosen = await opened.ui.ask_choice(
                f"skillway-mcp-{name}", f"New MCP server found in {session.workspace / MCP_FILE}: {name}. "
                "It runs on this machine with your rights. Use it?",
                [Choice(ALLOW, "Use this MCP server", "allow_once"),
                 Choice(ALWAYS, "Use this and all future MCP servers in this project", "allow_always"),
                 Choice(REJECT, "Continue without using this MCP server", "reject_once")])
            if chosen is None:
                continue
            try:
                session.answer_mcp_server(name, answers[chosen])
            except ValueError as exc:  # a settings file that is not one to rewrite: told, and nothing starts
                opened.notices.append(f"cannot keep the answer about the MCP server {name}: {exc}")
                return
            if answers[chosen] == APPROVE_ALL:
                return

    def _commands(self, session: Session) -> list[AvailableCommand]:
        """Every plugin command and user-invocable skill, by the name that runs it, with its hint."""
        listed = [AvailableCommand(name=entry.qualified, description=entry.item.description or entry.qualified,
                                   input=AvailableCommandInput(root=UnstructuredCommandInput(hint=entry.item.argument_hint))
                                   if entry.item.argument_hint else None)
                  for entry in session.catalog.commands]
        return [*listed, *BUILT_IN_COMMANDS]

    def _modes(self, opened: AcpSession) -> SessionModeState:
        return SessionModeState(current_mode_id=opened.session.hooks.context.permission_mode if
                                opened.session.hooks.context.permission_mode in MODES else "default",
                                available_modes=[SessionMode(id=mode, name=mode, description=about)
                                                 for mode, about in MODES.items()])

    def _session(self, session_id: str) -> AcpSession:
        opened = self.sessions.get(session_id)
        if opened is None:
            raise RequestError.invalid_params({"message": f"no session {session_id!r}: start one with session/new"})
        return opened

    async def set_session_mode(self, session_id: str, mode_id: str, **kwargs: Any) -> SetSessionModeResponse:
        opened = self._session(session_id)
        if mode_id not in MODES:
            raise RequestError.invalid_params({"message": f"unknown mode {mode_id!r}; the modes are {', '.join(MODES)}"})
        opened.session.hooks.context.permission_mode = mode_id
        opened.ui.send(update_current_mode(mode_id))
        await opened.ui.flush()
        return SetSessionModeResponse()

    # --- turns -----------------------------------------------------------------------------------

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        opened = self._session(session_id)
        if opened.running is not None:
            raise RequestError.invalid_request({"message": "a prompt is already running in this session: "
                                                           "cancel it (session/cancel) or wait for its end"})
        typed = typed_text(prompt, opened.session.workspace)
        if not typed:
            raise RequestError.invalid_params({"message": "the prompt has no text"})
        opened.cancelled = False
        opened.running = asyncio.ensure_future(self._turn(opened, typed))
        try:
            outcome = await opened.running
        except asyncio.CancelledError:
            if not opened.cancelled:
                raise
            await opened.ui.flush()  # what arrived stays with the client; the transcript keeps it too
            return PromptResponse(stop_reason="cancelled")
        finally:
            opened.running = None
        return await self._answered(opened, outcome)

    async def _turn(self, opened: AcpSession, typed: str) -> RunOutcome:
        if not opened.started:
            await self._trust_then_start(opened)
        ui = opened.ui
        for notice in opened.notices:
            ui.say(f"_skillway: {notice}_\n\n")
        opened.notices.clear()
        entry = fan_out_command(opened.session, typed)
        if entry is not None:
            ui.begin_plan(list(entry.item.fan_out))
        ui.streamed = False  # what was said so far is not the answer
        return await run_prompt(opened.session, typed, ui, RunOptions(follow_session=True))

    async def _answered(self, opened: AcpSession, outcome: RunOutcome) -> PromptResponse:
        ui = opened.ui
        if outcome.status is Status.FAILED:
            await ui.flush()
            assert outcome.error is not None
            if outcome.error.kind is Kind.NO_CREDENTIALS:
                raise RequestError.auth_required({"message": outcome.text})
            raise RequestError.internal_error({"message": outcome.text})
        if outcome.status is Status.REFUSED or outcome.ship is not None or not ui.streamed:
            ui.say(outcome.text)  # a refusal, a decision, a summary: nothing of it was streamed
        for notice in outcome.notices:
            ui.say(f"\n\n_skillway: {notice}_")
        await ui.flush()
        if outcome.blocked:
            return PromptResponse(stop_reason="refusal")
        reason = outcome.result.stop_reason if outcome.result is not None else ""
        return PromptResponse(stop_reason=STOP_REASONS.get(reason, "end_turn"))

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        opened = self.sessions.get(session_id)
        if opened is not None and opened.running is not None:
            opened.cancelled = True
            opened.running.cancel()

    async def close(self) -> None:
        """The client went away: every session ends (SessionEnd hooks, MCP servers stopped)."""
        for opened in list(self.sessions.values()):
            if opened.running is not None:
                opened.running.cancel()
            try:
                await opened.session.end("other")
                await opened.ui.close()
            except Exception:
                log.exception("the session %s did not end cleanly", opened.session.session_id)
        self.sessions.clear()

"""A Session: one workspace's plugins, hooks, transcript and injected context, from start to end.

The CLI, the language server and the tests all drive it the same way: `await session.start()`,
use it, `await session.end()`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from skillway.agent.hook_model import HookModel
from skillway.agent.mcp_tools import McpServers, MissingMcp
from skillway.agent.transcript import Transcript
from skillway.app.stored import project_slug, transcripts_dir
from skillway.core.problems import Problem
from skillway.hooks.engine import HookContext, HookEngine
from skillway.hooks.outcome import HookOutcome
from skillway.hooks.registry import HookRegistry, RegisteredHook
from skillway.mcpclient.pool import McpPool
from skillway.model.client import ModelClient, ModelRequest, project_name
from skillway.model.ledger import Ledger, LedgerError, UsageLedger, open_ledger
from skillway.model.templates import render
from skillway.plugins.catalog import Catalog
from skillway.plugins.discovery import PluginSet, discover
from skillway.plugins.enabled import EnabledPlugins
from skillway.plugins.fingerprint import hook_fingerprint
from skillway.plugins.mcp_config import (
    MCP_FILE,
    McpServerSpec,
    mcp_approvals,
    merged,
    pending_servers,
    read_servers,
    record_approval,
    user_servers,
    workspace_servers,
)
from skillway.plugins.model import HookEvent, Plugin, Skill
from skillway.settings import Purpose, Settings, data_dir, load_settings
from skillway.settings.dirs import claude_user_dir, home_dir
from skillway.settings.memory import Memory, load_memory
from skillway.settings.trust import TrustStore

log = logging.getLogger(__name__)

CONTEXT_HEADER = "SessionStart hook additional context: "
# The purposes whose requests carry the memory (CLAUDE.md): a chat answer or a code action works on
# the project as the agent does; a completion continues code under a tight time and token budget.
MEMORY_PURPOSES = (Purpose.AGENT, Purpose.CHAT)
SKILLS_LISTING_BUDGET = 8_000  # characters: about 2,000 tokens of skill names and descriptions


class Session:
    def __init__(self, workspace: Path, plugins: PluginSet, settings: Settings, *, session_id: str | None = None,
                 trust_fingerprint: str | None = None, permission_mode: str = "default", read_memory: bool = True,
                 transcript_path: Path | None = None) -> None:
        self.workspace = workspace.resolve()
        self.plugins = plugins
        self.settings = settings
        self.session_id = session_id or str(uuid.uuid4())
        self.data_dir = data_dir()
        # A resumed session goes on writing where it was written (its own workspace's folder).
        self.transcript = Transcript(
            transcript_path or transcripts_dir(self.data_dir) / project_slug(self.workspace) / f"{self.session_id}.jsonl",
            self.session_id, self.workspace)
        self.trust_store = TrustStore(self.data_dir)
        # What trusting this workspace covers: its hooks and the settings its file holds back until then.
        self.hook_fingerprint = trust_fingerprint or hook_fingerprint(plugins.plugins, dict(settings.workspace_requests))
        self.registry = HookRegistry(plugins.plugins)
        self.hooks = HookEngine(self.registry, HookContext(
            session_id=self.session_id,
            transcript_path=self.transcript.path,
            project_dir=self.workspace,
            data_dir=self.data_dir,
            is_trusted=self.may_run,
            permission_mode=permission_mode,
            keep_output_sessions=settings.hook_outputs.keep_sessions,
            max_output_bytes=int(settings.hook_outputs.max_megabytes * 2**20),
        ))
        self.hooks.context.ask_model = HookModel(self)  # prompt and agent hooks ask this session's model
        self.hooks.context.call_mcp_tool = lambda server, tool, arguments, timeout: self.mcp.call_for_hook(
            server, tool, arguments, timeout)  # mcp_tool hooks call this session's servers
        self.injected_context: str = ""
        self.start_outcome: HookOutcome | None = None
        self.notices: list[str] = []  # things to tell the user once (quota warnings): the front end drains it
        # Print mode's --mcp-config servers, and --strict-mcp-config: only those.
        self.mcp_config: tuple[McpServerSpec, ...] = ()
        self.strict_mcp = False
        # The language server's servers, shared by its sessions and kept warm; None: the session's own.
        self.mcp_pool: McpPool | None = None
        # Held by a /ship run: another one's turn would interleave with it in the transcript the gate reads.
        self.ship_lock = asyncio.Lock()
        # Made once per session: its plugins and workspace do not change while it lives.
        self._listings: dict[int, str] = {}
        self._base_prompts: dict[Purpose, str] = {}
        self.read_memory = read_memory  # False (--bare): no CLAUDE.md, as Claude Code's --bare reads none
        self._memory: Memory | None = None

    @classmethod
    def open(cls, workspace: Path, plugin_dirs: Sequence[Path] = (), *, lsp_options: dict[str, Any] | None = None,
             bare: bool = False, as_trusted: bool = False, permission_mode: str = "default",
             session_id: str | None = None, transcript_path: Path | None = None,
             extra_plugins: Sequence[Plugin] = ()) -> Session:
        """Load settings and plugins for `workspace`. `bare`: no plugins, so no hooks either, and no memory.

        What the workspace asks for is read first (reading runs nothing) to know what trusting it
        covers; unless it is trusted (or `as_trusted`, for `skillway trust`), its settings that wait
        for trust are then held back, and so are the plugins its own pluginDirs named and the
        switches its enabledPlugins makes to the user's own plugins. `extra_plugins` (print mode's
        --settings hooks and --agents) come last, and with `bare` too: the user typed them.
        """
        workspace = workspace.resolve()
        settings = load_settings(workspace, lsp_options=lsp_options, workspace_trusted=True)
        requests = dict(settings.workspace_requests)
        switches = EnabledPlugins.read(claude_user_dir(), workspace).requests()
        if switches:
            requests["enabledPlugins"] = switches
        if not requests:  # nothing waits for trust but hooks, which are held back where they run
            found = PluginSet() if bare else discover(workspace, settings, plugin_dirs)
            found.plugins += extra_plugins
            return cls(workspace, found, settings,
                       permission_mode=permission_mode, read_memory=not bare, session_id=session_id,
                       transcript_path=transcript_path)
        # The fingerprint covers every hook trusting would let run, so it is taken from all plugins (bare too).
        plugins = discover(workspace, settings, plugin_dirs, workspace_trusted=True)
        fingerprint = hook_fingerprint(plugins.plugins, requests)
        if not as_trusted and not TrustStore(data_dir()).is_trusted(workspace, fingerprint):
            settings = load_settings(workspace, lsp_options=lsp_options)
            plugins = discover(workspace, settings, plugin_dirs)
        plugins = PluginSet() if bare else plugins
        plugins.plugins += extra_plugins
        return cls(workspace, plugins, settings, trust_fingerprint=fingerprint,
                   permission_mode=permission_mode, read_memory=not bare, session_id=session_id,
                       transcript_path=transcript_path)

    # --- trust ---------------------------------------------------------------------------------

    @property
    def workspace_trusted(self) -> bool:
        return self.trust_store.is_trusted(self.workspace, self.hook_fingerprint)

    def trust_workspace(self) -> None:
        self.trust_store.trust(self.workspace, self.hook_fingerprint)
        self._memory = None  # read again: its imports from outside the workspace may be read now
        self._base_prompts.clear()

    def waits_for_trust(self) -> bool:
        """Whether trusting the workspace would change anything: hooks or `.mcp.json` servers that may
        not run yet, settings of its own file, enabledPlugins switches or memory imports held back."""
        return bool(self.untrusted_hooks() or self.untrusted_mcp_servers() or self.held_back())

    def untrusted_mcp_servers(self) -> list[str]:
        """The workspace's `.mcp.json` servers, by name, while the workspace is not trusted."""
        if self.workspace_trusted or not (self.workspace / MCP_FILE).is_file():
            return []
        return [server.name for server in read_servers(self.workspace / MCP_FILE, None, None, {}, {})[0]]

    def pending_mcp_servers(self) -> list[str]:
        """The trusted workspace's `.mcp.json` servers nobody has approved or refused: each is asked
        about, as Claude Code asks, before it may start."""
        if not self.workspace_trusted:
            return []
        return pending_servers(self.workspace, mcp_approvals(claude_user_dir(), self.workspace))

    def answer_mcp_server(self, name: str, answer: str) -> None:
        """Keep a person's answer about a `.mcp.json` server (APPROVE_ALL, APPROVE or REFUSE); the
        servers are read again at their first need. Asked before the session's servers start."""
        record_approval(self.workspace, name, answer)
        self.__dict__.pop("mcp", None)

    def held_back(self) -> tuple[str, ...]:
        """What the workspace asks for that waits for trust, besides its hooks, by name."""
        names = self.settings.held_back + (("enabledPlugins",) if self.plugins.held_back else ())
        return names + (("CLAUDE.md imports from outside it",) if self.memory().held_back else ())

    def untrusted_hooks(self) -> list[RegisteredHook]:
        return [] if self.workspace_trusted else [h for h in self.registry.hooks if not h.plugin.source.trusted_by_default]

    def may_run(self, hook: RegisteredHook) -> bool:
        return hook.plugin.source.trusted_by_default or self.workspace_trusted

    def apply_settings(self, settings: Settings) -> None:
        """New settings (the editor changed them): the next model call uses them."""
        self.settings = settings
        self.__dict__.pop("model", None)  # rebuilt on next use with the new base URL, models, quotas

    @cached_property
    def mcp(self) -> McpServers:
        """The MCP servers of the session's plugins; they start at the first need. A workspace's own
        wait for trust; without the SDK installed, none start and the first need says so."""
        servers: list[McpServerSpec] = list(self.mcp_config)
        problems: list[Problem] = []
        if not self.strict_mcp:
            servers += [server for plugin in self.plugins.plugins if plugin.loaded
                        and (plugin.source.trusted_by_default or self.workspace_trusted) for server in plugin.mcp_servers]
            layers, problems = self._own_mcp_servers()
            servers = merged(servers, *layers)
        hub: McpServers
        if not servers:
            hub = MissingMcp([])  # nothing to start: the SDK (an extra, and slow to import) stays unloaded
        else:
            try:
                from skillway.mcpclient.hub import McpHub
            except ImportError:
                hub = MissingMcp(servers)
            else:
                pool = self.mcp_pool or McpPool(self.data_dir / "mcp-logs" / self.session_id)
                hub = McpHub(servers, pool, cwd=self.workspace, owns_pool=self.mcp_pool is None)
        hub.problems += [problem.format() for problem in problems]  # told with the servers' own
        return hub

    def _own_mcp_servers(self) -> tuple[list[list[McpServerSpec]], list[Problem]]:
        """The servers that are not a plugin's, in Claude Code's precedence: the workspace's entry in
        ~/.claude.json, the workspace's `.mcp.json` (once trusted, each approved as Claude Code
        approves them), then the user's own in ~/.claude.json."""
        home = home_dir()
        local, everyone, problems = user_servers(home / ".claude.json", self.workspace) if home else ([], [], [])
        workspace: list[McpServerSpec] = []
        if self.workspace_trusted:
            workspace, found = workspace_servers(self.workspace, mcp_approvals(claude_user_dir(), self.workspace))
            problems += found
        return [local, workspace, everyone], problems

    @cached_property
    def catalog(self) -> Catalog:
        """Every command, skill and agent of the session's plugins, by name."""
        return Catalog(self.plugins.plugins)

    # --- the model ------------------------------------------------------------------------------

    @cached_property
    def model(self) -> ModelClient:
        """The session's code API client; usage goes to the shared ledger under this project (the
        user's own file when the team ledger's setting is wrong, which is told)."""
        try:
            ledger: Ledger = open_ledger(self.settings)
        except LedgerError as exc:
            self.notices.append(f"{exc}; usage is recorded in {data_dir() / 'usage.db'} meanwhile")
            ledger = UsageLedger.default()
        return ModelClient(self.settings, project=project_name(self.settings, self.workspace),
                           ledger=ledger, notify=self.notices.append)

    def memory(self) -> Memory:
        """The session's memory (CLAUDE.md files and what they import), read on first use; its
        problems are logged as warnings then."""
        if self._memory is None:
            if not self.read_memory:
                self._memory = Memory()
            else:
                self._memory = load_memory(self.workspace, trusted=self.workspace_trusted)
                for problem in self._memory.problems:
                    log.warning("%s", problem.format())
        return self._memory

    def model_request(self, purpose: Purpose | str, messages: list[dict[str, Any]], *, instructions: str | None = None,
                      base: str | None = None, skills: bool = True, **options: Any) -> ModelRequest:
        """A request carrying what every request of this session carries: the base system prompt with
        the memory (agent and chat) and the injected SessionStart context (both cached), then
        `instructions` (a command's or agent's body). `base` replaces skillway's base prompt (print
        mode's --system-prompt; the memory still follows it); `skills`: list the skills (agent
        requests, where the Skill tool is offered)."""
        purpose = Purpose(purpose)
        parts = [self._base_prompt(purpose) if base is None else self._with_memory(purpose, base)]
        if purpose is Purpose.AGENT and skills:
            parts.append(self.skills_listing())
        parts.append(instructions or "")
        system = "\n\n".join(part for part in parts if part)
        return ModelRequest(purpose, messages, system=system or None, context=self.injected_context or None, **options)

    def skills_listing(self, budget: int = SKILLS_LISTING_BUDGET) -> str:
        """The skills the model may invoke, by name and description only (their bodies load on
        demand through the Skill tool), within `budget` characters."""
        if budget not in self._listings:
            self._listings[budget] = self._skills_listing(budget)
        return self._listings[budget]

    def _skills_listing(self, budget: int) -> str:
        """What the model may run with the Skill tool, as Claude Code lists it: skills and commands
        that have a description of their own (`- plugin:name (plugin:alias): description`)."""
        lines: list[str] = []
        used = 0
        for entry in self.catalog.model_invocable:
            item = entry.item
            if not item.described:
                continue  # still runnable by name; without a description the model cannot tell when
            alias = f" ({entry.plugin.qualified(item.alias)})" if item.alias else ""
            when = f" {item.when_to_use}" if isinstance(item, Skill) and item.when_to_use else ""
            line = f"- {entry.qualified}{alias}: {item.description}{when}"
            if used + len(line) > budget:
                lines.append("- (more skills are installed than fit here)")
                return _listing(lines)
            lines.append(line)
            used += len(line) + 1
        return _listing(lines)

    def _base_prompt(self, purpose: Purpose) -> str:
        if purpose not in self._base_prompts:
            self._base_prompts[purpose] = self._with_memory(
                purpose, render("system.md.j2", purpose=purpose, project_dir=self.workspace))
        return self._base_prompts[purpose]

    def _with_memory(self, purpose: Purpose, prompt: str) -> str:
        """`prompt`, then the memory (CLAUDE.md) for the purposes that carry it."""
        memory = self.memory().files if purpose in MEMORY_PURPOSES else []
        return "\n\n".join(filter(None, [prompt, render("memory.md.j2", files=memory) if memory else ""]))

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, source: str = "startup", model: str | None = None) -> HookOutcome:
        """Fire SessionStart; what the hooks add becomes the context of every model request."""
        fields = {"source": source} | ({"model": model} if model else {})
        outcome = await self.hooks.fire(HookEvent.SESSION_START, fields, match=source)
        self.start_outcome = outcome
        self.injected_context = wrap_context(
            list(zip(outcome.context_plugins, outcome.additional_context)), self.settings.context_budget)
        return outcome

    async def end(self, reason: str = "other") -> HookOutcome:
        outcome = await self.hooks.fire(HookEvent.SESSION_END, {"reason": reason}, match=reason)
        await self.hooks.drain()
        if "mcp" in self.__dict__:  # only a session that needed its servers started them
            await self.mcp.close()
        return outcome


def _listing(lines: list[str]) -> str:
    return "Skills you can load with the Skill tool when they fit the task:\n" + "\n".join(lines) if lines else ""


def wrap_context(contributions: list[tuple[str, str]], budget: int) -> str:
    """The SessionStart context as a system reminder, within `budget` characters of hook text.

    Over budget, the largest contributions are cut first, each with a note saying so.
    """
    if not contributions:
        return ""
    texts = [text for _, text in contributions]
    if sum(map(len, texts)) > budget:
        texts = _fit(contributions, budget)
    return "<system-reminder>\n" + CONTEXT_HEADER + "\n".join(texts) + "\n</system-reminder>"


def _fit(contributions: list[tuple[str, str]], budget: int) -> list[str]:
    """Cut the largest contributions to one common length, so that texts and notes fit `budget`."""
    def note(plugin: str, length: int, kept: int) -> str:
        return f'\n[skillway cut {length - kept} of {length} chars from plugin "{plugin}"]'

    cut: set[int] = set()
    while True:
        # Room for text once the notes of the cut contributions are paid for (a note is at most this long).
        room = budget - sum(len(note(contributions[i][0], len(contributions[i][1]), 0)) for i in cut)
        cap = _common_cap([len(text) for _, text in contributions], max(0, room))
        grown = {i for i, (_, text) in enumerate(contributions) if len(text) > cap}
        if grown <= cut:
            break
        cut |= grown
    return [text[:cap] + note(plugin, len(text), cap) if i in cut else text
            for i, (plugin, text) in enumerate(contributions)]


def _common_cap(lengths: list[int], budget: int) -> int:
    """The largest c with sum(min(length, c)) <= budget: small contributions stay whole."""
    remaining, ordered = budget, sorted(lengths)
    for index, length in enumerate(ordered):
        share = remaining // (len(ordered) - index)
        if length > share:
            return share
        remaining -= length
    return ordered[-1] if ordered else 0

"""The conversation loop: the model answers, its tool calls run (all of one message at once), their
results go back, until it stops; then Stop hooks may send it back to work (at most 8 times).

PreToolUse hooks and permission rules decide before a tool runs (deny > ask > allow); a refused
call returns its reason to the model. Every message goes to the session's transcript.

A run that is not driven by a model (skillway's /ship lead) uses the same loop through its public
interface: `use_tool` runs one tool call with its hooks and permissions, `fire_stop` the Stop
hooks, `append` records a message; `run_agent=` replaces what the Agent tool does with a call
(`run_subagent` and `persona` are there for it), and `hook_fields=` adds to every hook's input.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skillway.agent import structured, tool_search
from skillway.agent import tools as agent_tools
from skillway.agent.mcp_tools import MCP_PREFIX
from skillway.core.permission_rules import allowed, matching_rule, parse_rules, subject_of, workspace_path
from skillway.hooks.engine import StopGuard
from skillway.model.client import Done, Fallback, ModelResponse, RawEvent, Restart, TextDelta
from skillway.model.errors import Kind, ModelError
from skillway.model.prices import estimate_cost
from skillway.plugins.catalog import UnknownName
from skillway.plugins.model import HookEvent, Skill
from skillway.plugins.render import Invocation

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from skillway.mcpclient.hub import McpTool

READ_ONLY_TOOLS = ["Skill", "Read", "Glob", "Grep"]
EDIT_TOOLS = ["Edit", "Write"]
ALL_TOOLS = [*READ_ONLY_TOOLS, "Agent", *EDIT_TOOLS, "Bash"]
MAX_PARALLEL_AGENTS = 20
FORK_DEFAULT_AGENT = "general-purpose"  # what a skill with `context: fork` runs as when it names no agent
MAX_DEPTH = 3
INTERRUPTED = "[Request interrupted by user]"  # what a cancelled answer is followed by, as Claude Code writes it


@dataclass
class AgentResult:
    text: str = ""
    turns: int = 0
    stop_reason: str = "end_turn"  # end_turn | max_turns | hook_stopped | blocked
    messages: list[dict] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    api_ms: float = 0.0
    notices: list[str] = field(default_factory=list)
    structured_output: dict | None = None  # what the StructuredOutput tool was given (--json-schema)
    errors: list[str] = field(default_factory=list)  # why a run that did not finish its task ended


@dataclass(frozen=True)
class PermissionAsk:
    """A tool call no rule decided, put to the person: the question, the call, and the rule that
    would allow its like (what "always" remembers)."""

    question: str
    tool_name: str
    tool_input: dict[str, Any]
    tool_use_id: str
    rule: str  # e.g. `Bash(npm:*)`, `Edit`


# Asks the person; True when they allow it.
Asker = Callable[[PermissionAsk], Awaitable[bool]]

# The Agent tool: (its input, the run whose usage it adds to) -> the tool's result text. A ToolError
# it raises becomes an error result.
AgentRunner = Callable[[dict, AgentResult], Awaitable[str]]


class AgentLoop:
    def __init__(self, session, *, instructions: str | None = None, tools: list[str] | None = None,
                 allowed_tools: tuple[str, ...] = (), max_turns: int = 20, model: str | None = None,
                 on_message=None, depth: int = 0, transcript=None, agent: tuple[str, str] | None = None,
                 agent_slots: asyncio.Semaphore | None = None, max_tokens: int | None = None,
                 max_cost_usd: float | None = None, ask: Asker | None = None, editor=None, shell=None,
                 subagent_tools: list[str] | None = None, run_agent: AgentRunner | None = None,
                 hook_fields: Mapping[str, str] | None = None, denied_tools: tuple[str, ...] = (),
                 permission_mode: str | None = None, mcp_names: tuple[str, ...] | None = (),
                 system_prompt: str | None = None, fallback_model: str | None = None,
                 json_schema: dict | None = None, on_event: Callable[[dict], None] | None = None,
                 partial_messages: bool = False) -> None:
        self.session = session
        self.system_prompt = system_prompt  # replaces the base system prompt (None: skillway's own)
        self.fallback_model = fallback_model  # answers when the model is overloaded or unknown
        # --json-schema: the final answer is a StructuredOutput call matching this schema.
        self.json_schema = json_schema
        self.structured_failures, self.structured_error, self.nudged = 0, "", False
        # What happens on the way besides messages (print mode's stream-json shows it): each request
        # ("requesting"), a fallback ("model_fallback"), and with `partial_messages` each streaming
        # event of an answer ("stream_event").
        self.on_event = on_event or (lambda event: None)
        self.partial_messages = partial_messages
        # The MCP tools it may use: None every one; else those named (a tool, or a whole server
        # `mcp__<server>`); by default those its tools list names (every one when it has none).
        self.mcp_names = (None if tools is None else tuple(t for t in tools if t.startswith(MCP_PREFIX))) \
            if mcp_names == () else mcp_names
        self.mcp_tools: dict[str, McpTool] = {}  # by name, once the servers are asked (the first turn)
        self.deferred = False  # too many MCP tools: their schemas load through ToolSearch
        self.loaded: set[str] = set()  # the deferred tools ToolSearch loaded
        self.instructions = instructions
        names = tools if tools is not None else ALL_TOOLS
        # A sub-agent at the depth limit cannot start another one.
        self.tool_names = [n for n in map(agent_tools.canonical, names) if n != "Agent" or depth < MAX_DEPTH]
        self.depth = depth
        self.transcript = transcript or session.transcript
        self.agent = agent  # (agent id, agent type) when this loop is a sub-agent
        self.subagent_tools = subagent_tools  # the most a sub-agent started here may use (None: its own list)
        self.agent_slots = agent_slots or asyncio.Semaphore(MAX_PARALLEL_AGENTS)
        self.max_tokens, self.max_cost_usd = max_tokens, max_cost_usd  # a budget for the whole run
        self.ask = ask  # where a person can be asked; None: "ask" refuses
        self.agent_runner: AgentRunner = run_agent or self.run_agent  # what the Agent tool does
        self.stopping: str | None = None  # set when a tool hook ends the turn (its stopReason, maybe "")
        self.denied_tools = denied_tools  # deny rules of this run (--disallowedTools), for its sub-agents too
        self.permission_mode = permission_mode  # an agent's own; None: the session's
        self.hook_fields = dict(hook_fields or {})  # added to every hook's input (e.g. another transcript_path)
        settings = session.settings
        permissions = settings.tool_permissions
        # A workspace's allow rules (its skillway settings' and its Claude Code settings') wait for trust.
        workspace_rules = (*settings.workspace_allowed_tools, *permissions.allow) if session.workspace_trusted else ()
        self.rules = parse_rules((*allowed_tools, *settings.allowed_tools, *workspace_rules))
        self.ask_rules, self.deny_rules = parse_rules(permissions.ask), parse_rules((*permissions.deny, *denied_tools))
        self.max_turns = max_turns
        self.model = model
        self.on_message = on_message or (lambda message: None)  # stream-json prints each one
        invocation = Invocation(session.workspace, session.session_id, session.data_dir, session.workspace_trusted,
                                settings.argument_base)
        self.context = agent_tools.ToolContext(session.workspace, session.catalog, invocation, editor=editor, shell=shell)
        self.tool_definitions = agent_tools.definitions(self.tool_names, self.context.catalog)  # the same every turn
        if json_schema is not None:
            self.tool_definitions.append(structured.definition(json_schema))

    async def run(self, prompt: str, attachments: Sequence[dict] = (), history: Sequence[dict] = ()) -> AgentResult:
        """Answer `prompt` (after `attachments`, content blocks such as the resources it mentions) to the
        end, following the conversation `history` (sent again as it is, not written again)."""
        result = AgentResult()
        messages = result.messages
        messages.extend(history)
        content: str | list[dict] = [*attachments, {"type": "text", "text": prompt}] if attachments else prompt
        self.append(messages, {"role": "user", "content": content})
        await self._load_mcp_tools(result)
        guard = StopGuard()
        while True:
            if result.turns >= self.max_turns:
                result.stop_reason = "max_turns"
                return result
            result.turns += 1
            tools = self.tool_definitions + self._mcp_definitions()
            request = self.session.model_request("agent", messages, instructions=self.instructions, tools=tools,
                                                 model=self.model, base=self.system_prompt,
                                                 skills="Skill" in self.tool_names,
                                                 fallback_model=self.fallback_model, raw_events=self.partial_messages)
            try:
                response = await self._answer(request, result)
            except ModelError as exc:
                await self._fire_stop_failure(exc)
                raise
            _add_usage(result, response, self.session.settings)
            over = self._over_budget(result)
            if over:
                self.append(messages, response.as_message())
                result.text, result.stop_reason = response.text, "budget"
                result.notices.append(over)
                return result
            self.append(messages, response.as_message())
            if response.tool_uses:
                results = await asyncio.gather(*(self.use_tool(block, result) for block in response.tool_uses))
                self.append(messages, {"role": "user", "content": [*results, *self._rewakes()]})
                if self.stopping is not None:  # a tool hook said `continue: false`: the turn ends here
                    result.stop_reason = "hook_stopped"
                    result.notices += [self.stopping] if self.stopping else []
                    return result
                if self.json_schema is None:
                    continue
                if self.structured_failures >= structured.MAX_ATTEMPTS:
                    result.turns += 1  # the tool round counts as a turn, as Claude Code counts it
                    result.stop_reason = "structured_output_retries"
                    result.errors.append(structured.exhausted(self.structured_error))
                    return result
                if result.structured_output is None or any(b["name"] != structured.NAME for b in response.tool_uses):
                    continue
                result.turns += 1
                result.text, result.stop_reason = json.dumps(result.structured_output, separators=(",", ":")), "tool_use"
                last = result.text
            else:
                result.text = last = response.text
                woken = self._rewakes()
                if woken:  # a background hook reported in while the model answered: it goes back to work
                    self.append(messages, {"role": "user", "content": woken})
                    continue
                if self.json_schema is not None and result.structured_output is None and not self.nudged:
                    self.nudged = True  # once: a second answer in text ends the run with that text
                    self.append(messages, {"role": "user", "content": [{"type": "text", "text": structured.NUDGE}],
                                           "isSynthetic": True})
                    continue
            outcome = await self.fire_stop(guard, last)
            result.notices += outcome.system_messages + outcome.warnings
            if outcome.stop:
                result.stop_reason = "hook_stopped"
                return result
            if not guard.should_continue(outcome):
                result.notices += [w for w in outcome.warnings if w not in result.notices]
                return result
            self.append(messages, {"role": "user", "content": outcome.reason or "Continue."})

    async def _answer(self, request, result: AgentResult) -> ModelResponse:
        """The model's answer to `request`, streamed so that `on_event` sees its events as they come. A
        switch to the fallback model is told (a notice, an event) and kept for the rest of the run."""
        self.on_event({"type": "requesting"})
        arrived: list[str] = []  # the answer's text so far: kept in the transcript when the run is cancelled
        try:
            return await self._streamed(request, result, arrived)
        except asyncio.CancelledError:
            if arrived:
                self.transcript.append({"role": "assistant", "content": [{"type": "text", "text": "".join(arrived)}]})
            self.transcript.append({"role": "user", "content": [{"type": "text", "text": INTERRUPTED}]})
            raise

    async def _streamed(self, request, result: AgentResult, arrived: list[str]) -> ModelResponse:
        async with contextlib.aclosing(self.session.model.stream(request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):  # for a front end that shows the answer as it comes
                    arrived.append(event.text)
                    self.on_event({"type": "text", "text": event.text})
                elif isinstance(event, Restart):
                    arrived.clear()
                    self.on_event({"type": "restart"})
                elif isinstance(event, RawEvent):
                    self.on_event({"type": "stream_event", "event": event.data})
                elif isinstance(event, Fallback):
                    self.model = self.fallback_model
                    cause = (f"due to high demand for {event.original_model}" if event.trigger == "overloaded"
                             else f"because {event.original_model} is not available")
                    content = f"Switched to {event.fallback_model} {cause}"
                    result.notices.append(content)
                    self.on_event({"type": "model_fallback", "trigger": event.trigger,
                                   "original_model": event.original_model, "fallback_model": event.fallback_model,
                                   "content": content})
                elif isinstance(event, Done):
                    return event.response
        raise AssertionError("a stream ends with Done or an error")  # pragma: no cover

    async def _fire_stop_failure(self, exc: ModelError) -> None:
        """The turn ends on an API error: StopFailure instead of Stop, as Claude Code fires it (its output is not read)."""
        error = _STOP_FAILURE_ERRORS.get(exc.kind, "unknown")
        await self.session.hooks.fire(HookEvent.STOP_FAILURE, self._caller() | {
            "error": error, "last_assistant_message": f"API Error: {exc.message}"}, match=error)

    async def _load_mcp_tools(self, result: AgentResult) -> None:
        """The MCP tools this loop may use (their servers start now, at the first need)."""
        if self.mcp_names is not None and not self.mcp_names:
            return
        tools = await self.session.mcp.tools()
        wanted = self.mcp_names
        self.mcp_tools = {t.name: t for t in tools if wanted is None or t.name in wanted
                          or any(t.name.startswith(name + "__") for name in wanted)}
        result.notices += self.session.mcp.problems
        self.session.mcp.problems.clear()  # told once
        self.deferred = tool_search.should_defer(self.mcp_tools)

    def _mcp_definitions(self) -> list[dict]:
        """The MCP tools offered in full: all of them, or when they are many, ToolSearch and those it loaded."""
        def full(tool: McpTool) -> dict:
            return {"name": tool.name, "description": tool.description, "input_schema": dict(tool.input_schema)}
        if not self.deferred:
            return [full(tool) for tool in self.mcp_tools.values()]
        waiting = [tool for name, tool in self.mcp_tools.items() if name not in self.loaded]
        return [full(self.mcp_tools[name]) for name in sorted(self.loaded)] + (
            [tool_search.definition(waiting)] if waiting else [])

    def _over_budget(self, result: AgentResult) -> str | None:
        used = result.input_tokens + result.output_tokens + result.cache_write_tokens
        if self.max_tokens is not None and used >= self.max_tokens:
            return f"stopped: the run used {used:,} tokens of its {self.max_tokens:,}-token budget"
        if self.max_cost_usd is not None and result.cost_usd >= self.max_cost_usd:
            return f"stopped: the run cost ${result.cost_usd:.4f} of its ${self.max_cost_usd:.2f} budget"
        return None

    async def fire_stop(self, guard: StopGuard, last: str):
        """The Stop hooks (SubagentStop inside a sub-agent) on the turn ending with `last`."""
        # skillway has no background shells or scheduled prompts: the lists Claude Code sends are empty.
        fields = self._caller() | {"stop_hook_active": guard.active, "last_assistant_message": last,
                                   "background_tasks": [], "session_crons": []}
        if self.agent is None:
            return await self.session.hooks.fire("Stop", fields)
        agent_id, agent_type = self.agent
        return await self.session.hooks.fire("SubagentStop", fields | {
            "agent_id": agent_id, "agent_type": agent_type, "agent_transcript_path": str(self.transcript.path)},
            match=agent_type)

    def append(self, messages: list[dict], message: dict) -> None:
        """Add `message` to the conversation `messages` and to the transcript, and pass it to on_message."""
        messages.append({k: v for k, v in message.items() if k in ("role", "content")})
        self.transcript.append(message)
        self.on_message(message)

    async def use_tool(self, block: dict, result: AgentResult) -> dict:
        """One tool call (a `tool_use` block): its PreToolUse hooks and permissions, the tool, its
        PostToolUse hooks; the `tool_result` block. Usage of a sub-agent it starts adds to `result`."""
        name, tool_input, tool_id = agent_tools.canonical(block["name"]), dict(block.get("input") or {}), block["id"]
        if name == structured.NAME and self.json_schema is not None:
            return self._structured_output(tool_input, tool_id, result)
        denied = await self._refusal(name, tool_input, tool_id)
        if denied is not None:
            return {"type": "tool_result", "tool_use_id": tool_id, "content": denied, "is_error": True}
        started = time.monotonic()
        try:
            forked = self._forked_skill(tool_input) if name == "Skill" else None
            output: str | list[dict]
            if name == "Agent":
                output, is_error = await self.agent_runner(tool_input, result), False
            elif name in self.mcp_tools:
                answer = await self.session.mcp.call(name, tool_input)
                output, is_error = answer.content, answer.is_error
            elif name == tool_search.NAME and self.deferred:
                found = tool_search.search(self.mcp_tools, str(tool_input.get("query", "")),
                                           int(tool_input.get("max_results") or tool_search.MAX_RESULTS))
                self.loaded |= {tool.name for tool in found}
                output, is_error = tool_search.found_text(found), False
            elif forked is not None:
                output, is_error = await self._run_forked_skill(forked, tool_input, result), False
            else:
                output, is_error = await agent_tools.run_tool(self.context, name, tool_input, tool_id), False
        except agent_tools.ToolError as exc:
            output, is_error = str(exc), True
        if name == "Skill" and not is_error:
            self._skill_invoked(tool_input)
        # As Claude Code does: a failed call fires PostToolUseFailure (with the error the model gets), not PostToolUse.
        fields = {"tool_name": name, "tool_input": tool_input, "tool_use_id": tool_id}
        fields |= {"error": output, "is_interrupt": False} if is_error else {"tool_response": output}
        event = HookEvent.POST_TOOL_USE_FAILURE if is_error else HookEvent.POST_TOOL_USE
        post = await self.session.hooks.fire(event, self._caller() | fields | {
            "duration_ms": round((time.monotonic() - started) * 1000)}, match=name)
        self._note_stop(post)
        added = ([f"[{event} hook feedback]\n{post.reason}"] if post.blocked and post.reason else []) + (
            ["\n".join(post.additional_context)] if post.additional_context else [])
        for text in added:  # an MCP tool's result may be blocks (an image): the text follows them
            output = output + f"\n\n{text}" if isinstance(output, str) else [*output, {"type": "text", "text": text}]
        return {"type": "tool_result", "tool_use_id": tool_id, "content": output, "is_error": is_error}

    def _structured_output(self, tool_input: dict[str, Any], tool_id: str, result: AgentResult) -> dict:
        """A StructuredOutput call: kept when it matches the schema, else the model is told why."""
        assert self.json_schema is not None
        wrong = structured.mismatch(self.json_schema, tool_input)
        if wrong is None:
            result.structured_output = tool_input
            return {"type": "tool_result", "tool_use_id": tool_id, "content": structured.ACCEPTED}
        self.structured_failures += 1
        self.structured_error = wrong
        return {"type": "tool_result", "tool_use_id": tool_id, "content": wrong, "is_error": True}

    def _note_stop(self, outcome) -> None:
        """A tool hook's `continue: false`: the call goes as decided, then the turn ends."""
        if outcome.stop:
            self.stopping = "\n".join(filter(None, [self.stopping, outcome.stop_reason or ""]))

    def _rewakes(self) -> list[dict]:
        """What background (asyncRewake) hooks reported since the last turn, as text for the model."""
        return [{"type": "text", "text": f"<system-reminder>\n{text}\n</system-reminder>"}
                for text in self.session.hooks.take_rewakes()]

    def _caller(self) -> dict:
        """What this loop adds to its hooks' input. Inside a sub-agent it says which one (as Claude
        Code's do): `agent_id`, `agent_type`; then the loop's `hook_fields`."""
        return ({"agent_id": self.agent[0], "agent_type": self.agent[1]} if self.agent else {}) | self.hook_fields

    async def run_agent(self, tool_input: dict, parent: AgentResult) -> str:
        """The Agent tool: the named persona runs on the prompt; its final text is the tool's result."""
        result = await self.run_subagent(self.persona(tool_input), str(tool_input.get("prompt", "")))
        add_usage(parent, result)
        return result.text or "(the sub-agent returned no text)"

    async def run_forked(self, agent_name: str, prompt: str, allowed_tools: tuple[str, ...] = ()) -> AgentResult:
        """A skill with `context: fork`: `prompt` runs as the agent it names, in a sub-agent of its own.
        An agent that is not there gives way to the general-purpose one, as in Claude Code, with a notice."""
        catalog, notices = self.context.catalog, []
        try:
            entry = catalog.resolve_agent(agent_name)
        except UnknownName as exc:
            try:
                entry = catalog.resolve_agent(FORK_DEFAULT_AGENT)
            except UnknownName:
                raise agent_tools.ToolError(str(exc)) from None
            notices.append(f"{exc}; the skill runs as {entry.qualified}")
        result = await self.run_subagent(entry, prompt, allowed_tools=allowed_tools, ask=self.ask)
        result.notices[:0] = notices
        return result

    def _skill_invoked(self, tool_input: dict) -> None:
        """The model invoked a skill: its hooks fire from now on, its disallowed tools are refused for
        the rest of this turn, as when a person types it."""
        entry = self.context.catalog.resolve_for_model(str(tool_input.get("skill", "")))
        if isinstance(entry.item, Skill):
            self.session.hooks.registry.activate_skill(entry.plugin, entry.item)
            self.deny_rules += parse_rules(entry.item.disallowed_tools)

    def _forked_skill(self, tool_input: dict):
        """The skill a Skill call names, when it runs forked (`context: fork`); else None."""
        try:
            entry = self.context.catalog.resolve_for_model(str(tool_input.get("skill", "")))
        except UnknownName:
            return None  # the tool itself says so
        return entry if isinstance(entry.item, Skill) and entry.item.context == "fork" else None

    async def _run_forked_skill(self, entry, tool_input: dict, parent: AgentResult) -> str:
        skill = entry.item
        body = await agent_tools.invoked_text(self.context, entry, tool_input)
        result = await self.run_forked(skill.agent or FORK_DEFAULT_AGENT, fork_prompt(skill, body), skill.allowed_tools)
        add_usage(parent, result)
        parent.notices += result.notices
        return f'Skill "{entry.qualified}" completed (forked execution).\n\nResult:\n{result.text}'

    def persona(self, tool_input: dict):
        """The agent an Agent call names (`subagent_type`); a ToolError when there is none."""
        try:
            return self.context.catalog.resolve_agent(str(tool_input.get("subagent_type", "")))
        except UnknownName as exc:
            raise agent_tools.ToolError(str(exc)) from None

    async def run_subagent(self, entry, prompt: str, *, allowed_tools: tuple[str, ...] = (),
                           ask: Asker | None = None) -> AgentResult:
        """A sub-agent: the persona's body as its system prompt, its own tools, transcript and hooks;
        `allowed_tools` and `ask` as for any loop (a forked skill's rules, the person who ran it)."""
        persona = entry.item
        agent_id = uuid.uuid4().hex[:16]
        tools = list(persona.tools) if persona.tools is not None else ALL_TOOLS
        tools = [t for t in map(agent_tools.canonical, tools) if t not in persona.disallowed_tools]
        if self.subagent_tools is not None:
            tools = [t for t in tools if t in self.subagent_tools]
        # The loader keeps permissionMode and hooks for the user's and the workspace's own agents only.
        mode = {"permission_mode": persona.permission_mode} if persona.permission_mode else {}
        inherited = {key: self.hook_fields[key] for key in ("prompt_id",) if key in self.hook_fields}
        async with self.agent_slots:  # at most MAX_PARALLEL_AGENTS at once
            await self.session.hooks.fire("SubagentStart", inherited | {"agent_id": agent_id, "agent_type": entry.qualified},
                                          match=entry.qualified)
            loop = AgentLoop(self.session, instructions=entry.plugin.options.in_text(persona.body), tools=tools,
                             max_turns=persona.max_turns or 20,
                             model=None if persona.model == "inherit" else persona.model, depth=self.depth + 1,
                             transcript=self.transcript.subagent(agent_id), agent=(agent_id, entry.qualified),
                             agent_slots=self.agent_slots, subagent_tools=self.subagent_tools,
                             denied_tools=self.denied_tools, allowed_tools=allowed_tools, ask=ask,
                             hook_fields=inherited | mode, permission_mode=persona.permission_mode,
                             mcp_names=None if persona.tools is None else (), fallback_model=self.fallback_model)
            registry = self.session.hooks.registry
            own_hooks = registry.add_frontmatter(entry.plugin, persona.hooks, agent_id, stop_as=HookEvent.SUBAGENT_STOP)
            try:
                return await loop.run(prompt + await self._preloaded_skills(persona))
            finally:
                registry.remove(own_hooks)

    async def _preloaded_skills(self, persona) -> str:
        """The bodies of the skills an agent's frontmatter names, after its task, as Claude Code adds
        them; a name that finds no skill is left out (logged)."""
        texts = []
        for name in persona.skills:
            try:
                entry = self.context.catalog.resolve_for_model(name)
            except UnknownName:
                log.warning("agent %s: no skill named %r to preload", persona.name, name)
                continue
            if isinstance(entry.item, Skill):
                body = await agent_tools.invoked_text(self.context, entry, {})
                texts.append(f"\n\nBase directory for this skill: {entry.item.directory}\n\n{body}")
        return "".join(texts)

    async def _refusal(self, name: str, tool_input: dict, tool_id: str) -> str | None:
        """Why the call may not run (the model is told), or None when it may. As Claude Code decides:
        PreToolUse hooks, then deny rules (a hook's allow does not pass them), then ask rules or a
        hook's ask, then what runs unasked; what is left is the permission prompt."""
        if name not in self.tool_names and name not in self.mcp_tools and not (name == tool_search.NAME and self.deferred):
            return f"the tool {name} is not available here"
        outcome = await self.session.hooks.fire("PreToolUse", self._caller() | {
            "tool_name": name, "tool_input": tool_input, "tool_use_id": tool_id}, match=name)
        self._note_stop(outcome)
        if outcome.permission == "deny" or outcome.blocked:
            return f"denied by a PreToolUse hook: {outcome.reason or 'no reason given'}"
        if outcome.updated_input:
            tool_input.clear()
            tool_input.update(outcome.updated_input)
        subject = self._subject(name, tool_input)
        denying = matching_rule(self.deny_rules, name, subject)
        if denying is not None:
            return f"Permission to use {name} was denied by the rule {denying}"
        asking = matching_rule(self.ask_rules, name, subject)
        if outcome.permission == "ask":
            reason = " ".join(outcome.ask_reasons)
        elif asking is not None:
            reason = f"(the rule {asking} in your settings asks first)"
        elif outcome.permission == "allow" or self._runs_unasked(name, subject):
            return None
        else:
            reason = ""
        return await self._permission_prompt(name, tool_input, tool_id, subject, reason)

    def _runs_unasked(self, name: str, subject: str | None) -> bool:
        if name in READ_ONLY_TOOLS or name in ("Agent", tool_search.NAME):
            return True
        mode = self.permission_mode or self.session.hooks.context.permission_mode
        if mode == "bypassPermissions" or (name in EDIT_TOOLS and mode == "acceptEdits"):
            return True
        return allowed(self.rules, name, subject)

    async def _permission_prompt(self, name: str, tool_input: dict, tool_id: str, subject: str | None,
                                 reason: str) -> str | None:
        """The call needs a yes: PermissionRequest hooks may answer for the user (an allow may
        replace the input; a deny's message is what the model gets); else the user is asked, where
        one can be (Notification hooks hear of it); else it is refused."""
        answer = await self.session.hooks.fire(HookEvent.PERMISSION_REQUEST, self._caller() | {
            "tool_name": name, "tool_input": tool_input,
            "permission_suggestions": permission_suggestions(name, subject)}, match=name)
        if answer.permission == "deny":
            if answer.interrupt:
                raise RunInterrupted(answer.reason or "Permission denied by hook")
            return answer.reason
        if answer.permission == "allow":
            if answer.updated_input is not None:
                tool_input.clear()
                tool_input.update(answer.updated_input)
            return None
        question = f"Allow {name}{f' {subject}' if subject and name == 'Bash' else ''}? {reason}".strip()
        if self.ask is not None:
            await self.session.hooks.fire(HookEvent.NOTIFICATION, {
                "message": f"skillway needs your permission to use {name}",
                "notification_type": "permission_prompt"}, match="permission_prompt")
            if await self.ask(PermissionAsk(question, name, tool_input, tool_id, rule_text(name, subject))):
                return None
        if reason:
            return f"needs your approval, which was not given: {reason}"
        if name in EDIT_TOOLS:
            return f"{name} is not permitted: file changes need --permission-mode acceptEdits or an allowed-tools rule"
        return f"{name} is not permitted (add it to allowed-tools)"

    def _subject(self, name: str, tool_input: dict) -> str | None:
        """What rules match the call against; a file tool's path relative to the workspace, as rules write it."""
        if name in ("Glob", "Grep"):
            raw = tool_input.get("path") or "."
            return workspace_path(self.session.workspace, raw) if isinstance(raw, str) else None
        subject = subject_of(name, tool_input)
        if subject is not None and name in ("Read", *EDIT_TOOLS):
            return workspace_path(self.session.workspace, subject)
        return subject


class RunInterrupted(Exception):
    """A PermissionRequest hook denied a call with `interrupt: true`: the whole run stops."""


def _rule_content(name: str, subject: str | None) -> str | None:
    return f"{subject.split()[0]}:*" if name == "Bash" and subject and subject.split() else None


def permission_suggestions(name: str, subject: str | None) -> list[dict]:
    """The rule Claude Code would offer to remember with the answer: a command's first word as a
    prefix for Bash, the tool itself otherwise."""
    content = _rule_content(name, subject)
    rule = {"toolName": name} | ({"ruleContent": content} if content else {})
    return [{"type": "addRules", "rules": [rule], "behavior": "allow", "destination": "localSettings"}]


def rule_text(name: str, subject: str | None) -> str:
    """That rule as settings write it: `Bash(npm:*)`, `Edit`."""
    content = _rule_content(name, subject)
    return f"{name}({content})" if content else name


def fork_prompt(skill: Skill, body: str) -> str:
    """What a forked skill's sub-agent is given: where the skill's files are, then its instructions."""
    return f"Base directory for this skill: {skill.directory}\n\n{body.strip()}"


# StopFailure's `error`, by the kind of API error, in Claude Code's words.
_STOP_FAILURE_ERRORS = {Kind.AUTHENTICATION: "authentication_failed", Kind.RATE_LIMITED: "rate_limit",
                        Kind.SPEND_CAP: "rate_limit", Kind.OVERLOADED: "server_error", Kind.SERVER: "server_error"}


def add_usage(parent: AgentResult, child: AgentResult) -> None:
    """A sub-agent's tokens, cost and API time count towards the run that started it."""
    for key in ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "cost_usd", "api_ms"):
        setattr(parent, key, getattr(parent, key) + getattr(child, key))


def _add_usage(result: AgentResult, response, settings) -> None:
    usage = response.usage
    result.input_tokens += usage.input_tokens
    result.output_tokens += usage.output_tokens
    result.cache_write_tokens += usage.cache_write_tokens
    result.cache_read_tokens += usage.cache_read_tokens
    result.api_ms += response.total_ms or 0.0
    cost = estimate_cost(response.model, usage.input_tokens, usage.output_tokens, usage.cache_write_tokens,
                         usage.cache_read_tokens, dict(settings.prices))
    result.cost_usd += cost or 0.0

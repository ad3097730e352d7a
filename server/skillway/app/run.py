"""`run_prompt`: what the user typed, run to its end in a session. The one flow every front end adapts.

A command with reviewers (`/ship`) runs its fan-out; anything else is prepared (UserPromptSubmit
hooks, a slash command's body) and answered by the agent loop, or, when the run continues a chat
conversation, streamed as plain text. What the run needs from its front end is a `UserInterface`;
how it ended is a `RunOutcome`, never an exception for anything a user can cause.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from skillway.agent.context import RunContext
from skillway.agent.loop import AgentLoop, AgentResult, PermissionAsk, RunInterrupted
from skillway.agent.tools import Editor, Shell, ToolError
from skillway.app.compaction import COMMAND as COMPACT
from skillway.app.compaction import compact, needs_compaction
from skillway.model.client import Done, Restart, TextDelta
from skillway.model.errors import ModelError
from skillway.settings import Purpose
from skillway.ship.orchestrator import REVIEWER_TIMEOUT, ShipError, ShipEvent, ShipResult, fan_out_command, run_ship
from skillway.slash.prepare import PreparedPrompt, PromptRefused, prepare

T = TypeVar("T")


class UserInterface(Protocol):
    """What a front end does for a run. `QuietInterface` is the one that does nothing."""

    editor: Editor | None  # the agent's Read, Edit and Write go through it (the editor's unsaved text); None: the disk
    shell: Shell | None  # the agent's Bash runs there (the editor's terminal); None: a subprocess

    async def working(self, title: str, work: Awaitable[T]) -> T:
        """Show that `work` is running (a progress bar, a spinner) until it is done; return its result."""
        ...

    def progress(self, event: ShipEvent) -> None:
        """A reviewer of a fan-out started, retried or finished."""
        ...

    def message(self, message: dict[str, Any]) -> None:
        """A message of the conversation, as it is added to the transcript."""
        ...

    async def ask_permission(self, asked: PermissionAsk) -> bool:
        """A tool call no rule allows, put to the person; False when nobody can answer."""
        ...

    async def begin_answer(self) -> None:
        """A streamed answer is about to start."""
        ...

    async def stream_text(self, text: str) -> None:
        """The next piece of a streamed answer."""
        ...

    async def restart_answer(self) -> None:
        """The stream failed midway and starts over: what was streamed is to be dropped."""
        ...

    def event(self, event: dict[str, Any]) -> None:
        """Something on the way of the agent's answer: a request sent (`requesting`), a switch to the
        fallback model (`model_fallback`), a streaming event of the API (`stream_event`, when
        RunOptions.partial_messages asks for them)."""
        ...


class QuietInterface:
    """No one to show anything to, and no one to ask: a tool call no rule allows is refused."""

    editor: Editor | None = None
    shell: Shell | None = None

    async def working(self, title: str, work: Awaitable[T]) -> T:
        return await work

    def progress(self, event: ShipEvent) -> None:
        pass

    def message(self, message: dict[str, Any]) -> None:
        pass

    async def ask_permission(self, asked: PermissionAsk) -> bool:
        return False

    async def begin_answer(self) -> None:
        pass

    async def stream_text(self, text: str) -> None:
        pass

    async def restart_answer(self) -> None:
        pass

    def event(self, event: dict[str, Any]) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    """How to run one prompt. `conversation`, when set, is the chat so far (the typed text is its next
    user message): the answer is streamed text, with no tools."""

    instructions: str | None = None  # appended to the system prompt
    system_prompt: str | None = None  # replaces skillway's own system prompt (the memory still follows)
    tools: tuple[str, ...] | None = None  # the built-in tools offered (None: all of them); MCP tools stay
    fallback_model: str | None = None  # answers when the model is overloaded or not found
    json_schema: dict[str, Any] | None = None  # the answer is a StructuredOutput call matching it
    partial_messages: bool = False  # UserInterface.event gets each streaming event of the answers
    allowed_tools: tuple[str, ...] = ()
    disallowed_tools: tuple[str, ...] = ()  # deny rules, above every allow
    max_turns: int = 20
    model: str | None = None
    max_cost_usd: float | None = None
    conversation: tuple[dict[str, Any], ...] | None = None
    # The prompt follows the session's conversation so far (its transcript since the last compaction:
    # a resumed session, the terminal's and print mode's turns); False: it starts one of its own.
    follow_session: bool = False
    reviewer_timeout: float = REVIEWER_TIMEOUT  # seconds each reviewer of a fan-out may take


class Status(enum.Enum):
    ANSWERED = "answered"
    REFUSED = "refused"  # the prompt was not sent: an unknown command, bad arguments, a hook's veto
    FAILED = "failed"  # the API could not answer (the error says why)


@dataclass(frozen=True)
class RunOutcome:
    status: Status
    text: str  # the answer (the decision for a fan-out), or why there is none
    result: AgentResult | None = None  # turns, usage and notices of an answered run
    ship: ShipResult | None = None  # a fan-out's result
    error: ModelError | None = None  # why a FAILED run failed
    blocked: bool = False  # REFUSED by a UserPromptSubmit hook
    command: str | None = None  # the qualified name, when a slash command ran

    @property
    def notices(self) -> list[str]:
        return self.result.notices if self.result is not None else []


async def run_prompt(session: RunContext, typed: str, ui: UserInterface, options: RunOptions | None = None) -> RunOutcome:
    """Run `typed` (a prompt or `/command args`) in `session` through `ui`, to its end."""
    options = options or RunOptions()
    try:
        if fan_out_command(session, typed) is not None:  # /ship: skillway runs the reviewers itself
            return _shipped(await run_ship(session, typed, on_event=ui.progress, on_message=ui.message,
                                           reviewer_timeout=options.reviewer_timeout))
        if typed == COMPACT or typed.startswith(COMPACT + " "):  # built in, as in Claude Code
            if options.conversation is not None:  # a chat buffer's conversation is its text, which is the person's
                return RunOutcome(Status.REFUSED, "/compact sums up a stored session (the terminal, print mode); "
                                                  "a chat buffer's conversation is its own text")
            return await _compacted(session, "manual", typed[len(COMPACT):].strip(), options)
        notices: list[str] = []
        if options.follow_session and needs_compaction(session):  # a long conversation goes on from a summary
            done = await compact(session, trigger="auto", model=options.model)
            if done is not None:
                notices = [f"the conversation was compacted: {done.tokens_before:,} tokens summed up", *done.notices]
        history = session.transcript.conversation() if options.follow_session else []
        prompt_id = str(uuid.uuid4())  # every hook of this prompt's run says which prompt it belongs to
        prepared = await prepare(session, typed, prompt_id=prompt_id)
        if options.conversation is not None:
            result = await _stream(session, prepared, ui, options)
        else:
            loop = AgentLoop(session, instructions=options.instructions,
                             allowed_tools=prepared.allowed_tools + options.allowed_tools,
                             max_turns=options.max_turns, model=options.model or prepared.model,
                             max_cost_usd=options.max_cost_usd, on_message=ui.message,
                             ask=ui.ask_permission, editor=ui.editor, shell=ui.shell, hook_fields={"prompt_id": prompt_id},
                             denied_tools=options.disallowed_tools + prepared.disallowed_tools,
                             **_tool_choice(options.tools), system_prompt=options.system_prompt,
                             fallback_model=options.fallback_model, json_schema=options.json_schema,
                             on_event=ui.event, partial_messages=options.partial_messages)
            if prepared.fork_agent:
                result = await ui.working(f"skillway: {typed.split()[0]}", loop.run_forked(
                    prepared.fork_agent, prepared.text, prepared.allowed_tools + options.allowed_tools))
                # The conversation keeps what was run and what it reported, as if answered in it.
                session.transcript.append({"role": "user", "content": typed})
                session.transcript.append({"role": "assistant", "content": [{"type": "text", "text": result.text}]})
            else:
                result = await ui.working(f"skillway: {typed.split()[0]}",
                                          loop.run(prepared.text, prepared.attachments, history))
    except (ShipError, PromptRefused) as refused:
        return RunOutcome(Status.REFUSED, str(refused), blocked=getattr(refused, "blocked", False))
    except ToolError as refused:  # a forked skill whose agent cannot be found
        return RunOutcome(Status.REFUSED, str(refused))
    except RunInterrupted as interrupted:
        return RunOutcome(Status.REFUSED, f"stopped by a PermissionRequest hook: {interrupted}")
    except ModelError as error:
        return RunOutcome(Status.FAILED, error.message, error=error)
    result.notices[:0] = notices
    return RunOutcome(Status.ANSWERED, result.text, result, command=prepared.command)


async def _compacted(session: RunContext, trigger: str, instructions: str, options: RunOptions) -> RunOutcome:
    """`/compact [what to keep]`: the conversation summed up; the summary is the answer."""
    try:
        done = await compact(session, trigger=trigger, instructions=instructions, model=options.model)
    except ModelError as error:
        return RunOutcome(Status.FAILED, error.message, error=error)
    text = (f"Compacted: {done.tokens_before:,} tokens of conversation summed up.\n\n{done.summary}" if done
            else "Nothing to compact yet.")
    return RunOutcome(Status.ANSWERED, text, AgentResult(text=text, turns=0, notices=list(done.notices) if done else []))


def _tool_choice(tools: tuple[str, ...] | None) -> dict[str, Any]:
    """The AgentLoop arguments of a run limited to `tools`: only those built-in tools, for its
    sub-agents too; every MCP tool still."""
    if tools is None:
        return {}
    return {"tools": list(tools), "subagent_tools": list(tools), "mcp_names": None}


def _shipped(shipped: ShipResult) -> RunOutcome:
    """A fan-out's result as any run's: its usage, its decision as the answer."""
    usage = replace(shipped.usage, text=shipped.document, turns=1, notices=shipped.notices)
    return RunOutcome(Status.ANSWERED, shipped.document, usage, shipped)


async def _stream(session: RunContext, prepared: PreparedPrompt, ui: UserInterface, options: RunOptions) -> AgentResult:
    """The next answer of a chat conversation, streamed to `ui` (plain text, no tools)."""
    content = [*prepared.attachments, {"type": "text", "text": prepared.text}] if prepared.attachments else prepared.text
    messages = [*(options.conversation or ()), {"role": "user", "content": content}]
    session.transcript.append(messages[-1])
    await ui.begin_answer()
    request = session.model_request(Purpose.CHAT, messages, model=options.model or prepared.model, requires_text=True)
    result = AgentResult(turns=1)
    async for event in session.model.stream(request):
        if isinstance(event, TextDelta):
            await ui.stream_text(event.text)
        elif isinstance(event, Restart):
            await ui.restart_answer()
        elif isinstance(event, Done):
            session.transcript.append(event.response.as_message())
            result.text = event.response.text
    return result

"""A run's UserInterface over ACP: the answer streams as `agent_message_chunk`s, tool calls as
`tool_call` / `tool_call_update`, /ship's reviewers as a `plan`, and a tool call no rule decided
becomes `session/request_permission` (allow once / always / reject; "always" is kept as a rule of
the workspace). Updates go out in the order they happen, through one queue per session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from acp import (
    RequestError,
    plan_entry,
    start_tool_call,
    tool_terminal_ref,
    update_agent_message_text,
    update_plan,
    update_tool_call,
)
from acp.interfaces import Client
from acp.schema import AllowedOutcome, PermissionOption, PlanEntryStatus, ToolCallUpdate

from skillway.acp import updates
from skillway.agent.tools import Editor, Shell
from skillway.app.run import PermissionAsk, QuietInterface
from skillway.core.permission_rules import allowed, parse_rules, subject_of
from skillway.settings.edits import allow_always
from skillway.ship.orchestrator import ShipEvent

log = logging.getLogger(__name__)
T = TypeVar("T")
ALLOW, ALWAYS, REJECT = "allow_once", "allow_always", "reject_once"
RESTARTED = "\n\n[the answer was cut off and starts over]\n\n"


@dataclass
class Choice:
    option_id: str
    name: str
    kind: str  # allow_once | allow_always | reject_once | reject_always


class AcpInterface(QuietInterface):
    def __init__(self, client: Client, session_id: str, workspace: Path, *, editor: Editor | None = None,
                 shell: Shell | None = None) -> None:
        self.client, self.session_id, self.workspace = client, session_id, workspace
        self.editor, self.shell = editor, shell
        self.always: list[str] = []  # rules answered "always" in this session (also kept in the workspace's settings)
        self.announced: set[str] = set()  # tool call ids the client has been told of
        self.terminals: dict[str, str] = {}  # tool call id -> the client's terminal its command ran in
        self.plan: dict[str, tuple[PlanEntryStatus, str]] = {}  # reviewer -> (status, what it said)
        self.streamed = False  # some of this turn's answer went out as it came
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None

    # --- sending, in order ---------------------------------------------------------------------

    def send(self, update: Any) -> None:
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        self._queue.put_nowait(update)

    async def flush(self) -> None:
        """Every update so far has been written to the client."""
        await self._queue.join()

    async def _send_all(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                await self.client.session_update(session_id=self.session_id, update=update)
            except Exception as exc:  # a closed connection: nobody to show it to; the run goes on and ends
                log.info("an update did not reach the client: %s", exc)
            finally:
                self._queue.task_done()

    async def close(self) -> None:
        if self._sender is not None:
            await self.flush()
            self._sender.cancel()

    def say(self, text: str) -> None:
        self.streamed = True
        self.send(update_agent_message_text(text))

    # --- UserInterface ---------------------------------------------------------------------------

    async def working(self, title: str, work: Awaitable[T]) -> T:
        return await work

    def event(self, event: dict[str, Any]) -> None:
        if event["type"] == "text":
            self.say(event["text"])
        elif event["type"] == "restart" and self.streamed:
            self.say(RESTARTED)
        elif event["type"] == "model_fallback":
            self.say(f"\n\n_{event['content']}_\n\n")

    def message(self, message: dict[str, Any]) -> None:
        for update in updates.live_updates(message, self.workspace):
            kind = getattr(update, "session_update", "")
            if kind == "tool_call":
                self.announced.add(update.tool_call_id)
            elif kind == "tool_call_update" and update.tool_call_id in self.terminals:  # the terminal shows its output
                update.content = [tool_terminal_ref(self.terminals.pop(update.tool_call_id))]
            self.send(update)

    def terminal_created(self, call_id: str, terminal_id: str) -> None:
        """The command of `call_id` runs in the client's terminal `terminal_id`: shown with its call."""
        self.terminals[call_id] = terminal_id
        self.send(update_tool_call(call_id, status="in_progress", content=[tool_terminal_ref(terminal_id)]))

    def begin_plan(self, reviewers: list[str]) -> None:
        """A fan-out is about to start: one pending entry per reviewer."""
        self.plan = {reviewer: ("pending", "") for reviewer in reviewers}
        self._send_plan()

    def progress(self, event: ShipEvent) -> None:
        status: PlanEntryStatus = "completed" if event.kind == "done" else "in_progress"
        self.plan[event.reviewer] = (status, event.detail if event.kind != "start" else "")
        self._send_plan()

    def _send_plan(self) -> None:
        self.send(update_plan([plan_entry(f"{reviewer}: {said}" if said else reviewer, priority="high", status=status)
                               for reviewer, (status, said) in self.plan.items()]))

    async def ask_permission(self, asked: PermissionAsk) -> bool:
        if allowed(parse_rules(self.always), asked.tool_name, subject_of(asked.tool_name, asked.tool_input)):
            return True
        if asked.tool_use_id not in self.announced:  # a sub-agent's call: the client has not seen it yet
            self.message({"role": "assistant", "content": [
                {"type": "tool_use", "id": asked.tool_use_id, "name": asked.tool_name, "input": asked.tool_input}]})
        call = ToolCallUpdate(tool_call_id=asked.tool_use_id, title=asked.question,
                              kind=updates.kind_of(asked.tool_name), status="pending", raw_input=asked.tool_input)
        answer = await self.choose(call, [Choice(ALLOW, "Allow once", "allow_once"),
                                          Choice(ALWAYS, f"Always allow {asked.rule}", "allow_always"),
                                          Choice(REJECT, "Reject", "reject_once")])
        if answer == ALWAYS:
            self.always.append(asked.rule)
            try:
                allow_always(self.workspace, asked.rule)
            except (OSError, ValueError) as exc:  # allowed still, for this session; told why it is not kept
                self.say(f"\n\n_skillway: the rule {asked.rule} is allowed in this session only: {exc}_\n\n")
        return answer in (ALLOW, ALWAYS)

    async def ask_trust(self, question: str) -> bool:
        """Whether the person trusts the workspace (its hooks, its MCP servers and its settings may run)."""
        return await self.ask_choice(f"skillway-trust-{self.session_id}", question, [
            Choice(ALLOW, "Trust this workspace", "allow_once"), Choice(REJECT, "Not now", "reject_once")]) == ALLOW

    async def ask_choice(self, call_id: str, question: str, choices: list[Choice]) -> str | None:
        """A question of skillway's own (not a tool call's), shown as a tool call and put to the
        person with `choices`; the option chosen, None when none was."""
        self.send(start_tool_call(call_id, question, kind="other", status="pending"))
        self.announced.add(call_id)
        answer = await self.choose(ToolCallUpdate(tool_call_id=call_id, title=question, status="pending"), choices)
        allowing = answer is not None and any(c.option_id == answer and c.kind.startswith("allow") for c in choices)
        self.send(update_tool_call(call_id, status="completed" if allowing else "failed"))
        return answer

    async def choose(self, call: ToolCallUpdate, choices: list[Choice]) -> str | None:
        """The option the person chose; None when the request was cancelled or could not be asked."""
        await self.flush()  # the client knows the tool call before it is asked about it
        options = [PermissionOption(option_id=c.option_id, name=c.name, kind=c.kind) for c in choices]  # type: ignore[arg-type]
        try:
            answer = await self.client.request_permission(session_id=self.session_id, tool_call=call, options=options)
        except (RequestError, ConnectionError) as exc:
            log.warning("the permission request was not answered: %s", exc)
            return None
        outcome = answer.outcome
        return outcome.option_id if isinstance(outcome, AllowedOutcome) else None

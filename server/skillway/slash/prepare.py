"""From what the user typed to the prompt the model gets: `/name args` is resolved (a skill beats a
command), UserPromptSubmit hooks may block it or add context, a command's body is rendered, and the
MCP resources it @-mentions are attached."""

from __future__ import annotations

from dataclasses import dataclass, replace

from skillway.agent.loop import FORK_DEFAULT_AGENT, fork_prompt
from skillway.agent.mcp_tools import MCP_PREFIX
from skillway.plugins.catalog import UnknownName
from skillway.plugins.model import HookEvent, Skill
from skillway.plugins.render import Invocation, RenderError, render_item, split_arguments
from skillway.slash.mentions import resource_attachments


class PromptRefused(Exception):
    """The prompt is not sent. `blocked` is True when a hook refused it (exit code 2 in print mode)."""

    def __init__(self, message: str, *, blocked: bool = False) -> None:
        super().__init__(message)
        self.blocked = blocked


@dataclass(frozen=True)
class PreparedPrompt:
    text: str
    allowed_tools: tuple[str, ...] = ()
    model: str | None = None
    command: str | None = None  # the qualified name, when it was a slash command
    # A skill with `context: fork` runs as a sub-agent instead (its `agent`, or "general-purpose"),
    # on `text`; the main conversation gets its final report.
    fork_agent: str | None = None
    disallowed_tools: tuple[str, ...] = ()  # a skill's: refused for the rest of the turn
    attachments: tuple[dict, ...] = ()  # content blocks that go before the text: the resources it @-mentions


async def prepare(session, typed: str, *, argument_base: int | None = None, prompt_id: str | None = None) -> PreparedPrompt:
    fields = {"prompt": typed} | ({"prompt_id": prompt_id} if prompt_id else {})
    outcome = await session.hooks.fire(HookEvent.USER_PROMPT_SUBMIT, fields)
    if outcome.blocked or outcome.stop:
        raise PromptRefused(outcome.reason or outcome.stop_reason or "a UserPromptSubmit hook refused the prompt",
                            blocked=True)
    base = session.settings.argument_base if argument_base is None else argument_base
    prepared = await _expand(session, typed, base) if typed.startswith("/") else PreparedPrompt(typed)
    if outcome.additional_context:
        context = "\n".join(outcome.additional_context)
        prepared = replace(prepared, text=f"{prepared.text}\n\n<system-reminder>\n{context}\n</system-reminder>")
    if "@" in typed:
        attachments, told = await resource_attachments(session.mcp, typed)
        session.mcp.problems.extend(told)  # told with the servers' own, once
        prepared = replace(prepared, attachments=tuple(attachments))
    return prepared


async def _expand(session, typed: str, argument_base: int) -> PreparedPrompt:
    name, _, arguments = typed[1:].partition(" ")
    if name.startswith(MCP_PREFIX):  # an MCP server's prompt, as Claude Code offers it
        try:
            return PreparedPrompt(await session.mcp.prompt_text(name, split_arguments(arguments)), command=name)
        except ValueError as exc:
            raise PromptRefused(f"/{name}: {exc}") from None
    try:
        entry = session.catalog.resolve_command(name)
    except UnknownName as exc:
        raise PromptRefused(str(exc)) from None
    item = entry.item
    where = Invocation(session.workspace, session.session_id, session.data_dir, session.workspace_trusted, argument_base)
    try:
        text = await render_item(entry.plugin, item, arguments, where)
    except RenderError as exc:
        raise PromptRefused(f"/{entry.qualified}: {exc}") from None
    if not isinstance(item, Skill):
        return PreparedPrompt(text, item.allowed_tools, item.model, entry.qualified)
    session.hooks.registry.activate_skill(entry.plugin, item)
    if item.context == "fork":
        return PreparedPrompt(fork_prompt(item, text), item.allowed_tools, item.model, entry.qualified,
                              fork_agent=item.agent or FORK_DEFAULT_AGENT, disallowed_tools=item.disallowed_tools)
    return PreparedPrompt(text, item.allowed_tools, item.model, entry.qualified, disallowed_tools=item.disallowed_tools)

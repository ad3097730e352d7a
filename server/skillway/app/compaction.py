"""Compaction: when a session's conversation grows long (or a person types `/compact [what to keep]`),
its turns so far are summed up by the model in one message, from which the conversation goes on.
The transcript keeps everything, with a boundary line where the summary takes over; the hooks fire
as Claude Code fires them: PreCompact (`trigger`, `custom_instructions`; its output adds to the
instructions), the summary, SessionStart with `source: compact`, PostCompact (`compact_summary`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skillway.model.client import ModelResponse
from skillway.plugins.model import HookEvent
from skillway.settings import Purpose

if TYPE_CHECKING:
    from skillway.agent.context import RunContext as Session

COMMAND = "/compact"

SUMMARY_REQUEST = """\
Stop here and write a summary of this conversation so far, for yourself to go on from: the rest of it
will be dropped, and only your summary will be left. Use no tools; answer in plain text.

Put everything in it you would need to carry on without asking again:
- what the person asked for, in their own words where they were precise, and every change of mind;
- the files, functions and commands that matter, with the exact names, paths and code you need;
- what was done, what was tried and failed (and why), and the errors met and how they were fixed;
- decisions taken and the reasons given;
- what is still open, and the very next step, if one was under way.

Write the summary between <summary> and </summary>; anything outside them is dropped."""

CONTINUATION = """\
This session goes on from an earlier conversation that was summed up because it grew long. The summary:

{summary}

The whole earlier conversation is in the transcript at {transcript} if an exact detail is needed.
Go on from where it stopped, without recapping it."""


@dataclass(frozen=True)
class Compacted:
    summary: str
    tokens_before: int
    notices: tuple[str, ...] = ()


def context_tokens(session: Session) -> int:
    """How many tokens the conversation's last request carried (its answer's input, cached or not, and output)."""
    for message in reversed(session.transcript.messages()):
        usage = message.get("usage") if message.get("role") == "assistant" else None
        if isinstance(usage, dict):
            return sum(int(usage.get(key) or 0) for key in ("input_tokens", "cache_creation_input_tokens",
                                                            "cache_read_input_tokens", "output_tokens"))
    return 0


def needs_compaction(session: Session) -> bool:
    threshold = int(session.settings.auto_compact_tokens)
    return threshold > 0 and context_tokens(session) >= threshold


async def compact(session: Session, *, trigger: str, instructions: str = "", model: str | None = None) -> Compacted | None:
    """Sum the conversation up and go on from the summary; None when there is nothing to sum up.
    A model error is raised (ModelError) and nothing is changed."""
    conversation = session.transcript.conversation()
    if not conversation:
        return None
    before = context_tokens(session)
    pre = await session.hooks.fire(HookEvent.PRE_COMPACT, {"trigger": trigger, "custom_instructions": instructions or None},
                                   match=trigger)
    extra = [text for text in (instructions, *pre.additional_context) if text.strip()]
    request_text = SUMMARY_REQUEST + ("\n\nAlso keep in mind:\n" + "\n\n".join(extra) if extra else "")
    request = session.model_request(Purpose.AGENT, [*conversation, {"role": "user", "content": request_text}],
                                    model=model, requires_text=True)
    response: ModelResponse = await session.model.create(request)
    summary = summary_of(response.text)
    session.transcript.append_boundary(trigger, before)
    session.transcript.append({"role": "user", "compact_summary": True,
                               "content": CONTINUATION.format(summary=summary, transcript=session.transcript.path)})
    started = await session.start("compact", model=model)
    post = await session.hooks.fire(HookEvent.POST_COMPACT, {"trigger": trigger, "compact_summary": response.text}, match=trigger)
    notices = (*pre.warnings, *started.warnings, *started.system_messages, *post.warnings)
    return Compacted(summary, before, tuple(notices))


def summary_of(answer: str) -> str:
    """The summary in an answer: what is between <summary> and </summary>, or all of it when it has none."""
    found = re.search(r"<summary>(.*?)(?:</summary>|$)", answer, re.DOTALL)
    return (found.group(1) if found else answer).strip()

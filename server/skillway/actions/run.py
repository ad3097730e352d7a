"""Running a code action: one prompt per action (templates), one model call, one result.

An edit action returns the new text for the selected range; a report action returns markdown that
the editor opens as a document. Nothing here knows about LSP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from skillway.core.reports import write_report
from skillway.core.secrets import is_secret_file
from skillway.model.templates import render
from skillway.plugins.catalog import UnknownName
from skillway.settings import Purpose

_FENCED = re.compile(r"```[\w+-]*[ \t]*\n(.*?)\n?```", re.DOTALL)


@dataclass(frozen=True)
class ActionInput:
    action: str
    path: Path
    language: str
    selection: str
    before: str  # a little of the text before the selection, for context
    after: str
    diagnostic: str | None = None


@dataclass(frozen=True)
class ActionResult:
    new_text: str | None = None  # edit actions: the replacement of the selection
    report: Path | None = None  # report actions: the markdown file written


class ActionRefused(Exception):
    """The action cannot run on this input (the message says why)."""


def replacement_from(answer: str) -> str:
    """The code in the answer: its first fenced block, or the whole answer when there is none."""
    fenced = _FENCED.search(answer)
    return fenced.group(1) if fenced else answer.strip("\n")


async def perform(session, request: ActionInput) -> ActionResult:
    if is_secret_file(request.path):
        raise ActionRefused(f"{request.path.name} looks like a secrets file; it is not sent to the model")
    kind, _, name = request.action.partition(":")
    instructions = None
    if kind == "skill":
        entry = _skill(session, name)
        instructions = f"Apply the skill {entry.qualified}:\n\n{entry.item.read_body()}"
    template = "action-fix.md.j2" if kind == "fix" else f"action-{kind}.md.j2" if kind != "skill" else "action-skill.md.j2"
    prompt = render(template, path=_relative(request.path, session.workspace), language=request.language,
                    selection=request.selection, before=request.before, after=request.after,
                    diagnostic=request.diagnostic or "")
    response = await session.model.create(session.model_request(
        Purpose.CHAT, [{"role": "user", "content": prompt}], instructions=instructions, ledger_purpose="action",
        requires_text=True))
    if response.stop_reason == "max_tokens":  # whole as a stream, but the model was stopped midway
        raise ActionRefused("the answer was cut off at the max tokens limit (the maxTokens setting); nothing was applied")
    if kind in ("explain", "tests"):
        title = {"explain": "Explanation", "tests": "Proposed tests"}[kind]
        return ActionResult(report=write_report(session.workspace, f"{kind}-{request.path.stem}",
                                                f"{title}: {request.path.name}", response.text))
    new_text = replacement_from(response.text)
    limit = session.settings.max_edit_chars
    if len(new_text) > limit:
        raise ActionRefused(f"the answer is {len(new_text):,} characters, over the maxEditChars limit of {limit:,}; "
                            "nothing was applied")
    return ActionResult(new_text=new_text)


def _skill(session, name: str):
    try:
        return session.catalog.resolve_command(name)
    except UnknownName as exc:
        raise ActionRefused(str(exc)) from None


def _relative(path: Path, workspace: Path) -> str:
    try:
        return str(path.relative_to(workspace))
    except ValueError:
        return path.name



"""The completion request for a context: the one prompt template, the session's model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from skillway.completion.context import CompletionContext
from skillway.model.templates import render
from skillway.settings import Purpose


def completion_messages(context: CompletionContext) -> list[dict]:
    text = render("completion.md.j2", prefix=context.prefix, suffix=context.suffix, path=context.path,
                  language=context.language, snippets=context.snippets)
    return [{"role": "user", "content": text}]


def session_fetch(session) -> Callable[[CompletionContext], Awaitable[str]]:
    """Ask `session`'s model for the text at the cursor."""

    async def fetch(context: CompletionContext) -> str:
        response = await session.model.create(session.model_request(Purpose.COMPLETION, completion_messages(context)))
        return response.text

    return fetch

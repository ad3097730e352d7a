"""Completion requests per document: debounced, the newer superseding the older, cached.

Every request is answered: with a suggestion, with None when a newer request for the same document
took its place, or by raising CancelledError when the caller itself was cancelled (the LSP layer
turns that into RequestCancelled). A model call in flight for a superseded request is cancelled,
which closes its HTTP connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from skillway.completion.cache import SuggestionCache
from skillway.completion.context import CompletionContext
from skillway.completion.postprocess import clean


@dataclass
class CompletionSettings:
    debounce_seconds: float = 0.15
    max_lines: int = 20
    max_chars: int = 2000


class CompletionEngine:
    def __init__(self, fetch: Callable[[CompletionContext], Awaitable[str]], settings: CompletionSettings | None = None,
                 *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.fetch = fetch  # asks the model; may raise ModelError
        self.settings = settings or CompletionSettings()
        self.sleep = sleep  # how the debounce waits: the event loop's clock, or a test's
        self.cache = SuggestionCache()
        self._latest: dict[str, object] = {}
        self._in_flight: dict[str, asyncio.Task] = {}
        self.calls = 0  # model calls made: what the tests and benchmarks count

    async def suggest(self, document: str, context: CompletionContext) -> str | None:
        cached = self.cache.lookup(document, context.prefix, context.suffix)
        if cached is not None:
            return cached
        ticket = object()
        self._latest[document] = ticket
        older = self._in_flight.pop(document, None)
        if older is not None:
            older.cancel()  # superseded: its HTTP request is aborted now, not when it would finish
        await self.sleep(self.settings.debounce_seconds)
        if self._latest.get(document) is not ticket:
            return None
        self.calls += 1
        call = asyncio.ensure_future(self.fetch(context))
        self._in_flight[document] = call
        try:
            raw = await asyncio.shield(call)
        except asyncio.CancelledError:
            call.cancel()
            task = asyncio.current_task()
            assert task is not None  # this coroutine runs as a task: the request handler's
            if task.cancelling():
                raise  # the caller was cancelled ($/cancelRequest): it answers RequestCancelled
            return None  # a newer request took over
        finally:
            if self._in_flight.get(document) is call:
                del self._in_flight[document]
        suggestion = clean(raw, context.prefix, context.suffix,
                           max_lines=self.settings.max_lines, max_chars=self.settings.max_chars)
        self.cache.store(document, context.prefix, context.suffix, suggestion)
        return suggestion or None

    def close(self, document: str) -> None:
        """The document was closed: stop its request and forget its suggestions."""
        self._latest.pop(document, None)
        call = self._in_flight.pop(document, None)
        if call is not None:
            call.cancel()
        self.cache.forget(document)

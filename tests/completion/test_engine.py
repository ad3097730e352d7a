"""Debounce, supersession, cancellation and the cache, with a scripted model."""

import asyncio

import pytest

from skillway.completion.context import CompletionContext
from skillway.completion.engine import CompletionEngine, CompletionSettings


def context(prefix: str, suffix: str = "") -> CompletionContext:
    return CompletionContext(prefix, suffix, "python", "m.py")


class Model:
    def __init__(self, answer: str = "return a + b", delay: float = 0.0):
        self.answer, self.delay = answer, delay
        self.calls, self.cancelled = 0, 0

    async def __call__(self, ctx: CompletionContext) -> str:
        self.calls += 1
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return self.answer


def engine(model: Model, debounce: float = 0.05) -> CompletionEngine:
    return CompletionEngine(model, CompletionSettings(debounce_seconds=debounce))


async def test_a_burst_makes_one_call_and_every_request_is_answered():
    model = Model()
    completions = engine(model, debounce=0.1)
    requests = []
    for index in range(10):
        requests.append(asyncio.ensure_future(completions.suggest("doc", context("def f(a, b):\n    " + "x" * index))))
        await asyncio.sleep(0.02)
    answers = await asyncio.gather(*requests)
    assert model.calls == 1
    assert answers == [None] * 9 + ["return a + b"]


async def test_a_newer_request_cancels_the_model_call_of_the_older():
    model = Model(delay=5)
    completions = engine(model, debounce=0)
    older = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await asyncio.sleep(0.05)
    model.delay = 0
    newer = await completions.suggest("doc", context("ab"))
    assert (await older, newer, model.cancelled) == (None, "return a + b", 1)


async def test_cancelling_the_caller_cancels_the_model_call_and_raises():
    model = Model(delay=5)
    completions = engine(model, debounce=0)
    request = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await asyncio.sleep(0.05)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    await asyncio.sleep(0)
    assert model.cancelled == 1


async def test_the_same_spot_twice_calls_the_model_once():
    model = Model()
    completions = engine(model)
    assert await completions.suggest("doc", context("def f(a, b):\n    ")) == "return a + b"
    assert await completions.suggest("doc", context("def f(a, b):\n    ")) == "return a + b"
    assert model.calls == 1


async def test_typing_the_start_of_the_suggestion_serves_the_rest_without_a_call():
    model = Model()
    completions = engine(model)
    await completions.suggest("doc", context("def f(a, b):\n    ", "\n"))
    assert await completions.suggest("doc", context("def f(a, b):\n    ret", "\n")) == "urn a + b"
    assert model.calls == 1


async def test_typing_something_else_asks_the_model_again():
    model = Model()
    completions = engine(model)
    await completions.suggest("doc", context("def f(a, b):\n    "))
    await completions.suggest("doc", context("def f(a, b):\n    pass"))
    assert model.calls == 2


async def test_documents_do_not_supersede_each_other():
    model = Model(delay=0.1)
    completions = engine(model, debounce=0)
    answers = await asyncio.gather(completions.suggest("one", context("a")), completions.suggest("two", context("b")))
    assert answers == ["return a + b", "return a + b"]


async def test_closing_a_document_stops_its_call_and_forgets_its_suggestions():
    model = Model(delay=5)
    completions = engine(model, debounce=0)
    request = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await asyncio.sleep(0.05)
    completions.close("doc")
    assert await request is None
    assert model.cancelled == 1


async def test_a_model_error_reaches_the_caller():
    async def failing(ctx):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await engine(failing).suggest("doc", context("a"))

"""Debounce, supersession, cancellation and the cache, with a scripted model."""

import asyncio

import pytest

from skillway.completion.context import CompletionContext
from skillway.completion.engine import CompletionEngine, CompletionSettings
from tests.fakes.clock import ManualClock, settle


def context(prefix: str, suffix: str = "") -> CompletionContext:
    return CompletionContext(prefix, suffix, "python", "m.py")


class Model:
    """Answers at once, or (`hold`) only when `release` is called; counts calls and cancellations."""

    def __init__(self, answer: str = "return a + b", hold: bool = False):
        self.answer, self.hold = answer, hold
        self.calls, self.cancelled = 0, 0
        self.released = asyncio.Event()

    def release(self) -> None:
        self.released.set()

    async def __call__(self, ctx: CompletionContext) -> str:
        self.calls += 1
        try:
            if self.hold:
                await self.released.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return self.answer


def engine(model: Model, debounce: float = 0.0, clock: ManualClock | None = None) -> CompletionEngine:
    return CompletionEngine(model, CompletionSettings(debounce_seconds=debounce),
                            sleep=clock.sleep if clock else asyncio.sleep)


async def test_a_burst_makes_one_call_and_every_request_is_answered():
    model, clock = Model(), ManualClock()
    completions = engine(model, debounce=0.1, clock=clock)
    requests = []
    for index in range(10):  # a keystroke every 20 ms: typing never pauses for the 100 ms debounce
        requests.append(asyncio.ensure_future(completions.suggest("doc", context("def f(a, b):\n    " + "x" * index))))
        await clock.advance(0.02)
    await clock.advance(0.1)
    answers = await asyncio.gather(*requests)
    assert (model.calls, answers) == (1, [None] * 9 + ["return a + b"])


async def test_no_call_is_made_before_the_debounce_has_passed():
    model, clock = Model(), ManualClock()
    completions = engine(model, debounce=0.15, clock=clock)
    request = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await clock.advance(0.149)
    calls_before = model.calls
    await clock.advance(0.001)
    assert (calls_before, model.calls, await request) == (0, 1, "return a + b")


async def test_a_newer_request_cancels_the_model_call_of_the_older():
    model = Model(hold=True)
    completions = engine(model)
    older = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await settle()  # the older request's call is in flight
    model.release()
    newer = await completions.suggest("doc", context("ab"))
    assert (await older, newer, model.cancelled) == (None, "return a + b", 1)


async def test_cancelling_the_caller_cancels_the_model_call_and_raises():
    model = Model(hold=True)
    completions = engine(model)
    request = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await settle()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    await settle()
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
    model = Model(hold=True)
    completions = engine(model)
    both = asyncio.gather(completions.suggest("one", context("a")), completions.suggest("two", context("b")))
    await settle()  # both calls are in flight at once
    model.release()
    assert (await both, model.calls, model.cancelled) == (["return a + b", "return a + b"], 2, 0)


async def test_closing_a_document_stops_its_call_and_forgets_its_suggestions():
    model = Model(hold=True)
    completions = engine(model)
    request = asyncio.ensure_future(completions.suggest("doc", context("a")))
    await settle()
    completions.close("doc")
    assert await request is None
    assert model.cancelled == 1


async def test_a_model_error_reaches_the_caller():
    async def failing(ctx):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await engine(failing).suggest("doc", context("a"))

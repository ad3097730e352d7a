"""The model client through the real SDK over real HTTP, against the fake API on 127.0.0.1."""

import asyncio
import calendar
import time

import pytest

from skillway.model.client import Done, ModelClient, ModelRequest, TextDelta
from skillway.model.client import ToolUse as ToolUseEvent
from skillway.model.errors import Kind, ModelError
from skillway.model.ledger import UsageLedger
from skillway.settings import Settings
from tests.fakes.anthropic_server import Reply, StatusError, Text, ToolUse

KEY = {"ANTHROPIC_API_KEY": "sk-test-0123456789"}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def ledger(tmp_path):
    ledger = UsageLedger(tmp_path / "usage.db")
    yield ledger
    ledger.close()


def client_for(fake, ledger=None, **settings) -> ModelClient:
    return ModelClient(Settings(base_url=fake.base_url, **settings), project="web", ledger=ledger, environ=KEY)


async def test_streaming_text_arrives_in_deltas_then_the_whole_answer(fake):
    fake.enqueue(Reply(content=[Text("def add(a, b): return a + b")]))
    events = [event async for event in client_for(fake).stream(ModelRequest("chat", HELLO))]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "def add(a, b): return a + b"
    done = events[-1]
    assert isinstance(done, Done)
    assert (done.response.text, done.response.stop_reason, done.response.usage.output_tokens) == (
        "def add(a, b): return a + b", "end_turn", 7)


async def test_streaming_tool_use_gives_the_parsed_input(fake):
    fake.enqueue(Reply(content=[Text("Reading."), ToolUse("Read", {"file_path": "src/app.py", "limit": 20}, id="toolu_1")]))
    events = [event async for event in client_for(fake).stream(ModelRequest("agent", HELLO, tools=[
        {"name": "Read", "description": "Read a file", "input_schema": {"type": "object"}}]))]
    tool_uses = [e.block for e in events if isinstance(e, ToolUseEvent)]
    assert tool_uses == [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "src/app.py", "limit": 20}}]
    assert events[-1].response.stop_reason == "tool_use"
    assert events[-1].response.tool_uses == tool_uses


async def test_cache_control_marks_system_context_and_the_last_tool(fake):
    tools = [{"name": n, "description": n, "input_schema": {"type": "object"}} for n in ("Read", "Grep")]
    await client_for(fake).create(ModelRequest("agent", HELLO, system="You are skillway.", context="<system-reminder>x</system-reminder>", tools=tools))
    body = fake.requests[0].body
    assert body["system"] == [
        {"type": "text", "text": "You are skillway.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "<system-reminder>x</system-reminder>", "cache_control": {"type": "ephemeral"}},
    ]
    assert ["cache_control" in tool for tool in body["tools"]] == [False, True]
    assert body["messages"] == HELLO


async def test_each_purpose_uses_its_model_and_max_tokens(fake):
    client = client_for(fake)
    await client.create(ModelRequest("completion", HELLO))
    await client.create(ModelRequest("chat", HELLO, model="opus"))
    assert [(r.body["model"], r.body["max_tokens"]) for r in fake.requests] == [
        ("claude-haiku-4-5", 256), ("claude-opus-4-6", 4096)]


async def test_cancelling_the_caller_closes_the_connection(fake):
    fake.enqueue(Reply(content=[Text("one two three four five six seven eight")], token_delay=0.5))
    client = client_for(fake)
    first = asyncio.Event()

    async def consume():
        async for event in client.stream(ModelRequest("completion", HELLO)):
            if isinstance(event, TextDelta):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await asyncio.to_thread(fake.wait_until_finished, 0, 5.0)
    assert record.disconnected_early is True


async def test_a_429_is_retried_after_its_retry_after(fake):
    fake.enqueue(StatusError(429, "rate_limit_error", headers={"retry-after": "1"}), Reply(content=[Text("fine")]))
    response = await client_for(fake).create(ModelRequest("chat", HELLO))
    first, second = fake.requests
    assert response.text == "fine"
    assert second.started - first.ended >= 0.9


async def test_completions_are_not_retried(fake):
    fake.enqueue(StatusError(429, "rate_limit_error", headers={"retry-after": "1"}))
    with pytest.raises(ModelError) as caught:
        await client_for(fake).create(ModelRequest("completion", HELLO))
    assert caught.value.kind is Kind.RATE_LIMITED
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status, error_type, kind", [
    (529, "overloaded_error", Kind.OVERLOADED),
    (500, "api_error", Kind.SERVER),
    (401, "authentication_error", Kind.AUTHENTICATION),
    (403, "permission_error", Kind.PERMISSION),
    (402, "billing_error", Kind.BILLING),
    (413, "request_too_large", Kind.TOO_LARGE),
    (404, "not_found_error", Kind.NOT_FOUND),
    (400, "invalid_request_error", Kind.INVALID_REQUEST),
])
async def test_status_errors_map_to_one_kind_each(fake, status, error_type, kind):
    fake.enqueue(StatusError(status, error_type))
    with pytest.raises(ModelError) as caught:
        await client_for(fake).create(ModelRequest("completion", HELLO))
    assert (caught.value.kind, caught.value.status) == (kind, status)


async def test_a_429_without_retry_after_is_a_spend_cap(fake):
    fake.enqueue(StatusError(429, "rate_limit_error"))
    with pytest.raises(ModelError) as caught:
        await client_for(fake).create(ModelRequest("completion", HELLO))
    assert caught.value.kind is Kind.SPEND_CAP
    assert "Waiting will not help" in caught.value.message


async def test_an_error_event_midway_is_retried_once_for_commands_and_restarts_the_text(fake):
    fake.enqueue(Reply(content=[Text("half an answer that breaks")], error_after=2), Reply(content=[Text("whole answer")]))
    events = [event async for event in client_for(fake).stream(ModelRequest("chat", HELLO))]
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TextDelta", "TextDelta", "Restart", "TextDelta", "TextDelta", "Done"]
    assert events[-1].response.text == "whole answer"


async def test_an_error_event_midway_fails_a_completion_with_the_stream_kind(fake):
    fake.enqueue(Reply(content=[Text("half an answer that breaks")], error_after=2))
    with pytest.raises(ModelError) as caught:
        await client_for(fake).create(ModelRequest("completion", HELLO))
    assert caught.value.kind is Kind.STREAM
    assert caught.value.message == "The API stream failed midway (overloaded_error: Overloaded); nothing was applied."


async def test_a_dropped_connection_midway_is_a_stream_error(fake):
    fake.enqueue(Reply(content=[Text("one two three four")], disconnect_after=1))
    with pytest.raises(ModelError) as caught:
        await client_for(fake).create(ModelRequest("completion", HELLO))
    assert caught.value.kind is Kind.STREAM


async def test_missing_credentials_give_the_clear_message():
    client = ModelClient(Settings(), project="web", environ={})
    with pytest.raises(ModelError) as caught:
        await client.create(ModelRequest("chat", HELLO))
    assert caught.value.kind is Kind.NO_CREDENTIALS
    assert caught.value.message.startswith("No API credentials: set ANTHROPIC_API_KEY")


async def test_a_local_base_url_needs_no_key(fake):
    client = ModelClient(Settings(base_url=fake.base_url), project="web", environ={})
    assert (await client.create(ModelRequest("chat", HELLO))).text == "ok"


async def test_connection_refused_names_the_address():
    client = ModelClient(Settings(base_url="http://127.0.0.1:9"), project="web", environ=KEY)
    with pytest.raises(ModelError) as caught:
        await client.create(ModelRequest("completion", HELLO))
    assert caught.value.kind is Kind.CONNECTION
    assert caught.value.message.startswith("Cannot reach the API at http://127.0.0.1:9")


async def test_a_timeout_says_how_long_it_waited(fake):
    fake.enqueue(Reply(content=[Text("slow")], token_delay=3))
    client = client_for(fake, timeouts={"completion": 0.5, "chat": 600.0, "agent": 600.0})
    with pytest.raises(ModelError) as caught:
        await client.create(ModelRequest("completion", HELLO))
    assert caught.value.kind in (Kind.TIMEOUT, Kind.STREAM)
    assert "0.5 s" in caught.value.message or "midway" in caught.value.message


async def test_the_api_key_is_never_in_an_error_message(fake):
    fake.enqueue(StatusError(401, "authentication_error", message="invalid x-api-key sk-test-0123456789"))
    with pytest.raises(ModelError) as caught:
        await client_for(fake).create(ModelRequest("completion", HELLO))
    assert "sk-test-0123456789" not in caught.value.message


# --- the ledger ---------------------------------------------------------------------------------

async def test_ledger_records_tokens_and_cost_of_a_successful_call(fake, ledger):
    fake.enqueue(Reply(content=[Text("x")], usage={"input_tokens": 1000, "output_tokens": 200,
                                                   "cache_creation_input_tokens": 400, "cache_read_input_tokens": 2000}))
    await client_for(fake, ledger).create(ModelRequest("chat", HELLO, ledger_purpose="action"))
    (row,) = ledger.records(0)
    assert (row.project, row.purpose, row.model, row.outcome, row.error_kind) == ("web", "action", "claude-sonnet-4-6", "ok", None)
    assert (row.input_tokens, row.output_tokens, row.cache_write_tokens, row.cache_read_tokens) == (1000, 200, 400, 2000)
    # sonnet: 3 $/MTok in, 15 out; cache write 1.25x, read 0.1x
    assert row.cost_usd == pytest.approx((1000 * 3 + 200 * 15 + 400 * 3.75 + 2000 * 0.3) / 1e6)
    assert row.first_token_ms is not None and row.total_ms >= row.first_token_ms


async def test_ledger_records_an_error_with_its_kind(fake, ledger):
    fake.enqueue(StatusError(529, "overloaded_error"))
    with pytest.raises(ModelError):
        await client_for(fake, ledger).create(ModelRequest("completion", HELLO))
    (row,) = ledger.records(0)
    assert (row.outcome, row.error_kind, row.output_tokens) == ("error", "overloaded", 0)


async def test_ledger_records_a_cancelled_call(fake, ledger):
    fake.enqueue(Reply(content=[Text("one two three four five")], token_delay=0.5))
    client = client_for(fake, ledger)
    task = asyncio.create_task(client.create(ModelRequest("completion", HELLO)))
    await asyncio.to_thread(fake.wait_for_requests, 1, 5.0)  # on the wire, its answer still streaming
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (row,) = ledger.records(0)
    assert row.outcome == "cancelled"


async def test_a_stream_retry_leaves_two_rows(fake, ledger):
    fake.enqueue(Reply(content=[Text("a b c d")], error_after=1), Reply(content=[Text("ok")]))
    await client_for(fake, ledger).create(ModelRequest("chat", HELLO))
    assert [(r.outcome, r.error_kind) for r in ledger.records(0)] == [("error", "stream"), ("ok", None)]


# --- quotas ---------------------------------------------------------------------------------------

async def test_an_exceeded_quota_refuses_before_calling_the_api(fake, ledger):
    client = client_for(fake, ledger, quotas={"web": {"maxTokens": 1000}})
    fake.enqueue(Reply(content=[Text("x")], usage={"input_tokens": 1200, "output_tokens": 10}))
    await client.create(ModelRequest("chat", HELLO))
    with pytest.raises(ModelError) as caught:
        await client.create(ModelRequest("chat", HELLO))
    assert caught.value.kind is Kind.QUOTA
    assert 'Project "web"' in caught.value.message
    assert len(fake.requests) == 1


async def test_a_quota_at_80_percent_warns_once(fake, ledger):
    notices = []
    client = ModelClient(Settings(base_url=fake.base_url, quotas={"*": {"maxTokens": 1000}}), project="web",
                         ledger=ledger, environ=KEY, notify=notices.append)
    fake.enqueue(Reply(content=[Text("x")], usage={"input_tokens": 850, "output_tokens": 0}))
    for _ in range(3):
        await client.create(ModelRequest("chat", HELLO))
    assert len(notices) == 1


# --- rate limits ------------------------------------------------------------------------------

def exhausted_headers(seconds: float) -> dict:
    reset = time.strftime(RESET_FORMAT, time.gmtime(time.time() + seconds))
    return {"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset}


RESET_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


async def test_when_requests_are_used_up_completions_are_dropped_without_a_call(fake):
    client = client_for(fake)
    fake.enqueue(Reply(content=[Text("x")], headers=exhausted_headers(30)))
    await client.create(ModelRequest("chat", HELLO))
    with pytest.raises(ModelError) as caught:
        await client.create(ModelRequest("completion", HELLO))
    assert caught.value.kind is Kind.RATE_LIMITED
    assert len(fake.requests) == 1


async def test_when_requests_are_used_up_commands_wait_for_the_reset(fake):
    client = client_for(fake)
    headers = exhausted_headers(2)
    reset = calendar.timegm(time.strptime(headers["anthropic-ratelimit-requests-reset"], RESET_FORMAT))
    fake.enqueue(Reply(content=[Text("x")], headers=headers))
    await client.create(ModelRequest("chat", HELLO))
    await client.create(ModelRequest("chat", HELLO))
    _, second = fake.requests
    wall_minus_monotonic = time.time() - time.monotonic()  # the fake's times are monotonic
    assert second.started + wall_minus_monotonic >= reset - 0.01  # not sent before the reset


async def test_missing_rate_limit_headers_mean_unknown_not_zero(fake):
    client = client_for(fake)
    await client.create(ModelRequest("chat", HELLO))
    await client.create(ModelRequest("completion", HELLO))
    assert len(fake.requests) == 2

"""The fake Anthropic server, exercised through the real `anthropic` SDK (and raw HTTP where the SDK hides things)."""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx2
import pytest

from tests.fakes.anthropic_server import (
    FakeAnthropic,
    Reply,
    StatusError,
    Text,
    ToolUse,
    estimate_input_tokens,
)

MODEL = "claude-test-model"
MESSAGES = [{"role": "user", "content": "Say hello"}]
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_client(fake: FakeAnthropic, **kwargs) -> anthropic.AsyncAnthropic:
    kwargs.setdefault("api_key", "test-key")
    kwargs.setdefault("max_retries", 0)
    return anthropic.AsyncAnthropic(base_url=fake.base_url, **kwargs)


@pytest.fixture
async def client(fake):
    async with make_client(fake) as c:
        yield c


def raw_post(fake: FakeAnthropic, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection(fake.host, fake.port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"content-type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(response.read())
    finally:
        conn.close()


# -- plain replies -------------------------------------------------------------------------------


async def test_non_streaming_text(fake, client):
    fake.enqueue(
        Reply(
            [Text("Hello there, world")],
            headers={"anthropic-ratelimit-requests-remaining": "41"},
            usage={"input_tokens": 42, "cache_read_input_tokens": 7},
        )
    )
    raw = await client.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=MESSAGES)
    message = await raw.parse()  # async in AsyncAnthropic

    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.model == MODEL
    assert [(b.type, b.text) for b in message.content] == [("text", "Hello there, world")]
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert message.usage.input_tokens == 42
    assert message.usage.cache_read_input_tokens == 7
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.output_tokens == 3  # one per word token
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "41"
    assert raw.headers["request-id"].startswith("req_")
    assert raw.headers["content-type"] == "application/json"

    (request,) = fake.requests
    assert request.stream is False and request.path == "/v1/messages"
    assert request.outcome == "completed" and request.status == 200


async def test_default_reply_when_queue_is_empty(fake, client):
    message = await client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    assert [b.text for b in message.content] == ["ok"]
    assert message.usage.input_tokens == estimate_input_tokens({"messages": MESSAGES}) >= 1


async def test_scripted_model_and_stop_reason(fake, client):
    fake.enqueue(Reply([Text("cut")], stop_reason="max_tokens", model="claude-other"))
    message = await client.messages.create(model=MODEL, max_tokens=1, messages=MESSAGES)
    assert message.stop_reason == "max_tokens"
    assert message.model == "claude-other"


async def test_non_streaming_tool_use(fake, client):
    fake.enqueue(Reply([Text("Let me look."), ToolUse("read_file", {"path": "a.py"}, id="toolu_fixed")]))
    message = await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
    assert message.stop_reason == "tool_use"
    tool = message.content[1]
    assert (tool.type, tool.id, tool.name, tool.input) == ("tool_use", "toolu_fixed", "read_file", {"path": "a.py"})


# -- streaming -----------------------------------------------------------------------------------


async def test_streaming_text(fake, client):
    fake.enqueue(Reply([Text("Hello there, streaming world!")], usage={"cache_creation_input_tokens": 5}))
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        chunks = [chunk async for chunk in stream.text_stream]
        final = await stream.get_final_message()

    assert chunks == ["Hello ", "there, ", "streaming ", "world!"]
    assert final.content[0].text == "Hello there, streaming world!"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 4
    assert final.usage.cache_creation_input_tokens == 5
    assert final.model == MODEL

    request = fake.wait_until_finished(0)
    assert request.stream is True
    assert request.outcome == "completed" and not request.disconnected_early


async def test_streaming_tool_use(fake, client):
    tool_input = {"path": "src/app.py", "lines": [1, 2, 3], "options": {"follow": True, "note": "a b c"}}
    fake.enqueue(Reply([Text("Reading the file."), ToolUse("read_file", tool_input)]))
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        final = await stream.get_final_message()

    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "text" and final.content[0].text == "Reading the file."
    tool = final.content[1]
    assert tool.type == "tool_use"
    assert tool.name == "read_file"
    assert tool.id.startswith("toolu_")
    assert tool.input == tool_input


async def test_tool_input_streams_in_several_json_pieces(fake, client):
    tool_input = {"query": "where is the config loaded", "limit": 10}
    fake.enqueue(Reply([ToolUse("search", tool_input, id="toolu_abc")]))
    stream = await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
    events = [event async for event in stream]

    start = next(e for e in events if e.type == "content_block_start")
    assert start.content_block.type == "tool_use"
    assert (start.content_block.id, start.content_block.name, start.content_block.input) == ("toolu_abc", "search", {})
    pieces = [e.delta.partial_json for e in events if e.type == "content_block_delta"]
    assert all(e.delta.type == "input_json_delta" for e in events if e.type == "content_block_delta")
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == tool_input
    message_delta = next(e for e in events if e.type == "message_delta")
    assert message_delta.usage.output_tokens == len(pieces)


async def test_event_order_in_raw_sse(fake, client):
    fake.enqueue(Reply([Text("one two"), ToolUse("noop", {"x": 1})]))
    async with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=64, messages=MESSAGES, stream=True
    ) as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["request-id"].startswith("req_")
        lines = [line async for line in response.iter_lines()]

    events = [line[len("event: ") :] for line in lines if line.startswith("event: ")]
    n_tool_pieces = len([e for e in events if e == "content_block_delta"]) - 2
    assert n_tool_pieces > 1
    assert events == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        *["content_block_delta"] * n_tool_pieces,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    # Each event line is followed by one data line whose JSON `type` matches the event name.
    datas = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
    assert [d["type"] for d in datas] == events
    start = datas[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["output_tokens"] == 1
    assert {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} <= set(start["usage"])
    assert datas[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert datas[-2]["usage"] == {"output_tokens": 2 + n_tool_pieces}


async def test_sdk_event_stream_hides_ping(fake, client):
    fake.enqueue(Reply([Text("one two")]))
    stream = await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
    types = [event.type async for event in stream]
    # The server sends a ping after message_start (see the raw test); the SDK's iterator drops it.
    assert types == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


# -- auth ----------------------------------------------------------------------------------------


def _credential_headers(request) -> dict:
    return {k: v for k, v in request.headers.items() if k in ("authorization", "x-api-key")}


async def test_sdk_sends_bearer_for_api_key_and_auth_token(fake):
    async with make_client(fake, api_key="key-1") as c:
        await c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    async with make_client(fake, api_key=None, auth_token="token-2") as c:
        await c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    first, second = fake.requests
    # SDK 2.x: api_key is sent as `Authorization: Bearer`, not as `x-api-key`.
    assert _credential_headers(first) == {"authorization": "Bearer key-1"}
    assert _credential_headers(second) == {"authorization": "Bearer token-2"}
    assert first.headers["anthropic-version"]


async def test_x_api_key_header_accepted():
    with FakeAnthropic(api_key="secret") as fake:
        # Through the SDK: x-api-key only when given explicitly and Authorization is omitted.
        async with make_client(
            fake, api_key="secret", default_headers={"x-api-key": "secret", "Authorization": anthropic.Omit()}
        ) as c:
            message = await c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
        assert message.content[0].text == "ok"
        assert _credential_headers(fake.requests[0]) == {"x-api-key": "secret"}

        # And raw.
        status, _, _ = raw_post(fake, "/v1/messages", {"model": MODEL, "max_tokens": 8, "messages": MESSAGES},
                                {"x-api-key": "secret"})
        assert status == 200
        status, _, _ = raw_post(fake, "/v1/messages", {"model": MODEL, "max_tokens": 8, "messages": MESSAGES},
                                {"authorization": "Bearer secret"})
        assert status == 200


async def test_wrong_key_is_authentication_error():
    with FakeAnthropic(api_key="right-key") as fake:
        fake.enqueue(Reply([Text("not for you")]))
        async with make_client(fake, api_key="wrong-key", max_retries=2) as c:
            with pytest.raises(anthropic.AuthenticationError) as caught:
                await c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
        err = caught.value
        assert err.status_code == 401
        assert err.type == "authentication_error"
        assert err.request_id and err.request_id.startswith("req_")
        assert err.body["request_id"] == err.request_id
        assert len(fake.requests) == 1  # 401 is not retried
        assert fake.pending == 1  # refused requests do not consume the script


def test_missing_credential_is_401_even_without_a_configured_key(fake):
    status, headers, body = raw_post(fake, "/v1/messages", {"model": MODEL, "max_tokens": 8, "messages": MESSAGES}, {})
    assert status == 401
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert body["request_id"] == headers["request-id"]
    status, _, _ = raw_post(fake, "/v1/messages", {"model": MODEL, "max_tokens": 8, "messages": MESSAGES},
                            {"x-api-key": "anything"})
    assert status == 200


def test_invalid_request_and_unknown_path(fake):
    status, _, body = raw_post(fake, "/v1/messages", {"model": MODEL, "messages": MESSAGES}, {"x-api-key": "k"})
    assert (status, body["error"]["type"]) == (400, "invalid_request_error")
    status, _, body = raw_post(fake, "/v1/nothing", {}, {"x-api-key": "k"})
    assert (status, body["error"]["type"]) == (404, "not_found_error")


# -- HTTP errors and retries ---------------------------------------------------------------------


async def test_429_with_retry_after_is_retried(fake):
    fake.enqueue(
        StatusError(429, "rate_limit_error", headers={"retry-after": "1"}),
        Reply([Text("after the wait")]),
    )
    async with make_client(fake, max_retries=2) as c:
        message = await c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)

    assert message.content[0].text == "after the wait"
    first, second = fake.requests
    assert first.status == 429 and second.status == 200
    assert second.started - first.ended >= 0.9
    assert first.headers["x-stainless-retry-count"] == "0"
    assert second.headers["x-stainless-retry-count"] == "1"
    assert first.body == second.body
    assert fake.pending == 0


async def test_500_with_retry_after_ms_is_retried_quickly(fake):
    fake.enqueue(StatusError(500, "api_error", headers={"retry-after-ms": "20"}), Reply([Text("fine")]))
    async with make_client(fake, max_retries=1) as c:
        message = await c.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    assert message.content[0].text == "fine"
    first, second = fake.requests
    assert 0.015 <= second.started - first.ended < 0.5


async def test_529_without_retries(fake, client):
    fake.enqueue(StatusError(529, "overloaded_error", headers={"x-extra": "yes"}))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    err = caught.value
    assert type(err) is anthropic.OverloadedError
    assert isinstance(err, anthropic.InternalServerError)
    assert err.status_code == 529
    assert err.type == "overloaded_error"
    assert err.api_message == "Overloaded"
    assert err.response.headers["x-extra"] == "yes"
    assert err.request_id == err.body["request_id"]
    assert len(fake.requests) == 1


async def test_rate_limit_error_class(fake, client):
    fake.enqueue(StatusError(429, "rate_limit_error", "slow down"))
    with pytest.raises(anthropic.RateLimitError) as caught:
        await client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    assert caught.value.api_message == "slow down"


# -- failures inside a stream --------------------------------------------------------------------


async def test_error_event_after_some_text(fake, client):
    fake.enqueue(Reply([Text("one two three four five")], error_after=2))
    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
            async for chunk in stream.text_stream:
                received.append(chunk)

    assert received == ["one ", "two "]
    err = caught.value
    # An in-stream error arrives after HTTP 200: the SDK raises the *base* APIStatusError with status 200.
    assert type(err) is anthropic.APIStatusError
    assert err.status_code == 200
    assert err.type == "overloaded_error"
    assert err.body["type"] == "error"
    request = fake.wait_until_finished(0)
    assert request.outcome == "stream_error" and not request.disconnected_early
    assert len(fake.requests) == 1  # no SDK retry for an error inside a stream


async def test_disconnect_mid_stream(fake, client):
    fake.enqueue(Reply([Text("one two three four five")], disconnect_after=3))
    received: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
            async for chunk in stream.text_stream:
                received.append(chunk)
    assert received == ["one ", "two ", "three "]
    request = fake.wait_until_finished(0)
    assert request.outcome == "dropped" and not request.disconnected_early
    assert len(fake.requests) == 1


async def test_disconnect_before_a_non_streaming_reply_is_a_connection_error(fake, client):
    fake.enqueue(Reply([Text("never")], disconnect_after=0))
    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)


# -- the client going away -----------------------------------------------------------------------


async def test_client_leaving_a_slow_stream_is_recorded(fake, client):
    fake.enqueue(Reply([Text(" ".join(["word"] * 40))], token_delay=0.05))
    received = []
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        async for chunk in stream.text_stream:
            received.append(chunk)
            if len(received) == 2:
                break
    request = await asyncio.to_thread(fake.wait_until_finished, 0, 2.0)
    assert request.disconnected_early is True
    assert request.outcome == "client_gone"
    assert request.ended - request.started < 1.0  # noticed during the delays, not after 40 tokens


async def test_cancelled_task_is_recorded_as_disconnect(fake, client):
    fake.enqueue(Reply([Text(" ".join(["word"] * 40))], token_delay=0.05))
    first_text = asyncio.Event()

    async def consume():
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
            async for _ in stream.text_stream:
                first_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_text.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    request = await asyncio.to_thread(fake.wait_until_finished, 0, 2.0)
    assert request.disconnected_early is True
    assert request.ended - request.started < 1.0


# -- count_tokens, concurrency, recording --------------------------------------------------------


async def test_count_tokens(fake, client):
    tools = [{"name": "read_file", "description": "Read a file", "input_schema": {"type": "object"}}]
    result = await client.messages.count_tokens(
        model=MODEL, system="You are terse.", messages=MESSAGES * 10, tools=tools
    )
    assert result.input_tokens > 0
    (request,) = fake.requests
    assert request.path == "/v1/messages/count_tokens"
    assert result.input_tokens == estimate_input_tokens(request.body)
    assert fake.pending == 0


async def test_concurrent_streams_overlap(fake, client):
    for i in range(3):
        fake.enqueue(Reply([Text(f"stream {i} has five tokens")], token_delay=0.05))

    async def run() -> str:
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
            return "".join([chunk async for chunk in stream.text_stream])

    texts = await asyncio.gather(run(), run(), run())
    assert sorted(texts) == [f"stream {i} has five tokens" for i in range(3)]
    requests = [await asyncio.to_thread(fake.wait_until_finished, i) for i in range(3)]
    assert max(r.started for r in requests) < min(r.ended for r in requests)


async def test_request_body_is_recorded_exactly(fake, client):
    tools = [
        {
            "name": "read_file",
            "description": "Read a file",
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        }
    ]
    system = [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
    messages = [
        {"role": "user", "content": "Read a.py"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.py"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "print(1)"}]},
    ]
    await client.messages.create(model=MODEL, max_tokens=321, messages=messages, system=system, tools=tools)
    (request,) = fake.requests
    assert request.body == {"model": MODEL, "max_tokens": 321, "messages": messages, "system": system, "tools": tools}
    assert request.headers["content-type"] == "application/json"


def test_wait_for_requests_times_out(fake):
    with pytest.raises(TimeoutError):
        fake.wait_for_requests(1, timeout=0.05)


def test_command_line_serves_until_stopped():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.anthropic_server", "--port", "0", "--reply", "hi there"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        host, port = base_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request(
            "POST",
            "/v1/messages",
            body=json.dumps({"model": MODEL, "max_tokens": 8, "messages": MESSAGES, "stream": True}),
            headers={"x-api-key": "k", "content-type": "application/json"},
        )
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        assert response.status == 200
        assert '"text":"hi "' in text and '"text":"there"' in text
    finally:
        proc.terminate()
        proc.wait(timeout=5)

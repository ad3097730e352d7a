"""An answer is only an answer when it is complete; a timeout says how long it really waited."""

import re
import time

import pytest

from skillway.model.client import ModelClient, ModelRequest
from skillway.model.errors import Kind, ModelError
from skillway.model.ledger import UsageLedger
from skillway.settings import Settings
from tests.fakes.anthropic_server import RawReply, Reply, Text

KEY = {"ANTHROPIC_API_KEY": "sk-test-0123456789"}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def ledger(tmp_path):
    ledger = UsageLedger(tmp_path / "usage.db")
    yield ledger
    ledger.close()


def client_for(fake, ledger=None, **settings) -> ModelClient:
    return ModelClient(Settings(base_url=fake.base_url, **settings), project="web", ledger=ledger, environ=KEY)


async def failure(client: ModelClient, request: ModelRequest) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await client.create(request)
    return caught.value


async def test_a_stream_that_ends_cleanly_before_message_stop_is_incomplete(fake):
    fake.enqueue(*[Reply(content=[Text("def add(a, b):\n    return a + b")], end_cleanly_after=3)] * 2)
    error = await failure(client_for(fake), ModelRequest("chat", HELLO))
    assert (error.kind, error.message) == (Kind.INCOMPLETE, "The answer was cut off (the stream ended before the API "
                                                            "said the answer was complete); nothing was applied.")


async def test_a_command_tries_a_cut_off_stream_once_more(fake):
    fake.enqueue(Reply(content=[Text("half")], end_cleanly_after=1), Reply(content=[Text("whole answer")]))
    response = await client_for(fake).create(ModelRequest("chat", HELLO))
    assert (response.text, len(fake.requests)) == ("whole answer", 2)


@pytest.mark.parametrize("body", [b'{"id": "msg_1", "type": "message", "content": [{"type": "te', b"<html>oops</html>"],
                         ids=["truncated-json", "not-json"])
async def test_a_200_whose_body_is_not_a_stream_is_incomplete(fake, body):
    fake.enqueue(RawReply(body), RawReply(body))
    error = await failure(client_for(fake), ModelRequest("chat", HELLO))
    assert error.kind is Kind.INCOMPLETE


async def test_no_text_where_text_is_required_is_incomplete(fake):
    fake.enqueue(Reply(content=[Text("")]), Reply(content=[Text("  ")]))
    error = await failure(client_for(fake), ModelRequest("chat", HELLO, requires_text=True))
    assert (error.kind, error.message) == (Kind.INCOMPLETE, "The answer was cut off (the answer had no text); nothing was applied.")


async def test_the_ledger_row_of_a_cut_off_answer_says_incomplete(fake, ledger):
    fake.enqueue(Reply(content=[Text("half of it")], end_cleanly_after=1))
    await failure(client_for(fake, ledger), ModelRequest("completion", HELLO))
    assert [(r.outcome, r.error_kind) for r in ledger.records(0)] == [("error", "incomplete")]


def slow_headers(seconds: float):
    def answer(request):
        time.sleep(seconds)  # before any byte of the answer: the client's read timeout runs out
        return Reply(content=[Text("late")])
    return answer


async def test_a_timeout_with_retries_states_the_tries_and_the_real_wait(fake, ledger):
    fake.enqueue(*[slow_headers(2.0)] * 3)
    client = client_for(fake, ledger, timeouts={"completion": 10.0, "chat": 0.3, "agent": 600.0},
                        retries={"completion": 0, "chat": 2, "agent": 2})
    error = await failure(client, ModelRequest("chat", HELLO))
    assert error.kind is Kind.TIMEOUT
    assert re.fullmatch(r"The API did not answer: no answer after 3 tries of 0\.3 s \(\d+ s\)\.", error.message), error.message
    assert [(r.outcome, r.error_kind, r.attempts) for r in ledger.records(0)] == [("error", "timeout", 3)]


async def test_a_timeout_without_retries_says_how_long_it_waited(fake):
    fake.enqueue(slow_headers(2.0))
    client = client_for(fake, timeouts={"completion": 0.3, "chat": 600.0, "agent": 600.0})
    error = await failure(client, ModelRequest("completion", HELLO))
    assert (error.kind, error.message) == (Kind.TIMEOUT, "The API did not answer within 0.3 s.")


async def test_a_successful_call_records_one_attempt(fake, ledger):
    await client_for(fake, ledger).create(ModelRequest("chat", HELLO))
    assert [r.attempts for r in ledger.records(0)] == [1]

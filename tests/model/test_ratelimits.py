"""Rate-limit headers, the state kept per account, and the gate in front of every call."""

import asyncio
import calendar

import pytest

from skillway.model.errors import Kind, ModelError
from skillway.model.ratelimits import RateLimitBook, account_key, parse_headers, retry_at

NOW = 1_800_000_000.0
RESET = "2027-01-15T08:00:30Z"
RESET_EPOCH = float(calendar.timegm((2027, 1, 15, 8, 0, 30)))


def test_every_ratelimit_header_is_read():
    headers = {}
    for kind, limit, remaining in (("requests", 50, 49), ("tokens", 90000, 80000),
                                   ("input-tokens", 80000, 70000), ("output-tokens", 16000, 15000)):
        headers |= {f"anthropic-ratelimit-{kind}-limit": str(limit), f"anthropic-ratelimit-{kind}-remaining": str(remaining),
                    f"anthropic-ratelimit-{kind}-reset": RESET}
    state = parse_headers(headers, NOW)
    assert {k: (limit.limit, limit.remaining) for k, limit in state.limits.items()} == {
        "requests": (50, 49), "tokens": (90000, 80000), "input-tokens": (80000, 70000), "output-tokens": (16000, 15000)}
    assert {limit.reset for limit in state.limits.values()} == {RESET_EPOCH}


def test_missing_headers_mean_unknown_never_zero():
    state = parse_headers({"content-type": "application/json"}, NOW)
    assert (state.limits, state.retry_at, state.blocked_until(NOW)) == ({}, None, None)


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "7"}, NOW + 7),
    ({"Retry-After": "1.5"}, NOW + 1.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, NOW + 0.25),
    ({"retry-after": "Fri, 15 Jan 2027 08:00:30 GMT"}, RESET_EPOCH),
    ({}, None),
])
def test_retry_after_forms(headers, expected):
    assert retry_at(headers, NOW) == expected


def test_used_up_requests_block_until_the_reset():
    state = parse_headers({"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": RESET}, NOW)
    assert state.blocked_until(RESET_EPOCH - 10) == RESET_EPOCH
    assert state.blocked_until(RESET_EPOCH + 1) is None


def test_state_is_kept_per_base_url_and_key():
    book = RateLimitBook()
    one, other = account_key("https://api.example", "key-one"), account_key("https://api.example", "key-two")
    book.update(one, {"retry-after": "30"}, now=NOW)
    assert book.blocked_until(one, NOW) == NOW + 30
    assert book.blocked_until(other, NOW) is None
    assert "key-one" not in repr(one)  # only a hash of the key is kept


def test_a_response_without_headers_keeps_what_was_known():
    book = RateLimitBook()
    account = account_key("u", "k")
    book.update(account, {"anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": RESET}, now=NOW)
    book.update(account, {}, now=NOW)
    assert book.states[account].limits["tokens"].remaining == 0


async def test_completions_are_dropped_while_a_command_waits():
    book = RateLimitBook()
    account = account_key("u", "k")
    book.update(account, {"retry-after": "0.5"})
    waiting = asyncio.create_task(book.admit(account, "chat", max_wait=5))
    await asyncio.sleep(0.05)
    with pytest.raises(ModelError) as caught:
        await book.admit(account, "completion", max_wait=5)
    assert caught.value.kind is Kind.RATE_LIMITED
    await waiting
    await book.admit(account, "completion", max_wait=5)  # the limit has cleared and nobody waits


async def test_a_command_that_would_wait_longer_than_its_timeout_is_refused_with_the_time():
    book = RateLimitBook()
    account = account_key("u", "k")
    book.update(account, {"retry-after": "300"})
    with pytest.raises(ModelError) as caught:
        await book.admit(account, "chat", max_wait=10)
    assert caught.value.kind is Kind.RATE_LIMITED
    assert "it clears at" in caught.value.message


def test_warm_up_imports_the_sdk_in_the_background():
    from skillway.model.client import warm_up

    thread = warm_up()
    thread.join(30)
    import sys

    assert "anthropic" in sys.modules and not thread.is_alive()

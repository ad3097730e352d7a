"""Rate-limit awareness: the latest `anthropic-ratelimit-*` state per (base URL, key), and a gate.

When requests or tokens are used up, calls wait for the reset instead of firing into 429s, and
commands go first: completions are dropped while the limit is used up or a command is waiting.
Missing headers (local servers send none) mean "unknown", never zero.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

from skillway.model import errors
from skillway.settings import Purpose

_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")


@dataclass
class Limit:
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # unix time


@dataclass
class RateLimitState:
    limits: dict[str, Limit] = field(default_factory=dict)
    retry_at: float | None = None  # from retry-after on a 429

    def blocked_until(self, now: float) -> float | None:
        """When the limit frees up, if it is used up now; None when calls may go ahead."""
        times = [limit.reset for limit in self.limits.values() if limit.remaining == 0 and limit.reset and limit.reset > now]
        if self.retry_at and self.retry_at > now:
            times.append(self.retry_at)
        return max(times) if times else None


def _number(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def retry_at(headers: Mapping[str, str], now: float) -> float | None:
    """When to try again after a 429, from `retry-after-ms` or `retry-after` (seconds or a date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("retry-after-ms"):
        try:
            return now + float(lowered["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return now + float(value)
    except ValueError:
        try:
            return parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None


def parse_headers(headers: Mapping[str, str], now: float) -> RateLimitState:
    lowered = {k.lower(): v for k, v in headers.items()}
    state = RateLimitState(retry_at=retry_at(lowered, now))
    for kind in _KINDS:
        prefix = f"anthropic-ratelimit-{kind}-"
        limit = Limit(_number(lowered.get(prefix + "limit")), _number(lowered.get(prefix + "remaining")),
                      _time(lowered.get(prefix + "reset")))
        if limit != Limit():
            state.limits[kind] = limit
    return state


def account_key(base_url: str, credential: str) -> tuple[str, str]:
    return base_url, hashlib.sha256(credential.encode()).hexdigest()[:16]


class RateLimitBook:
    def __init__(self) -> None:
        self.states: dict[tuple[str, str], RateLimitState] = {}
        self.waiting_commands = 0

    def update(self, account: tuple[str, str], headers: Mapping[str, str], now: float | None = None) -> None:
        """Keep what the latest response says; headers it does not send stay as they were."""
        fresh = parse_headers(headers, time.time() if now is None else now)
        state = self.states.setdefault(account, RateLimitState())
        state.limits.update(fresh.limits)
        if fresh.retry_at is not None:
            state.retry_at = fresh.retry_at

    def blocked_until(self, account: tuple[str, str], now: float) -> float | None:
        state = self.states.get(account)
        return state.blocked_until(now) if state else None

    async def admit(self, account: tuple[str, str], purpose: Purpose | str, *, max_wait: float) -> None:
        """Return when a call may go. Completions never wait: they are dropped (a ModelError)."""
        now = time.time()
        until = self.blocked_until(account, now)
        if purpose == Purpose.COMPLETION:
            if until is not None:
                raise errors.rate_limited(until, own_gate=True)
            if self.waiting_commands:
                raise errors.ModelError(errors.Kind.RATE_LIMITED, "A command is waiting for the rate limit; "
                                        "completions pause until it has gone.")
            return
        if until is None:
            return
        if until - now > max_wait:
            raise errors.rate_limited(until, own_gate=True)
        self.waiting_commands += 1
        try:
            await asyncio.sleep(until - now)
        finally:
            self.waiting_commands -= 1

"""Quotas: caps on tokens and estimated cost per project (or for all projects) in a rolling window.

The window at time `now` is (now - window_seconds, now]: a row exactly `window_seconds` old is out,
a row at `now` is in. To keep that edge exact, a row is in when `time <= now < time + window`, and
the time it leaves is computed the same way (`time + window`), so `frees_at` is the very instant at
which `quota_states` stops counting it.

Tokens are `UsageRecord.tokens` (input + cache writes + output: uncached work); cost is the sum of
the known cost estimates (rows of unknown price count for tokens only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from skillway.model.ledger import UsageRecord
from skillway.settings import Invalid, QuotaSetting, parse_duration

WINDOW_SECONDS = 5 * 3600
WARNING_FRACTION = 0.8
LEVELS = ("ok", "warning", "exceeded")  # from least to most severe
GLOBAL = "*"



def parse_window(text: str) -> float:
    """Seconds in a duration like "90m", "5h", "24h" or "7d" (also "s" and "w")."""
    try:
        return parse_duration(text)
    except Invalid:
        raise ValueError(f'window {text!r} is not a duration like "90m", "5h", "24h" or "7d"') from None


def in_window(record_time: float, now: float, window_seconds: float) -> bool:
    """Whether a row at `record_time` is in the window (now - window_seconds, now]."""
    return record_time <= now < record_time + window_seconds


@dataclass(frozen=True)
class Quota:
    """A cap for `scope` ("*" = all projects together, else one project's name) per rolling window.

    A cap left as None is not checked; caps and the window must be greater than zero.
    """

    scope: str
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    window_seconds: float = WINDOW_SECONDS

    def __post_init__(self):
        if self.max_tokens is not None and not self.max_tokens > 0:
            raise ValueError(f"max_tokens must be greater than zero, got {self.max_tokens!r}")
        if self.max_cost_usd is not None and not self.max_cost_usd > 0:
            raise ValueError(f"max_cost_usd must be greater than zero, got {self.max_cost_usd!r}")
        if not self.window_seconds > 0:
            raise ValueError(f"window_seconds must be greater than zero, got {self.window_seconds!r}")

    def applies_to(self, project: str) -> bool:
        return self.scope == GLOBAL or self.scope == project


@dataclass
class QuotaState:
    """How much of a quota is used at `now`.

    `fraction` is the larger of tokens/max_tokens and cost/max_cost_usd; `level` is "warning" from
    0.8 and "exceeded" from 1.0. `frees_at` (unix seconds; None when under the cap) is the earliest
    time at which, with no new usage, enough old usage has left the window to be under the cap again.
    """

    quota: Quota
    used_tokens: int
    used_cost_usd: float
    fraction: float
    level: str
    frees_at: float | None
    now: float | None = None  # when the state was computed (for the message: "until tomorrow 09:10")

    @property
    def message(self) -> str:
        """A sentence naming the cap and, when exceeded, until when completions are paused."""
        quota = self.quota
        who = "All projects together" if quota.scope == GLOBAL else f'Project "{quota.scope}"'
        used = []
        if quota.max_tokens is not None:
            used.append(f"{self.used_tokens:,} of {quota.max_tokens:,} tokens")
        if quota.max_cost_usd is not None:
            used.append(f"{format_usd(self.used_cost_usd)} of {format_usd(quota.max_cost_usd)}")
        if not used:
            used.append(f"{self.used_tokens:,} tokens (no cap set)")
        sentence = f"{who} used {' and '.join(used)} in the last {describe_window(quota.window_seconds)}"
        if self.level == "exceeded":
            if self.frees_at is None:
                return sentence + "; completions are paused until older usage leaves the window."
            return sentence + f"; completions are paused until {format_local_time(self.frees_at, self.now)}."
        if quota.max_tokens is None and quota.max_cost_usd is None:
            return sentence + "."
        # Rounded down (79.9% must not read as 80%), past float noise (0.29 * 100 = 28.999...).
        return sentence + f" ({math.floor(round(self.fraction * 100, 6))}% of the cap)."


def format_usd(amount: float) -> str:
    return f"${amount:,.2f}"


def describe_window(seconds: float) -> str:
    """ "5 hours", "hour", "90 minutes", "7 days" (as in "in the last ...")."""
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        count, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0:
        count, unit = seconds // 3600, "hour"
    elif seconds % 60 == 0:
        count, unit = seconds // 60, "minute"
    else:
        return f"{seconds:g} seconds"
    return unit if count == 1 else f"{int(count)} {unit}s"


def format_local_time(moment: float, now: float | None = None) -> str:
    """ "14:32" in local time, rounded up to the minute (never earlier than `moment`); with the date
    ("2025-03-04 09:10") when that is not today's (as of `now`)."""
    shown = time.localtime(math.ceil(moment / 60) * 60)
    if now is not None and time.localtime(now)[:3] != shown[:3]:
        return time.strftime("%Y-%m-%d %H:%M", shown)
    return time.strftime("%H:%M", shown)


def _state(quota: Quota, rows: list[UsageRecord], now: float) -> QuotaState:
    rows = sorted(rows, key=lambda r: r.time)
    tokens = [r.tokens for r in rows]
    costs = [r.cost_usd or 0.0 for r in rows]
    used_tokens = sum(tokens)
    used_cost = math.fsum(costs)
    fractions = [0.0]
    exceeded = warning = False
    if quota.max_tokens is not None:
        fractions.append(used_tokens / quota.max_tokens)
        # integers: exact, no float rounding at 80% and 100%
        exceeded |= used_tokens >= quota.max_tokens
        warning |= used_tokens * 5 >= quota.max_tokens * 4
    if quota.max_cost_usd is not None:
        fraction = used_cost / quota.max_cost_usd
        fractions.append(fraction)
        exceeded |= used_cost >= quota.max_cost_usd
        warning |= fraction >= WARNING_FRACTION
    level = "exceeded" if exceeded else "warning" if warning else "ok"

    frees_at = None
    if exceeded and rows:
        # Usage left after the k oldest rows have gone only shrinks as k grows: find the first k at
        # which it is under every cap; the k-th oldest row leaves at its time + window.
        prefix = [0]
        for count in tokens:
            prefix.append(prefix[-1] + count)

        def under(k: int) -> bool:
            if quota.max_tokens is not None and used_tokens - prefix[k] >= quota.max_tokens:
                return False
            return quota.max_cost_usd is None or math.fsum(costs[k:]) < quota.max_cost_usd

        low, high = 1, len(rows)
        while low < high:
            middle = (low + high) // 2
            if under(middle):
                high = middle
            else:
                low = middle + 1
        frees_at = rows[low - 1].time + quota.window_seconds
    return QuotaState(quota, used_tokens, used_cost, max(fractions), level, frees_at, now)


def quota_states(records: Iterable[UsageRecord], quotas: Iterable[Quota], now: float) -> list[QuotaState]:
    """The state of each quota (in order) at `now`, over the rows in its window that it counts."""
    records = list(records)
    states = []
    for quota in quotas:
        rows = [
            r for r in records
            if (quota.scope == GLOBAL or r.project == quota.scope) and in_window(r.time, now, quota.window_seconds)
        ]
        states.append(_state(quota, rows, now))
    return states


def _severity(state: QuotaState) -> tuple:
    # Exceeded beats warning beats ok; among exceeded ones the one that frees last binds; then the
    # fuller one.
    frees = state.frees_at if state.level == "exceeded" and state.frees_at is not None else -math.inf
    return LEVELS.index(state.level), frees, state.fraction


def check(records: Iterable[UsageRecord], quotas: Iterable[Quota], now: float, project: str) -> QuotaState | None:
    """The most severe state among the quotas that apply to `project` (its own and "*"), or None."""
    applicable = [q for q in quotas if q.applies_to(project)]
    if not applicable:
        return None
    return max(quota_states(records, applicable, now), key=_severity)


def quotas_of(settings: Mapping[str, QuotaSetting]) -> list[Quota]:
    """The quotas of the `quotas` setting (checked by the settings loader), one per scope."""
    return [Quota(scope, entry.max_tokens, entry.max_cost_usd, entry.window_seconds) for scope, entry in settings.items()]


def quotas_from_settings(value) -> tuple[list[Quota], list[str]]:
    """Quotas from a settings value like {"*": {"maxTokens": 2000000}, "web": {"maxCostUsd": 5,
    "window": "5h"}}, with a clear message (naming the key) for each wrong value, which is ignored."""
    if value is None:
        return [], []
    if not isinstance(value, Mapping):
        return [], [f'quotas must be an object mapping a project name (or "*" for all projects) to '
                    f'{{"maxTokens": ..., "maxCostUsd": ..., "window": "5h"}}, got {value!r}; they are ignored']
    quotas: list[Quota] = []
    problems: list[str] = []
    for scope, entry in value.items():
        if not isinstance(scope, str) or not scope.strip():
            problems.append(f'quota key {scope!r} must be a project name or "*"; it is ignored')
            continue
        name = f'quota "{scope}"'
        if not isinstance(entry, Mapping):
            problems.append(f'{name} must be an object like {{"maxTokens": 2000000, "window": "5h"}}, '
                            f"got {entry!r}; it is ignored")
            continue
        max_tokens = max_cost = None
        window = float(WINDOW_SECONDS)
        for key, item in entry.items():
            if key == "maxTokens":
                if (isinstance(item, int) and not isinstance(item, bool) and item > 0) or (
                        isinstance(item, float) and item.is_integer() and item > 0):
                    max_tokens = int(item)
                else:
                    problems.append(f'{name}: "maxTokens" must be a whole number greater than 0, '
                                    f"got {item!r}; it is ignored")
            elif key == "maxCostUsd":
                if isinstance(item, (int, float)) and not isinstance(item, bool) and math.isfinite(item) and item > 0:
                    max_cost = float(item)
                else:
                    problems.append(f'{name}: "maxCostUsd" must be a number of US dollars greater than 0, '
                                    f"got {item!r}; it is ignored")
            elif key == "window":
                try:
                    window = parse_window(item)
                except ValueError:
                    problems.append(f'{name}: "window" must be a duration like "90m", "5h", "24h" or "7d", '
                                    f"got {item!r}; the default of 5h is used")
            else:
                problems.append(f'{name}: unknown key "{key}" is ignored '
                                f'(known: "maxTokens", "maxCostUsd", "window")')
        if max_tokens is None and max_cost is None:
            problems.append(f'{name} has no valid "maxTokens" or "maxCostUsd"; it is ignored')
            continue
        quotas.append(Quota(scope, max_tokens, max_cost, window))
    return quotas, problems

"""Model prices (USD per million tokens) per model family, and the cost estimate of one request.

Prompt caching is priced on the base input price: a cache write (5-minute cache) costs 1.25x input,
a cache read 0.1x input. A model that belongs to no known family (a local llama, a proxy's alias)
has no price unless the user gives one: its cost is unknown (None), never a made-up number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from skillway.settings import ModelPrice

CACHE_WRITE_MULTIPLIER = 1.25  # 5-minute cache write, on the base input price
CACHE_READ_MULTIPLIER = 0.1  # cache hit, on the base input price
PER = 1_000_000  # prices are per million tokens


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float

    @property
    def cache_write(self) -> float:
        return self.input * CACHE_WRITE_MULTIPLIER

    @property
    def cache_read(self) -> float:
        return self.input * CACHE_READ_MULTIPLIER


PRICES: dict[str, Price] = {
    "opus": Price(input=5.00, output=25.00),
    "sonnet": Price(input=3.00, output=15.00),
    "haiku": Price(input=1.00, output=5.00),
}

# The family name as a word of the id: "claude-sonnet-4-5-20250929", "claude-3-5-haiku-latest",
# "us.anthropic.claude-opus-4-1-v1:0", "anthropic/claude-sonnet-4.5"; not "magnum-opusx".
_FAMILY = re.compile(r"(?<![a-z])(opus|sonnet|haiku)(?![a-z])")


def family_of(model: str) -> str | None:
    """The model family ("opus", "sonnet", "haiku") named in a model id, or None for other models."""
    match = _FAMILY.search(model.lower()) if isinstance(model, str) else None
    return match.group(1) if match else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def _apply(base: Price | None, override) -> Price | None:
    """`override` ({"input": x, "output": y}, either key alone, a Price or the `prices` setting's
    ModelPrice) laid over `base`."""
    if isinstance(override, Price):
        return override
    if isinstance(override, ModelPrice):
        return Price(override.input, override.output)
    if not isinstance(override, Mapping):
        return base
    given_input, given_output = _number(override.get("input")), _number(override.get("output"))
    price_input = given_input if given_input is not None else (base.input if base else None)
    price_output = given_output if given_output is not None else (base.output if base else None)
    if price_input is None or price_output is None:
        return base
    return Price(price_input, price_output)


def price_of(model: str, overrides: Mapping | None = None) -> Price | None:
    """The price of `model`: an override for its exact id beats one for its family beats the table."""
    family = family_of(model)
    price = PRICES.get(family) if family else None
    if overrides:
        if family is not None and family in overrides:
            price = _apply(price, overrides[family])
        if model in overrides:
            price = _apply(price, overrides[model])
    return price


def estimate_cost(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    overrides: Mapping | None = None,
) -> float | None:
    """Estimated USD cost of one request, or None when the model's price is unknown.

    `input_tokens` is uncached input (the API's `input_tokens`), `cache_write_tokens` its
    `cache_creation_input_tokens` and `cache_read_tokens` its `cache_read_input_tokens`.
    `overrides` maps a family ("sonnet") or an exact model id to {"input": x, "output": y} in USD
    per million tokens; a key left out keeps the price below it (exact id > family > table).
    """
    price = price_of(model, overrides)
    if price is None:
        return None
    return (
        input_tokens * price.input
        + cache_write_tokens * price.cache_write
        + cache_read_tokens * price.cache_read
        + output_tokens * price.output
    ) / PER


def overrides_from_settings(value) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Parse a settings value like {"sonnet": {"input": 3, "output": 15}, "my-llama": {...}}.

    Returns the overrides for `estimate_cost` and clear problem messages (naming the key) for wrong
    values, which are left out rather than raising.
    """
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [f"prices must be an object mapping a model family or model id to "
                    f'{{"input": ..., "output": ...}}, got {value!r}; it is ignored']
    overrides: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    for key, entry in value.items():
        if not isinstance(key, str) or not key:
            problems.append(f"price key {key!r} must be a model family or model id; it is ignored")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f'price "{key}" must be an object like {{"input": 3, "output": 15}}, '
                            f"got {entry!r}; it is ignored")
            continue
        kept: dict[str, float] = {}
        for name, amount in entry.items():
            if name not in ("input", "output"):
                problems.append(f'price "{key}": unknown key "{name}" is ignored')
            elif _number(amount) is None:
                problems.append(f'price "{key}": "{name}" must be a number of USD per million tokens '
                                f">= 0, got {amount!r}; it is ignored")
            else:
                kept[name] = float(amount)
        if kept:
            overrides[key] = kept
    return overrides, problems

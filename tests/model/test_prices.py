"""Prices per model family, cache multipliers, user overrides, and unknown models costing None."""

import pytest

from skillway.model.prices import PRICES, Price, estimate_cost, family_of, overrides_from_settings

MILLION = 1_000_000


def test_the_table_has_the_three_families_at_their_prices():
    assert PRICES == {
        "opus": Price(input=5.00, output=25.00),
        "sonnet": Price(input=3.00, output=15.00),
        "haiku": Price(input=1.00, output=5.00),
    }


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-sonnet-4-5-20250929", "sonnet"),
        ("claude-opus-4-1", "opus"),
        ("claude-3-5-haiku-20241022", "haiku"),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", "opus"),
        ("anthropic/claude-sonnet-4.5", "sonnet"),
        ("Claude-Haiku-4-5", "haiku"),
        ("llama3.1:8b", None),
        ("qwen2.5-coder", None),
        ("magnum-opusx", None),
        ("", None),
    ],
)
def test_family_of_finds_the_family_word_in_the_model_id(model, family):
    assert family_of(model) == family


@pytest.mark.parametrize(
    ("model", "input_cost", "output_cost"),
    [("claude-opus-4-5", 5.0, 25.0), ("claude-sonnet-4-5", 3.0, 15.0), ("claude-haiku-4-5", 1.0, 5.0)],
)
def test_a_million_input_or_output_tokens_cost_the_table_price(model, input_cost, output_cost):
    assert estimate_cost(model, MILLION, 0, 0, 0) == input_cost
    assert estimate_cost(model, 0, MILLION, 0, 0) == output_cost


def test_cache_write_costs_one_and_a_quarter_times_input():
    assert estimate_cost("claude-sonnet-4-5", 0, 0, MILLION, 0) == 3.75
    assert estimate_cost("claude-opus-4-5", 0, 0, MILLION, 0) == 6.25


def test_cache_read_costs_a_tenth_of_input():
    assert estimate_cost("claude-sonnet-4-5", 0, 0, 0, MILLION) == pytest.approx(0.30, rel=1e-12)
    assert estimate_cost("claude-haiku-4-5", 0, 0, 0, MILLION) == pytest.approx(0.10, rel=1e-12)


def test_all_four_kinds_add_up():
    # 2,000 input x $3 + 500 output x $15 + 4,000 cache writes x $3.75 + 10,000 cache reads x $0.30
    cost = estimate_cost("claude-sonnet-4-5", 2_000, 500, 4_000, 10_000)
    assert cost == pytest.approx((6_000 + 7_500 + 15_000 + 3_000) / MILLION, rel=1e-12)


def test_no_tokens_cost_nothing():
    assert estimate_cost("claude-haiku-4-5", 0, 0, 0, 0) == 0.0


def test_unknown_model_has_unknown_cost():
    assert estimate_cost("llama3.1:8b", 1_000, 1_000, 0, 0) is None


def test_family_override_beats_the_table():
    overrides = {"sonnet": {"input": 2.0, "output": 10.0}}
    assert estimate_cost("claude-sonnet-4-5", MILLION, MILLION, 0, 0, overrides) == 12.0


def test_exact_model_override_beats_the_family_override():
    overrides = {"sonnet": {"input": 2.0, "output": 10.0}, "claude-sonnet-4-5": {"input": 1.0, "output": 4.0}}
    assert estimate_cost("claude-sonnet-4-5", MILLION, MILLION, 0, 0, overrides) == 5.0
    assert estimate_cost("claude-sonnet-4", MILLION, MILLION, 0, 0, overrides) == 12.0
    assert estimate_cost("claude-haiku-4-5", MILLION, MILLION, 0, 0, overrides) == 6.0


def test_override_applies_cache_multipliers_to_its_own_input_price():
    overrides = {"opus": {"input": 4.0, "output": 20.0}}
    assert estimate_cost("claude-opus-4-5", 0, 0, MILLION, 0, overrides) == 5.0


def test_an_override_key_left_out_keeps_the_price_below_it():
    overrides = {"claude-sonnet-4-5": {"output": 12.0}}
    assert estimate_cost("claude-sonnet-4-5", MILLION, MILLION, 0, 0, overrides) == 15.0


def test_unknown_model_with_an_exact_override_has_that_price():
    overrides = {"llama3.1:8b": {"input": 0.5, "output": 1.5}}
    assert estimate_cost("llama3.1:8b", MILLION, MILLION, 0, 0, overrides) == 2.0


def test_unknown_model_with_half_an_override_stays_unknown():
    assert estimate_cost("llama3.1:8b", MILLION, MILLION, 0, 0, {"llama3.1:8b": {"input": 0.5}}) is None


def test_overrides_from_settings_keeps_good_entries():
    overrides, problems = overrides_from_settings({"sonnet": {"input": 2, "output": 10}, "my-llama": {"input": 0}})
    assert (overrides, problems) == ({"sonnet": {"input": 2.0, "output": 10.0}, "my-llama": {"input": 0.0}}, [])


def test_overrides_from_settings_names_the_key_of_wrong_values():
    overrides, problems = overrides_from_settings({"sonnet": {"input": "cheap", "output": 10, "cache": 1}, "opus": 5})
    assert overrides == {"sonnet": {"output": 10.0}}
    assert problems == [
        'price "sonnet": "input" must be a number of USD per million tokens >= 0, got \'cheap\'; it is ignored',
        'price "sonnet": unknown key "cache" is ignored',
        'price "opus" must be an object like {"input": 3, "output": 15}, got 5; it is ignored',
    ]

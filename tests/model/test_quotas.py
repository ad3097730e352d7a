"""Rolling windows and caps: exact edges, levels, when the window frees up, and settings."""


import pytest

from skillway.model.ledger import UsageRecord
from skillway.model.quotas import (
    WINDOW_SECONDS,
    Quota,
    QuotaState,
    check,
    in_window,
    parse_window,
    quota_states,
    quotas_from_settings,
)
from tests.model.conftest import at

NOW = 1_000_000.0


def row(time=NOW, tokens=0, project="web", cost=None):
    return UsageRecord(time=time, project=project, purpose="completion", model="m", input_tokens=tokens,
                       cost_usd=cost)


def state(rows, quota, now=NOW) -> QuotaState:
    [result] = quota_states(rows, [quota], now)
    return result




# -- windows -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [("5h", 18000.0), ("24h", 86400.0), ("7d", 604800.0),
                                               ("90m", 5400.0), ("1.5h", 5400.0), (" 2D ", 172800.0)])
def test_parse_window(text, seconds):
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["5", "h", "5 hours", "-5h", "0h", "", "5x"])
def test_parse_window_rejects_anything_else_clearly(text):
    with pytest.raises(ValueError, match=r'is not a duration like "90m", "5h", "24h" or "7d"|longer than zero'):
        parse_window(text)


def test_the_default_window_is_five_hours():
    assert WINDOW_SECONDS == Quota("*").window_seconds == 18000


def test_a_row_exactly_one_window_old_is_out():
    assert not in_window(NOW - WINDOW_SECONDS, NOW, WINDOW_SECONDS)
    assert state([row(NOW - WINDOW_SECONDS, 50)], Quota("*", max_tokens=100)).used_tokens == 0


def test_a_row_at_now_is_in():
    assert in_window(NOW, NOW, WINDOW_SECONDS)
    assert state([row(NOW, 50)], Quota("*", max_tokens=100)).used_tokens == 50


def test_a_row_just_inside_the_window_start_is_in_and_a_future_row_is_out():
    rows = [row(NOW - WINDOW_SECONDS + 0.001, 1), row(NOW + 0.001, 10)]
    assert state(rows, Quota("*", max_tokens=100)).used_tokens == 1


def test_the_window_is_the_quotas_own():
    rows = [row(NOW - 3600, 10), row(NOW - 600, 1)]
    assert state(rows, Quota("*", max_tokens=100, window_seconds=1800)).used_tokens == 1


# -- levels --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("used", "level"), [(0, "ok"), (799, "ok"), (800, "warning"), (999, "warning"),
                                             (1000, "exceeded"), (1500, "exceeded")])
def test_token_levels_at_80_and_100_percent(used, level):
    assert state([row(tokens=used)], Quota("*", max_tokens=1000)).level == level


def test_fraction_is_used_over_cap():
    assert state([row(tokens=799)], Quota("*", max_tokens=1000)).fraction == 0.799


def test_tokens_counted_are_input_cache_writes_and_output():
    record = UsageRecord(time=NOW, project="web", purpose="chat", model="m", input_tokens=1, output_tokens=20,
                         cache_write_tokens=300, cache_read_tokens=4000)
    assert state([record], Quota("*", max_tokens=1000)).used_tokens == 321


def test_cost_cap_levels():
    quota = Quota("*", max_cost_usd=1.0)
    assert state([row(cost=0.5), row(cost=0.299)], quota).level == "ok"
    assert state([row(cost=0.1)] * 8, quota).level == "warning"
    assert state([row(cost=0.5), row(cost=0.5)], quota).level == "exceeded"


def test_rows_of_unknown_cost_count_no_dollars():
    result = state([row(cost=None, tokens=10), row(cost=0.25)], Quota("*", max_cost_usd=5.0))
    assert (result.used_cost_usd, result.used_tokens, result.fraction) == (0.25, 10, 0.05)


def test_the_larger_fraction_decides():
    result = state([row(tokens=100, cost=4.5)], Quota("*", max_tokens=1000, max_cost_usd=5.0))
    assert (result.fraction, result.level) == (0.9, "warning")


def test_project_quota_ignores_other_projects():
    rows = [row(tokens=600, project="web"), row(tokens=900, project="api")]
    assert state(rows, Quota("web", max_tokens=1000)).used_tokens == 600


def test_global_quota_counts_every_project():
    rows = [row(tokens=600, project="web"), row(tokens=900, project="api")]
    result = state(rows, Quota("*", max_tokens=1000))
    assert (result.used_tokens, result.level) == (1500, "exceeded")


def test_quota_states_keep_the_order_of_the_quotas():
    quotas = [Quota("web", max_tokens=10), Quota("*", max_tokens=10), Quota("api", max_tokens=10)]
    assert [s.quota.scope for s in quota_states([], quotas, NOW)] == ["web", "*", "api"]


def test_caps_must_be_positive():
    with pytest.raises(ValueError, match="max_tokens must be greater than zero"):
        Quota("*", max_tokens=0)


# -- when the window frees up --------------------------------------------------------------------

def test_frees_at_is_none_under_the_cap():
    assert state([row(tokens=999)], Quota("*", max_tokens=1000)).frees_at is None


def test_frees_at_when_the_oldest_row_leaving_is_enough():
    rows = [row(NOW - 2000, 600), row(NOW - 1000, 600)]
    result = state(rows, Quota("*", max_tokens=1000))
    assert result.frees_at == NOW - 2000 + WINDOW_SECONDS


def test_frees_at_when_both_rows_must_leave():
    rows = [row(NOW - 2000, 600), row(NOW - 1000, 600)]
    assert state(rows, Quota("*", max_tokens=500)).frees_at == NOW - 1000 + WINDOW_SECONDS


def test_at_frees_at_the_quota_is_under_the_cap_and_a_moment_before_it_is_not():
    rows = [row(NOW - 2000, 600), row(NOW - 1000, 600)]
    quota = Quota("*", max_tokens=1000)
    frees_at = state(rows, quota).frees_at
    assert state(rows, quota, now=frees_at).level == "ok"
    assert state(rows, quota, now=frees_at - 0.001).level == "exceeded"


def test_frees_at_waits_for_both_caps():
    rows = [row(NOW - 3000, 900, cost=0.1), row(NOW - 2000, 10, cost=4.0), row(NOW - 1000, 10, cost=1.0)]
    result = state(rows, Quota("*", max_tokens=500, max_cost_usd=5.0))
    assert result.frees_at == NOW - 2000 + WINDOW_SECONDS


# -- check ---------------------------------------------------------------------------------------

def test_check_is_none_when_no_quota_applies():
    assert check([row(tokens=10)], [Quota("api", max_tokens=5)], NOW, "web") is None


def test_check_picks_the_most_severe_state_for_the_project():
    rows = [row(tokens=850, project="web"), row(tokens=500, project="api")]
    quotas = [Quota("web", max_tokens=1000), Quota("*", max_tokens=1200), Quota("api", max_tokens=100)]
    result = check(rows, quotas, NOW, "web")
    assert (result.quota.scope, result.level) == ("*", "exceeded")


def test_check_warning_beats_ok_even_with_a_smaller_fraction_elsewhere():
    rows = [row(tokens=850, project="web")]
    result = check(rows, [Quota("*", max_tokens=10_000), Quota("web", max_tokens=1000)], NOW, "web")
    assert (result.quota.scope, result.level) == ("web", "warning")


def test_check_among_exceeded_quotas_the_one_freeing_last_wins():
    rows = [row(NOW - 4000, 600, project="web"), row(NOW - 100, 600, project="web")]
    quotas = [Quota("web", max_tokens=1000), Quota("*", max_tokens=500)]
    result = check(rows, quotas, NOW, "web")
    assert (result.quota.scope, result.frees_at) == ("*", NOW - 100 + WINDOW_SECONDS)


# -- messages ------------------------------------------------------------------------------------

def test_exceeded_message_names_the_cap_and_the_local_time_rounded_up(utc):
    now = at("2025-03-04T12:00:00")
    rows = [row(at("2025-03-04T09:31:20"), 212_000), row(at("2025-03-04T11:00:00"), 200_000)]
    result = state(rows, Quota("web", max_tokens=400_000), now)
    assert result.message == ('Project "web" used 412,000 of 400,000 tokens in the last 5 hours; '
                              "completions are paused until 14:32.")


def test_exceeded_message_gives_the_date_when_the_window_frees_another_day(utc):
    now = at("2025-03-04T23:00:00")
    rows = [row(at("2025-03-04T22:00:00"), 5_000)]
    result = state(rows, Quota("*", max_tokens=1_000, window_seconds=7200), now)
    assert result.message == ("All projects together used 5,000 of 1,000 tokens in the last 2 hours; "
                              "completions are paused until 2025-03-05 00:00.")


def test_warning_message_with_both_caps():
    rows = [row(tokens=850, cost=1.5, project="api")]
    result = state(rows, Quota("api", max_tokens=1000, max_cost_usd=5, window_seconds=5400))
    assert result.message == 'Project "api" used 850 of 1,000 tokens and $1.50 of $5.00 in the last 90 minutes (85% of the cap).'


def test_message_percentages_round_down_without_float_noise():
    result = state([row(tokens=29)], Quota("web", max_tokens=100, window_seconds=3600))
    assert result.message == 'Project "web" used 29 of 100 tokens in the last hour (29% of the cap).'


def test_ok_message_for_a_cost_cap_over_days():
    result = state([row(cost=1.0)], Quota("*", max_cost_usd=10, window_seconds=7 * 86400))
    assert result.message == "All projects together used $1.00 of $10.00 in the last 7 days (10% of the cap)."


# -- settings ------------------------------------------------------------------------------------

def test_quotas_from_settings_reads_good_values():
    quotas, problems = quotas_from_settings(
        {"*": {"maxTokens": 2000000}, "web": {"maxCostUsd": 5, "window": "24h"}, "api": {"maxTokens": 1e6}})
    assert problems == []
    assert quotas == [Quota("*", max_tokens=2_000_000), Quota("web", max_cost_usd=5.0, window_seconds=86400.0),
                      Quota("api", max_tokens=1_000_000)]


def test_quotas_from_settings_nothing_set():
    assert quotas_from_settings(None) == ([], [])


def test_quotas_from_settings_not_an_object():
    quotas, problems = quotas_from_settings([1, 2])
    assert quotas == []
    assert problems == ['quotas must be an object mapping a project name (or "*" for all projects) to '
                        '{"maxTokens": ..., "maxCostUsd": ..., "window": "5h"}, got [1, 2]; they are ignored']


def test_quotas_from_settings_names_the_key_of_each_wrong_value():
    quotas, problems = quotas_from_settings({
        "web": {"maxTokens": -5, "maxCostUsd": 2, "window": "5 hours", "maxTokenz": 3},
        "api": {"maxTokens": True},
        "docs": "lots",
    })
    assert quotas == [Quota("web", max_cost_usd=2.0)]
    assert problems == [
        'quota "web": "maxTokens" must be a whole number greater than 0, got -5; it is ignored',
        'quota "web": "window" must be a duration like "90m", "5h", "24h" or "7d", got \'5 hours\'; '
        "the default of 5h is used",
        'quota "web": unknown key "maxTokenz" is ignored (known: "maxTokens", "maxCostUsd", "window")',
        'quota "api": "maxTokens" must be a whole number greater than 0, got True; it is ignored',
        'quota "api" has no valid "maxTokens" or "maxCostUsd"; it is ignored',
        'quota "docs" must be an object like {"maxTokens": 2000000, "window": "5h"}, got \'lots\'; it is ignored',
    ]


def test_quotas_from_settings_rejects_a_zero_cost_cap():
    quotas, problems = quotas_from_settings({"web": {"maxCostUsd": 0}})
    assert quotas == []
    assert problems[0] == 'quota "web": "maxCostUsd" must be a number of US dollars greater than 0, got 0; it is ignored'

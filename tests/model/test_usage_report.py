"""What `skillway usage` prints: JSON-able data, an exact text table, a self-contained HTML page."""

import json
import re

import pytest

from skillway.model.ledger import UsageRecord
from skillway.model.quotas import WINDOW_SECONDS, Quota, quota_states
from skillway.model.usage_report import report_data, report_html, report_text
from tests.model.conftest import at

pytestmark = pytest.mark.usefixtures("utc")




NOW = at("2025-03-04T12:00:00")
RECORDS = [
    UsageRecord(at("2025-03-04T06:59:00"), "web", "completion", "claude-haiku-4-5", input_tokens=99_999,
                cost_usd=9.0),  # before the window
    UsageRecord(at("2025-03-04T07:00:00"), "web", "completion", "claude-haiku-4-5", input_tokens=99_999,
                cost_usd=9.0),  # exactly 5 hours old: out
    UsageRecord(at("2025-03-04T10:00:00"), "api", "completion", "llama3", input_tokens=1_234_567, output_tokens=10,
                total_ms=100.0),
    UsageRecord(at("2025-03-04T11:00:00"), "web", "completion", "claude-haiku-4-5", input_tokens=1_000,
                output_tokens=200, cache_read_tokens=3_000, cost_usd=0.0022, first_token_ms=100.0, total_ms=400.0),
    UsageRecord(at("2025-03-04T11:30:00"), "web", "chat", "claude-sonnet-4-5", input_tokens=500, output_tokens=1_000,
                cache_write_tokens=2_000, cost_usd=0.0255, first_token_ms=300.0, total_ms=2000.0),
]
QUOTAS = [Quota("*", max_tokens=2_000_000), Quota("web", max_tokens=4_000)]


def data(by="project", records=RECORDS, quotas=QUOTAS):
    return report_data(records, quota_states(records, quotas, NOW), WINDOW_SECONDS, by, NOW)


def test_report_text_is_an_aligned_table_with_totals_and_quotas():
    assert report_text(data()) == (
        "Usage in the last 5 hours, by project\n"
        "\n"
        "KEY    REQUESTS      INPUT  OUTPUT  CACHE W  CACHE R  HIT %  COST $  P50 ms  P95 ms\n"
        "api           1  1,234,567      10        0        0    0.0       -     100     100\n"
        "web           2      1,500   1,200    2,000    3,000   46.2  0.0277   1,200   1,920\n"
        "TOTAL         3  1,236,067   1,210    2,000    3,000    0.2  0.0277     400   1,840\n"
        "\n"
        "OK        All projects together used 1,239,277 of 2,000,000 tokens in the last 5 hours (61% of the cap).\n"
        'EXCEEDED  Project "web" used 4,700 of 4,000 tokens in the last 5 hours; completions are paused until 16:00.\n'
    )


def test_report_text_without_grouping_shows_the_total_only():
    assert report_text(data(by=None, quotas=[])) == (
        "Usage in the last 5 hours\n"
        "\n"
        "KEY    REQUESTS      INPUT  OUTPUT  CACHE W  CACHE R  HIT %  COST $  P50 ms  P95 ms\n"
        "TOTAL         3  1,236,067   1,210    2,000    3,000    0.2  0.0277     400   1,840\n"
        "\n"
        "No quotas are set.\n"
    )


def test_report_text_of_an_empty_window_shows_unknowns_as_dashes():
    text = report_text(data(records=[], quotas=[]))
    assert text.splitlines()[3] == "TOTAL         0      0       0        0        0      -       -       -       -"


def test_report_data_is_json_with_window_rows_totals_and_quotas():
    result = json.loads(json.dumps(data(by="purpose")))
    assert result["window"] == {"seconds": 18000, "label": "5 hours", "start": "2025-03-04T07:00:00+00:00",
                                "end": "2025-03-04T12:00:00+00:00"}
    assert result["by"] == "purpose"
    assert [(r["key"], r["requests"]) for r in result["rows"]] == [("chat", 1), ("completion", 2)]
    assert (result["totals"]["key"], result["totals"]["requests"], result["totals"]["input_tokens"]) == (
        "total", 3, 1_236_067)


def test_report_data_rows_have_every_summary_field():
    assert list(data()["rows"][0]) == [
        "key", "requests", "input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "cost_usd",
        "cache_hit_ratio", "latency_p50_ms", "latency_p95_ms", "first_token_p50_ms", "errors", "cancelled"]


def test_report_data_quotas():
    assert data()["quotas"] == [
        {"scope": "*", "used_tokens": 1_239_277, "used_cost_usd": 0.0277, "max_tokens": 2_000_000,
         "max_cost_usd": None, "window_seconds": 18000, "fraction": 0.6196385, "level": "ok", "frees_at": None,
         "message": "All projects together used 1,239,277 of 2,000,000 tokens in the last 5 hours (61% of the cap)."},
        {"scope": "web", "used_tokens": 4_700, "used_cost_usd": 0.0277, "max_tokens": 4_000, "max_cost_usd": None,
         "window_seconds": 18000, "fraction": 1.175, "level": "exceeded", "frees_at": "2025-03-04T16:00:00+00:00",
         "message": 'Project "web" used 4,700 of 4,000 tokens in the last 5 hours; '
                    "completions are paused until 16:00."},
    ]


# -- HTML ----------------------------------------------------------------------------------------

def page(records=RECORDS, quotas=QUOTAS, **kw):
    return report_html(records, quota_states(records, quotas, NOW), WINDOW_SECONDS, NOW, **kw)


def test_html_has_an_inline_svg_chart():
    assert "<svg" in page() and "</svg>" in page()


def test_html_has_one_legend_entry_per_project():
    assert page().count('class="legend-item"') == 2


def test_html_has_one_line_per_project():
    assert page().count('class="series"') == 2


def test_html_escapes_a_project_named_script():
    records = [UsageRecord(NOW - 60, "<script>", "completion", "m", input_tokens=5),
               UsageRecord(NOW - 30, 'a"b&c', "completion", "m", input_tokens=5)]
    html = page(records, [Quota("<script>", max_tokens=10)], title="<b>usage</b>")
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "a&quot;b&amp;c" in html and "&lt;b&gt;usage&lt;/b&gt;" in html


def test_html_refers_to_nothing_outside_except_the_svg_namespace():
    html = page()
    assert re.findall(r"https?://[^\s\"'<>]*", html) == ["http://www.w3.org/2000/svg"]
    assert not re.search(r"<link|<script|<img|src=|url\(|@import", html)


def test_html_is_the_same_for_the_same_input():
    assert page() == page()


def test_html_has_the_summary_table_and_the_quota_messages():
    html = page()
    assert "<td>1,234,567</td>" in html and "<td>TOTAL</td>" in html
    assert '<li class="exceeded">Project &quot;web&quot; used 4,700 of 4,000 tokens' in html


def test_html_has_hour_ticks_across_the_window():
    assert re.findall(r'text-anchor="middle">(\d\d:\d\d)<', page()) == ["07:00", "08:00", "09:00", "10:00",
                                                                        "11:00", "12:00"]


def test_html_of_an_empty_window_says_so():
    html = page(records=[], quotas=[])
    assert "No usage in this window." in html and 'class="legend-item"' not in html

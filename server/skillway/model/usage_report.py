"""What `skillway usage` shows: the data (JSON-able), a plain text table, and a self-contained HTML page.

Only rows in the window (now - window_seconds, now] are reported. Nothing here reads the ledger or
the clock: the caller passes the records, the quota states and `now`, so the output is deterministic.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime

from skillway.model.ledger import UsageRecord, summarise
from skillway.model.quotas import QuotaState, describe_window, in_window, quota_states, quotas_of

COLUMNS = ("KEY", "REQUESTS", "INPUT", "OUTPUT", "CACHE W", "CACHE R", "HIT %", "COST $", "P50 ms", "P95 ms")


def iso(moment: float | None) -> str | None:
    """UTC ISO 8601 ("2025-03-04T14:32:00+00:00"), or None."""
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def _in_window(records: Iterable[UsageRecord], window_seconds: float, now: float) -> list[UsageRecord]:
    return [r for r in records if in_window(r.time, now, window_seconds)]


def report_data(
    records: Iterable[UsageRecord],
    quota_states: Iterable[QuotaState],
    window_seconds: float,
    by: str | None,
    now: float,
) -> dict:
    """The report as plain JSON-able data (what `skillway usage --json` prints).

    `rows` are the Summary fields per project/purpose/model (one "all" row when `by` is None),
    `totals` the same fields over every row (key "total"); times are UTC ISO 8601.
    """
    rows = _in_window(records, window_seconds, now)
    totals = asdict(summarise(rows, None)[0])
    totals["key"] = "total"
    quotas = []
    for state in quota_states:
        quotas.append({
            "scope": state.quota.scope,
            "used_tokens": state.used_tokens,
            "used_cost_usd": state.used_cost_usd,
            "max_tokens": state.quota.max_tokens,
            "max_cost_usd": state.quota.max_cost_usd,
            "window_seconds": state.quota.window_seconds,
            "fraction": state.fraction,
            "level": state.level,
            "frees_at": iso(state.frees_at),
            "message": state.message,
        })
    return {
        "window": {
            "seconds": window_seconds,
            "label": describe_window(window_seconds),
            "start": iso(now - window_seconds),
            "end": iso(now),
        },
        "by": by,
        "rows": [asdict(summary) for summary in summarise(rows, by)],
        "totals": totals,
        "quotas": quotas,
    }


# -- text ----------------------------------------------------------------------------------------

def _count(value) -> str:
    return "-" if value is None else f"{value:,}"


def _ratio(value) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def _cost(value) -> str:
    return "-" if value is None else f"{value:,.4f}"


def _ms(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _cells(row: dict, key: str) -> list[str]:
    return [
        key,
        _count(row["requests"]),
        _count(row["input_tokens"]),
        _count(row["output_tokens"]),
        _count(row["cache_write_tokens"]),
        _count(row["cache_read_tokens"]),
        _ratio(row["cache_hit_ratio"]),
        _cost(row["cost_usd"]),
        _ms(row["latency_p50_ms"]),
        _ms(row["latency_p95_ms"]),
    ]


def report_text(data: dict) -> str:
    """A heading, an aligned table (a row per key, then TOTAL), then one line per quota.

    When `data["by"]` is None the table has the TOTAL line only (the one "all" row is the same).
    Unknown values are "-"; counts have thousands separators.
    """
    window = data["window"]
    heading = f"Usage in the last {window['label']}" + (f", by {data['by']}" if data["by"] else "")
    table = [list(COLUMNS)]
    if data["by"]:
        table += [_cells(row, str(row["key"])) for row in data["rows"]]
    table.append(_cells(data["totals"], "TOTAL"))
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [heading, ""]
    for line in table:
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    if data["quotas"]:
        for quota in data["quotas"]:
            lines.append(f"{quota['level'].upper():<8}  {quota['message']}")
    else:
        lines.append("No quotas are set.")
    return "\n".join(lines) + "\n"


# -- HTML ----------------------------------------------------------------------------------------

_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac")
_DASHES = ("", "6 3", "2 3")  # after every 10 projects, the colours come back dashed
_TICK_STEPS = (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400,
               14 * 86400, 30 * 86400)

_CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --grid: #d0d7de; --bg: #ffffff; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #8d96a0; --grid: #30363d; --bg: #0d1117; }
}
body { font-family: system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
p.window { color: var(--muted); margin: 0 0 1.5rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-bottom: 1.5rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--grid); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tfoot td { font-weight: 600; }
ul.quotas { list-style: none; padding: 0; }
ul.quotas li { margin: .3rem 0; padding-left: .6rem; border-left: 4px solid #59a14f; }
ul.quotas li.warning { border-color: #edc948; }
ul.quotas li.exceeded { border-color: #e15759; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg .axis { stroke: var(--muted); }
svg .grid { stroke: var(--grid); }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate, deterministic and short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nice_ceiling(value: float) -> tuple[float, float]:
    """(top, step): a round top of the y axis >= value, with about 4 steps of 1, 2 or 5 x 10^n."""
    if value <= 0:
        return 1.0, 1.0
    rough = value / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return math.ceil(value / step) * step, step


def _time_ticks(start: float, end: float) -> tuple[list[float], str]:
    """Tick times on whole local hours (or minutes/days) in [start, end], at most about 8."""
    span = end - start
    step = next((s for s in _TICK_STEPS if span / s <= 8), _TICK_STEPS[-1])
    offset = time.localtime(start).tm_gmtoff
    first = math.ceil((start + offset) / step) * step - offset
    ticks: list[float] = []
    moment = first
    while moment <= end:
        ticks.append(moment)
        moment += step
    return ticks, ("%H:%M" if step < 86400 else "%Y-%m-%d")


def _chart(records: list[UsageRecord], window_seconds: float, now: float) -> str:
    start = now - window_seconds
    projects = sorted({r.project for r in records})
    width, height = 720, 300
    left, right, top, bottom = 80, 20, 20, 40
    legend_x, legend_width = width, 220
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = {p: sum(r.tokens for r in records if r.project == p) for p in projects}
    y_top, y_step = _nice_ceiling(max(totals.values(), default=0))

    def x(moment: float) -> float:
        return left + (moment - start) / window_seconds * plot_w

    def y(tokens: float) -> float:
        return top + plot_h - tokens / y_top * plot_h

    legend_h = top + 22 * len(projects) + 10
    total_h = max(height, legend_h)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width + legend_width}" '
        f'height="{total_h}" viewBox="0 0 {width + legend_width} {total_h}" aria-labelledby="chart-title">',
        f'<title id="chart-title">Tokens used per project in the last {_e(describe_window(window_seconds))} '
        f'(cumulative, input + cache writes + output)</title>',
    ]
    # y grid and labels
    tick = 0.0
    while tick <= y_top + y_step / 2:
        out.append(f'<line class="grid" x1="{left}" y1="{_n(y(tick))}" x2="{left + plot_w}" y2="{_n(y(tick))}"/>')
        out.append(f'<text x="{left - 8}" y="{_n(y(tick) + 4)}" text-anchor="end">{int(tick):,}</text>')
        tick += y_step
    # x ticks
    ticks, pattern = _time_ticks(start, now)
    for moment in ticks:
        out.append(f'<line class="axis" x1="{_n(x(moment))}" y1="{top + plot_h}" x2="{_n(x(moment))}" '
                   f'y2="{top + plot_h + 5}"/>')
        out.append(f'<text x="{_n(x(moment))}" y="{top + plot_h + 20}" text-anchor="middle">'
                   f'{_e(time.strftime(pattern, time.localtime(moment)))}</text>')
    out.append(f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>')
    out.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>')
    if not projects:
        out.append(f'<text x="{_n(left + plot_w / 2)}" y="{_n(top + plot_h / 2)}" text-anchor="middle">'
                   f'No usage in this window.</text>')
    # one cumulative step line per project, and its legend entry
    for index, project in enumerate(projects):
        colour = _PALETTE[index % len(_PALETTE)]
        dash = _DASHES[(index // len(_PALETTE)) % len(_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        rows = sorted((r for r in records if r.project == project), key=lambda r: r.time)
        used = 0
        path = [f"M{_n(x(start))} {_n(y(0))}"]
        for row in rows:
            used += row.tokens
            path.append(f"H{_n(x(row.time))} V{_n(y(used))}")
        path.append(f"H{_n(x(now))}")
        out.append(f'<path class="series" d="{" ".join(path)}" fill="none" stroke="{colour}" '
                   f'stroke-width="2"{dash_attr}><title>{_e(project)}: {used:,} tokens</title></path>')
        entry_y = top + 22 * index
        label = project if len(project) <= 24 else project[:23] + "\u2026"
        out.append(
            f'<g class="legend-item"><line x1="{legend_x}" y1="{entry_y + 8}" x2="{legend_x + 18}" '
            f'y2="{entry_y + 8}" stroke="{colour}" stroke-width="3"{dash_attr}/>'
            f'<text x="{legend_x + 24}" y="{entry_y + 12}">{_e(label)} ({totals[project]:,})'
            f'<title>{_e(project)}</title></text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _local(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))


def report_html(
    records: Iterable[UsageRecord],
    quota_states: Iterable[QuotaState],
    window_seconds: float,
    now: float,
    title: str = "skillway usage",
) -> str:
    """A self-contained HTML page (no external CSS, scripts, fonts or images): the summary per
    project, the quotas, and an inline SVG chart of cumulative tokens per project over the window."""
    records = _in_window(records, window_seconds, now)
    data = report_data(records, quota_states, window_seconds, "project", now)
    head = "".join(f"<th>{_e(column)}</th>" for column in ["PROJECT", *COLUMNS[1:]])
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in _cells(row, str(row["key"]))) + "</tr>"
        for row in data["rows"]
    )
    foot = "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in _cells(data["totals"], "TOTAL")) + "</tr>"
    if data["quotas"]:
        quotas = "\n".join(f'<li class="{_e(q["level"])}">{_e(q["message"])}</li>' for q in data["quotas"])
    else:
        quotas = "<li>No quotas are set.</li>"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="window">The last {_e(describe_window(window_seconds))}: {_e(_local(now - window_seconds))} '
        f"to {_e(_local(now))} (local time). Tokens are input + cache writes + output.</p>",
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n<tfoot>{foot}</tfoot>\n</table>",
        "<h2>Quotas</h2>",
        f'<ul class="quotas">\n{quotas}\n</ul>',
        "<h2>Tokens over the window</h2>",
        _chart(records, window_seconds, now),
        "</body>",
        "</html>",
        "",
    ])


def usage_report(ledger, settings, window_seconds: float, by: str | None, now: float) -> tuple[dict, list[UsageRecord], list]:
    """Everything `skillway usage` shows: (report data, the window's records, quota states)."""
    quotas = quotas_of(settings.quotas)  # their wrong values are the settings' problems
    longest = max([window_seconds, *(q.window_seconds for q in quotas)])
    records = ledger.records(now - longest)
    states = quota_states(records, quotas, now)
    data = report_data(records, states, window_seconds, by, now)
    data["problems"] = []
    return data, records, states

"""`skillway usage` reads the shared ledger: a table, JSON, or a self-contained HTML page."""

import json
import os
import subprocess
import sys
import time

import pytest

from skillway.model.ledger import UsageLedger, UsageRecord


@pytest.fixture
def run(isolated_user_dirs, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "skillway", "usage", *map(str, args)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)

    return run


@pytest.fixture
def ledger():
    now = time.time()
    with UsageLedger.default() as ledger:
        ledger.record(UsageRecord(now - 60, "web", "completion", "claude-haiku-4-5", 1000, 50, 0, 0, 0.00125, 120, 300))
        ledger.record(UsageRecord(now - 120, "api", "chat", "claude-sonnet-4-6", 2000, 400, 0, 0, 0.012, 400, 2000))
        ledger.record(UsageRecord(now - 6 * 3600, "web", "chat", "claude-sonnet-4-6", 9000, 900, 0, 0, 0.04, 400, 2000))
        yield ledger


def test_json_totals_cover_only_the_window(run, ledger):
    data = json.loads(run("--json", "--by", "project").stdout)
    assert [(row["key"], row["requests"]) for row in data["rows"]] == [("api", 1), ("web", 1)]
    assert data["totals"]["input_tokens"] == 3000


def test_a_longer_window_includes_older_rows(run, ledger):
    data = json.loads(run("--json", "--window", "24h").stdout)
    assert data["totals"]["requests"] == 3


def test_text_table_by_purpose(run, ledger):
    result = run("--by", "purpose")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Usage in the last 5 hours, by purpose"
    assert [line.split()[0] for line in lines[3:5]] == ["chat", "completion"]


def test_quota_states_from_the_settings(run, ledger, isolated_user_dirs):
    (isolated_user_dirs / "config").mkdir(exist_ok=True)
    (isolated_user_dirs / "config" / "settings.json").write_text('{"quotas": {"web": {"maxTokens": 1000}}}')
    quota = json.loads(run("--json").stdout)["quotas"][0]
    assert (quota["scope"], quota["used_tokens"], quota["level"]) == ("web", 1050, "exceeded")


def test_html_page_is_written_and_self_contained(run, ledger, tmp_path):
    result = run("--html", tmp_path / "usage.html")
    page = (tmp_path / "usage.html").read_text()
    assert result.stdout.strip() == f"wrote {tmp_path / 'usage.html'}"
    assert "<svg" in page and "<script src" not in page and "<link" not in page


def test_a_bad_window_is_a_clear_error(run):
    result = run("--window", "soon")
    assert result.returncode == 1
    assert result.stderr.startswith("skillway: --window: ")

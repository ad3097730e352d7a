"""The usage ledger: rows read back as written, WAL mode, concurrent writers lose nothing; summaries."""

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from skillway.model.ledger import SCHEMA_VERSION, LedgerError, Summary, UsageLedger, UsageRecord, percentile, summarise

REPO_ROOT = Path(__file__).resolve().parents[2]


def rec(time=1000.0, project="web", purpose="completion", model="claude-sonnet-4-5", **kw):
    return UsageRecord(time=time, project=project, purpose=purpose, model=model, **kw)


@pytest.fixture
def ledger(tmp_path):
    ledger = UsageLedger(tmp_path / "data" / "usage.db")
    yield ledger
    ledger.close()


def test_a_record_reads_back_equal_with_every_field(ledger):
    full = rec(time=1234.5, input_tokens=10, output_tokens=20, cache_write_tokens=30, cache_read_tokens=40,
               cost_usd=0.0123, first_token_ms=150.5, total_ms=900.25, outcome="error", error_kind="overloaded",
               row_id="r-1", user="ada", machine="laptop", team="web-team")
    ledger.record(full)
    assert ledger.records(0) == [full]


def test_unknown_values_read_back_as_none(ledger):
    ledger.record(rec(model="llama3.1:8b"))
    [back] = ledger.records(0)
    assert (back.cost_usd, back.first_token_ms, back.total_ms, back.error_kind) == (None, None, None, None)


def test_the_folder_of_the_database_is_created(ledger):
    ledger.record(rec())
    assert ledger.path.is_file()


def test_records_are_ordered_by_time_whatever_the_order_written(ledger):
    for moment in (30.0, 10.0, 20.0):
        ledger.record(rec(time=moment))
    assert [r.time for r in ledger.records(0)] == [10.0, 20.0, 30.0]


def test_records_since_and_until_are_inclusive(ledger):
    for moment in (10.0, 20.0, 30.0, 40.0):
        ledger.record(rec(time=moment))
    assert [r.time for r in ledger.records(20.0, 30.0)] == [20.0, 30.0]
    assert [r.time for r in ledger.records(20.5)] == [30.0, 40.0]


def test_records_of_one_project(ledger):
    ledger.record(rec(time=1.0, project="web"))
    ledger.record(rec(time=2.0, project="api"))
    ledger.record(rec(time=3.0, project="web"))
    assert [(r.time, r.project) for r in ledger.records(0, project="web")] == [(1.0, "web"), (3.0, "web")]


def test_the_database_is_in_wal_mode_with_a_schema_version(ledger):
    ledger.record(rec())
    with sqlite3.connect(ledger.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert [v for (v,) in conn.execute("SELECT version FROM schema_version")] == [3]


def test_default_ledger_lives_in_the_data_folder(isolated_user_dirs):
    assert UsageLedger.default().path == isolated_user_dirs / "data" / "usage.db"


def test_a_second_ledger_on_the_same_file_sees_the_rows(ledger):
    ledger.record(rec(time=5.0))
    other = UsageLedger(ledger.path)
    try:
        assert [r.time for r in other.records(0)] == [5.0]
    finally:
        other.close()


def test_closing_then_recording_opens_again(ledger):
    ledger.record(rec(time=1.0))
    ledger.close()
    ledger.record(rec(time=2.0))
    assert len(ledger.records(0)) == 2


def test_prune_deletes_rows_older_than_the_given_time(ledger):
    for moment in (10.0, 20.0, 30.0):
        ledger.record(rec(time=moment))
    assert ledger.prune(20.0) == 1
    assert [r.time for r in ledger.records(0)] == [20.0, 30.0]


def test_threads_sharing_one_ledger_lose_no_row(ledger):
    def write(name):
        for i in range(100):
            ledger.record(rec(time=float(i), project=name))

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = ledger.records(0)
    assert len(rows) == 400
    assert {p: sum(1 for r in rows if r.project == p) for p in ("t0", "t1", "t2", "t3")} == dict.fromkeys(
        ("t0", "t1", "t2", "t3"), 100)


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from skillway.model.ledger import UsageLedger, UsageRecord
    path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    while not go.exists():  # both writers start together, including creating the database
        time.sleep(0.001)
    ledger = UsageLedger(path)
    for i in range(300):
        ledger.record(UsageRecord(time=time.time(), project=name, purpose="completion", model="m",
                                  input_tokens=i, output_tokens=1))
    ledger.close()
""")


def test_two_processes_writing_at_once_lose_no_row(tmp_path):
    path, go = tmp_path / "shared" / "usage.db", tmp_path / "go"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(go)], cwd=REPO_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    ledger = UsageLedger(path)
    try:
        rows = ledger.records(0)
    finally:
        ledger.close()
    assert len(rows) == 600
    assert sum(1 for r in rows if r.project == "a") == 300
    assert sum(1 for r in rows if r.project == "b") == 300
    assert sorted(r.input_tokens for r in rows if r.project == "a") == list(range(300))


def test_tokens_are_input_plus_cache_writes_plus_output_not_cache_reads():
    assert rec(input_tokens=1, output_tokens=20, cache_write_tokens=300, cache_read_tokens=4000).tokens == 321


# -- summaries -----------------------------------------------------------------------------------

ROWS = [
    rec(time=1.0, project="web", purpose="completion", model="claude-haiku-4-5", input_tokens=100,
        output_tokens=10, cache_write_tokens=0, cache_read_tokens=300, cost_usd=0.01, first_token_ms=100.0,
        total_ms=200.0),
    rec(time=2.0, project="web", purpose="chat", model="claude-sonnet-4-5", input_tokens=50, output_tokens=500,
        cache_write_tokens=1000, cache_read_tokens=0, cost_usd=0.02, first_token_ms=300.0, total_ms=400.0),
    rec(time=3.0, project="api", purpose="completion", model="llama3", input_tokens=10, output_tokens=5,
        total_ms=1000.0, outcome="cancelled"),
    rec(time=4.0, project="api", purpose="completion", model="llama3", input_tokens=20, output_tokens=0,
        outcome="error", error_kind="connection"),
]


def test_summary_by_project_has_exact_sums_and_counts():
    api, web = summarise(ROWS, "project")
    assert api == Summary(key="api", requests=2, input_tokens=30, output_tokens=5, cache_write_tokens=0,
                          cache_read_tokens=0, cost_usd=None, cache_hit_ratio=0.0, latency_p50_ms=None,
                          latency_p95_ms=None, first_token_p50_ms=None, errors=1, cancelled=1)
    assert web == Summary(key="web", requests=2, input_tokens=150, output_tokens=510, cache_write_tokens=1000,
                          cache_read_tokens=300, cost_usd=0.03, cache_hit_ratio=300 / 1450, latency_p50_ms=300.0,
                          latency_p95_ms=390.0, first_token_p50_ms=200.0, errors=0, cancelled=0)


def test_summary_by_purpose_groups_and_sorts_by_key():
    assert [(s.key, s.requests, s.input_tokens) for s in summarise(ROWS, "purpose")] == [
        ("chat", 1, 50), ("completion", 3, 130)]


def test_summary_by_model():
    assert [(s.key, s.requests, s.output_tokens) for s in summarise(ROWS, "model")] == [
        ("claude-haiku-4-5", 1, 10), ("claude-sonnet-4-5", 1, 500), ("llama3", 2, 5)]


def test_summary_of_everything_is_one_all_row():
    [total] = summarise(ROWS, None)
    assert (total.key, total.requests, total.errors, total.cancelled) == ("all", 4, 1, 1)
    assert total.cost_usd == 0.03  # the known costs; the llama rows' are unknown


def test_summary_of_nothing_is_one_empty_all_row():
    assert summarise([], None) == [Summary("all", 0, 0, 0, 0, 0, None, None, None, None, None, 0, 0)]


def test_cache_hit_ratio_is_reads_over_reads_writes_and_input():
    [total] = summarise([rec(input_tokens=100, cache_write_tokens=200, cache_read_tokens=700)])
    assert total.cache_hit_ratio == 0.7


def test_cache_hit_ratio_is_none_without_any_input():
    [total] = summarise([rec(output_tokens=5)])
    assert total.cache_hit_ratio is None


def test_latency_percentiles_are_over_ok_rows_only():
    rows = [rec(total_ms=float(ms), first_token_ms=float(ms) / 10) for ms in range(10, 110, 10)]
    rows.append(rec(total_ms=99999.0, outcome="error"))
    [total] = summarise(rows)
    assert (total.latency_p50_ms, total.latency_p95_ms, total.first_token_p50_ms) == (55.0, 95.5, 5.5)


def test_percentile_interpolates_between_closest_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_summarise_by_an_unknown_field_says_which_are_known():
    with pytest.raises(ValueError, match='cannot group usage by "day": use one of project, purpose, model'):
        summarise(ROWS, "day")


def test_a_file_that_is_not_a_database_gives_a_ledger_error(tmp_path):
    path = tmp_path / "usage.db"
    path.write_text("not a database " * 100)
    ledger = UsageLedger(path)
    with pytest.raises(LedgerError, match="usage ledger"):
        ledger.record(rec())


def test_a_version_1_ledger_gains_the_attempts_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE usage (id INTEGER PRIMARY KEY, time REAL NOT NULL, project TEXT NOT NULL, "
                     "purpose TEXT NOT NULL, model TEXT NOT NULL, input_tokens INTEGER NOT NULL DEFAULT 0, "
                     "output_tokens INTEGER NOT NULL DEFAULT 0, cache_write_tokens INTEGER NOT NULL DEFAULT 0, "
                     "cache_read_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL, first_token_ms REAL, total_ms REAL, "
                     "outcome TEXT NOT NULL DEFAULT 'ok', error_kind TEXT)")
        conn.execute("INSERT INTO usage (time, project, purpose, model) VALUES (5, 'web', 'chat', 'm')")
        conn.execute("PRAGMA user_version = 1")
    ledger = UsageLedger(path)
    ledger.record(rec(time=6.0, attempts=3))
    assert [(r.time, r.attempts) for r in ledger.records(0)] == [(5.0, 1), (6.0, 3)]
    ledger.close()


def test_a_version_2_ledger_of_the_current_release_upgrades_in_place_keeping_every_row(tmp_path):
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as conn:  # the schema of skillway 0.x as released: version 2
        conn.execute("CREATE TABLE usage (id INTEGER PRIMARY KEY, time REAL NOT NULL, project TEXT NOT NULL, "
                     "purpose TEXT NOT NULL, model TEXT NOT NULL, input_tokens INTEGER NOT NULL DEFAULT 0, "
                     "output_tokens INTEGER NOT NULL DEFAULT 0, cache_write_tokens INTEGER NOT NULL DEFAULT 0, "
                     "cache_read_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL, first_token_ms REAL, total_ms REAL, "
                     "outcome TEXT NOT NULL DEFAULT 'ok', error_kind TEXT, attempts INTEGER NOT NULL DEFAULT 1)")
        conn.executemany("INSERT INTO usage (time, project, purpose, model, input_tokens, cost_usd) VALUES (?, 'web', 'chat', 'm', ?, ?)",
                         [(float(n), n * 10, n / 100) for n in range(1, 501)])
        conn.execute("PRAGMA user_version = 2")
    ledger = UsageLedger(path)
    ledger.record(rec(time=1000.0, row_id="new"))
    rows = ledger.records(0)
    ledger.close()
    assert [(r.time, r.input_tokens, r.cost_usd) for r in rows[:500]] == [(float(n), n * 10, n / 100) for n in range(1, 501)]
    assert len({r.row_id for r in rows}) == 501 and rows[0].row_id == "sqlite-1" and rows[-1].row_id == "new"


def test_a_ledger_from_a_newer_skillway_is_refused(tmp_path):
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(LedgerError, match=r"newer skillway \(schema 99, this one knows 3\)"):
        UsageLedger(path).records(0)

"""What every ledger backend does alike, on the SQLite file and on a real PostgreSQL: rows read back
as written (with who spent them), a row recorded twice is kept once, filters and order, pruning,
the schema's version; and how the team ledger is chosen from the settings."""

from __future__ import annotations

import pytest

from skillway.model.ledger import SCHEMA_VERSION, LedgerError, UsageLedger, UsageRecord, identity, open_ledger
from skillway.model.ledger_postgres import PostgresLedger
from skillway.settings import Settings


def rec(time=1000.0, project="web", **kw) -> UsageRecord:
    return UsageRecord(time=time, project=project, purpose="chat", model="claude-sonnet-4-5", **kw)


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request, tmp_path):
    if request.param == "sqlite":
        backend = UsageLedger(tmp_path / "usage.db")
    else:
        backend = PostgresLedger(request.getfixturevalue("postgres_url"), spool=tmp_path / "spool.db")
    yield backend
    backend.close()


def test_a_row_reads_back_with_every_field_and_who_spent_it(ledger):
    full = rec(time=1234.5, input_tokens=10, output_tokens=20, cache_write_tokens=30, cache_read_tokens=40,
               cost_usd=0.0123, first_token_ms=150.5, total_ms=900.25, outcome="error", error_kind="overloaded",
               attempts=2, row_id="row-1", user="ada", machine="laptop", team="platform")
    ledger.record(full)
    assert ledger.records(0) == [full]


def test_a_row_recorded_twice_is_kept_once(ledger):
    ledger.record(rec(row_id="same"))
    ledger.record(rec(row_id="same"))
    assert [r.row_id for r in ledger.records(0)] == ["same"]


def test_a_row_without_an_id_is_given_one(ledger):
    ledger.record(rec())
    ledger.record(rec())
    ids = [r.row_id for r in ledger.records(0)]
    assert len(set(ids)) == 2 and all(ids)


def test_rows_come_oldest_first_within_the_bounds_and_the_project(ledger):
    for moment, project in ((30.0, "web"), (10.0, "web"), (20.0, "api"), (40.0, "web")):
        ledger.record(rec(time=moment, project=project))
    assert [r.time for r in ledger.records(0)] == [10.0, 20.0, 30.0, 40.0]
    assert [r.time for r in ledger.records(20.0, 30.0)] == [20.0, 30.0]
    assert [r.time for r in ledger.records(0, project="web")] == [10.0, 30.0, 40.0]


def test_prune_deletes_the_rows_older_than_the_time_given(ledger):
    for moment in (10.0, 20.0, 30.0):
        ledger.record(rec(time=moment))
    assert ledger.prune(20.0) == 1
    assert [r.time for r in ledger.records(0)] == [20.0, 30.0]


def test_a_new_postgres_ledger_is_created_at_the_current_schema_version(postgres_url, tmp_path):
    import psycopg

    with PostgresLedger(postgres_url, spool=tmp_path / "spool.db") as ledger:
        ledger.records(0)
    with PostgresLedger(postgres_url, spool=tmp_path / "spool.db") as again:  # a second start migrates nothing
        again.records(0)
    with psycopg.connect(postgres_url) as conn:
        assert [v for (v,) in conn.execute("SELECT version FROM schema_version")] == [SCHEMA_VERSION]


def test_a_postgres_ledger_from_a_newer_skillway_is_refused(postgres_url, tmp_path):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(LedgerError, match=r"newer skillway \(schema 99"):
        PostgresLedger(postgres_url, spool=tmp_path / "spool.db").records(0)


def test_the_ledger_url_setting_chooses_postgres_and_nothing_else_chooses_the_file(isolated_user_dirs):
    chosen = open_ledger(Settings(ledger_url="postgresql://team@db.example.org/usage"))
    assert isinstance(chosen, PostgresLedger) and chosen.where == "db.example.org:5432/usage"
    assert isinstance(open_ledger(Settings()), UsageLedger)
    with pytest.raises(LedgerError, match="ledgerUrl setting must be a postgresql:// URL"):
        open_ledger(Settings(ledger_url="mysql://db/usage"))


def test_the_rows_identity_comes_from_the_environment_first():
    assert identity({"SKILLWAY_USER": "ada", "SKILLWAY_MACHINE": "ci-7"}) == ("ada", "ci-7")

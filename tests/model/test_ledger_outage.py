"""The team ledger while its PostgreSQL is away: requests still record (rows wait in a local spool,
with one warning), quotas read the last known figures plus the waiting rows, and once the server is
back every row arrives exactly once."""

from __future__ import annotations

import logging

import psycopg
import pytest

from skillway.model.ledger import UsageRecord
from skillway.model.ledger_postgres import PostgresLedger
from tests.postgres import PostgresServer, binaries


def rec(time: float, row_id: str) -> UsageRecord:
    return UsageRecord(time=time, project="web", purpose="chat", model="m", input_tokens=100, row_id=row_id)


@pytest.fixture
def server():
    found = binaries()
    if found is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI installs it")
    own = PostgresServer(found)  # its own: this test stops it
    yield own
    own.close()


def rows_on(server: PostgresServer) -> list[str]:
    with psycopg.connect(server.url()) as conn:
        return [row_id for (row_id,) in conn.execute("SELECT row_id FROM usage ORDER BY time")]


def test_rows_recorded_while_postgres_is_stopped_arrive_exactly_once_when_it_is_back(server, tmp_path, caplog):
    ledger = PostgresLedger(server.url(), spool=tmp_path / "spool.db")
    for n in range(3):
        ledger.record(rec(float(n), f"before-{n}"))
    assert len(ledger.records(0)) == 3
    server.stop()
    with caplog.at_level(logging.WARNING):
        for n in range(3, 6):
            ledger.record(rec(float(n), f"during-{n}"))
        known = ledger.records(0)
    assert [r.row_id for r in known] == ["before-0", "before-1", "before-2", "during-3", "during-4", "during-5"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"127.0.0.1:{server.port}/postgres cannot be reached" in warnings[0]
    server.start()
    ledger.record(rec(6.0, "after-6"))
    assert rows_on(server) == ["before-0", "before-1", "before-2", "during-3", "during-4", "during-5", "after-6"]
    assert ledger.spool.records(0) == []
    ledger.close()


def test_a_queued_row_the_server_already_has_is_not_added_twice(server, tmp_path):
    ledger = PostgresLedger(server.url(), spool=tmp_path / "spool.db")
    ledger.record(rec(1.0, "sent"))
    ledger.spool.record(rec(1.0, "sent"))  # sent, then the process died before it left the spool
    ledger.record(rec(2.0, "next"))
    assert rows_on(server) == ["sent", "next"]
    ledger.close()

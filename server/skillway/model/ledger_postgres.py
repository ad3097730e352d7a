"""A team's usage ledger on PostgreSQL (psycopg 3): the same rows as the SQLite ledger, shared by
every member's machine, with versioned migrations in a `schema_version` table (applied under an
advisory lock, so two machines starting at once migrate once).

When the server cannot be reached, nothing stops: a row is queued in a local SQLite file (the
spool) and sent with the next row that gets through; the figures a quota is checked against are
the last ones read plus the queued rows, with a warning. Rows have their own ids and are inserted
with ON CONFLICT DO NOTHING, so a queue sent twice (a crash between sending and forgetting) adds
each row once.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo

from skillway.model.ledger import COLUMNS, SCHEMA_VERSION, LedgerError, UsageLedger, UsageRecord, row_values, with_row_id

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 3
MIGRATION_LOCK = 0x736B696C  # the advisory lock that serialises migrations ("skil")

# Each version's statements, applied in order to a ledger below it.
MIGRATIONS: dict[int, str] = {
    3: """
    CREATE TABLE usage (
        id BIGSERIAL PRIMARY KEY,
        time DOUBLE PRECISION NOT NULL,
        project TEXT NOT NULL,
        purpose TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cache_write_tokens BIGINT NOT NULL DEFAULT 0,
        cache_read_tokens BIGINT NOT NULL DEFAULT 0,
        cost_usd DOUBLE PRECISION,
        first_token_ms DOUBLE PRECISION,
        total_ms DOUBLE PRECISION,
        outcome TEXT NOT NULL DEFAULT 'ok',
        error_kind TEXT,
        attempts INTEGER NOT NULL DEFAULT 1,
        row_id TEXT NOT NULL UNIQUE,
        user_name TEXT NOT NULL DEFAULT '',
        machine TEXT NOT NULL DEFAULT '',
        team TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX usage_time ON usage (time);
    CREATE INDEX usage_team_project_time ON usage (team, project, time);
    """,
}


def server_name(url: str) -> str:
    """Where the ledger is, for messages: host, port and database, never the password."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable ledgerUrl)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


class PostgresLedger:
    """The ledger at `url`; `spool` is the local file rows wait in while the server is away."""

    def __init__(self, url: str, spool: Path) -> None:
        self.url = url
        self.where = server_name(url)
        self.spool = UsageLedger(spool)
        self._lock = threading.Lock()  # one connection, used by one thread at a time
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = os.getpid()
        self._last: list[UsageRecord] = []  # the rows the last read returned: the figures while away
        self._last_since: float | None = None
        self.away = False  # the server could not be reached last time (warned once per outage)

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the connection -------------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        if os.getpid() != self._pid:  # forked: the parent's connection is not this process's
            self._conn, self._pid = None, os.getpid()
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
            except psycopg.ProgrammingError as exc:  # not a connection string at all
                raise LedgerError(f"the ledgerUrl setting is not a PostgreSQL URL: {exc}") from None
            self._migrate(self._conn)
        return self._conn

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                         "applied DOUBLE PRECISION NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] if row and row[0] is not None else 0
            if version > SCHEMA_VERSION:
                raise LedgerError(f"the team ledger {self.where} was written by a newer skillway "
                                  f"(schema {version}, this one knows {SCHEMA_VERSION})")
            for number in sorted(n for n in MIGRATIONS if n > version):
                conn.execute(MIGRATIONS[number])  # our own statements, no input in them
                conn.execute("INSERT INTO schema_version VALUES (%s, extract(epoch FROM now()))", (number,))

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None

    def _went_away(self, exc: BaseException) -> None:
        self._drop()
        if not self.away:
            log.warning("the team ledger %s cannot be reached (%s): usage is queued in %s and sent when it is back",
                        self.where, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                        self.spool.path)
        self.away = True

    # -- rows -----------------------------------------------------------------------------------

    def record(self, rec: UsageRecord) -> None:
        rec = with_row_id(rec)
        with self._lock:
            try:
                conn = self._connection()
                self._send_queued(conn)
                self._insert(conn, [rec])
                self.away = False
            except psycopg.OperationalError as exc:
                self._went_away(exc)
                self.spool.record(rec)
            except psycopg.Error as exc:
                raise LedgerError(f"team ledger {self.where}: {exc}") from exc

    def _insert(self, conn: psycopg.Connection[Any], rows: list[UsageRecord]) -> None:
        query = (f"INSERT INTO usage ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
                 "ON CONFLICT (row_id) DO NOTHING")
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(query, [row_values(row) for row in rows])

    def _send_queued(self, conn: psycopg.Connection[Any]) -> None:
        """The rows that waited in the spool go to the server, then leave the spool."""
        queued = self.spool.records(0)
        if queued:
            self._insert(conn, queued)
            self.spool.forget(row.row_id for row in queued)
            log.info("sent %d queued usage rows to %s", len(queued), self.where)

    def records(self, since: float, until: float | None = None, project: str | None = None) -> list[UsageRecord]:
        query = f"SELECT {', '.join(COLUMNS)} FROM usage WHERE time >= %s"
        params: list[object] = [float(since)]
        if until is not None:
            query += " AND time <= %s"
            params.append(float(until))
        if project is not None:
            query += " AND project = %s"
            params.append(project)
        query += " ORDER BY time, id"
        with self._lock:
            try:
                conn = self._connection()
                self._send_queued(conn)
                rows = [UsageRecord(*row) for row in conn.execute(query, params).fetchall()]
                self.away = False
            except psycopg.OperationalError as exc:
                self._went_away(exc)
                return self._last_known(since, until, project)
            except psycopg.Error as exc:
                raise LedgerError(f"team ledger {self.where}: {exc}") from exc
            if until is None and project is None and (self._last_since is None or since <= self._last_since):
                self._last, self._last_since = rows, since
            return rows

    def _last_known(self, since: float, until: float | None, project: str | None) -> list[UsageRecord]:
        """While the server is away: the rows last read from it, and those queued since."""
        seen = {row.row_id for row in self._last}
        rows = [*self._last, *(row for row in self.spool.records(0) if row.row_id not in seen)]
        return sorted((row for row in rows if row.time >= since and (until is None or row.time <= until)
                       and (project is None or row.project == project)), key=lambda row: row.time)

    def prune(self, before: float) -> int:
        with self._lock:
            try:
                return self._connection().execute("DELETE FROM usage WHERE time < %s", (float(before),)).rowcount
            except psycopg.Error as exc:
                raise LedgerError(f"team ledger {self.where}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._drop()
        self.spool.close()

"""The usage ledger: one row per model request, shared by every editor and CLI run. This module has
the rows, the embedded SQLite backend and the choice of backend (`open_ledger`): a team's
PostgreSQL (`ledgerUrl`, in ledger_postgres.py) or the SQLite file of one person.

The SQLite database is in WAL mode with a busy timeout, and every write is one short transaction, so
several processes (and threads) may record at once without losing a row. Each thread opens its own
connection lazily; calls are short and synchronous, fine from an asyncio program. Every row has an
id of its own (`row_id`), so a row sent twice (a retry, a queue flushed again) is kept once.
"""

from __future__ import annotations

import getpass
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from skillway.settings import data_dir

if TYPE_CHECKING:
    from skillway.settings import Settings

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    project TEXT NOT NULL,
    purpose TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    first_token_ms REAL,
    total_ms REAL,
    outcome TEXT NOT NULL DEFAULT 'ok',
    error_kind TEXT,
    attempts INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS usage_time ON usage (time);
CREATE INDEX IF NOT EXISTS usage_project_time ON usage (project, time);
"""

# Version 3: who spent it (user, machine, team), and an id per row so that none is kept twice.
_VERSION_3 = """
ALTER TABLE usage ADD COLUMN row_id TEXT;
ALTER TABLE usage ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
ALTER TABLE usage ADD COLUMN machine TEXT NOT NULL DEFAULT '';
ALTER TABLE usage ADD COLUMN team TEXT NOT NULL DEFAULT '';
UPDATE usage SET row_id = 'sqlite-' || id WHERE row_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS usage_row_id ON usage (row_id);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL);
"""

# The columns in the order of UsageRecord's fields.
COLUMNS = (
    "time", "project", "purpose", "model", "input_tokens", "output_tokens", "cache_write_tokens",
    "cache_read_tokens", "cost_usd", "first_token_ms", "total_ms", "outcome", "error_kind", "attempts",
    "row_id", "user_name", "machine", "team",
)


class LedgerError(Exception):
    """The ledger cannot be used (cannot be created, written by a newer skillway, not a database,
    disk full, ...). Every method raises this and nothing else from SQLite or the file system."""


@dataclass(frozen=True)
class UsageRecord:
    """One model request.

    `time` is when it started (unix seconds). `purpose` says what it was for: "completion",
    "chat", "agent", "action", ... `outcome` is "ok", "cancelled" or "error" (then `error_kind`
    says which, e.g. "rate_limited"). `cost_usd` is None when the model's price is unknown.
    Latencies are in milliseconds: `first_token_ms` to the first streamed token, `total_ms` to the end.
    """

    time: float
    project: str
    purpose: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None
    first_token_ms: float | None = None
    total_ms: float | None = None
    outcome: str = "ok"
    error_kind: str | None = None
    attempts: int = 1  # HTTP requests the call sent: the SDK's retries are inside one row
    row_id: str = ""  # the row's own id (one is made when it is recorded without one)
    user: str = ""  # who sent it, from which machine, for which team (a team ledger's caps)
    machine: str = ""
    team: str = ""

    @property
    def tokens(self) -> int:
        """Tokens of uncached work: input + cache writes + output.

        Cache reads are left out on purpose: they cost a tenth of input and are shown separately
        (`cache_read_tokens`); this is the number quotas count.
        """
        return self.input_tokens + self.cache_write_tokens + self.output_tokens


class Ledger(Protocol):
    """What every backend does; LedgerError for anything that goes wrong."""

    def record(self, rec: UsageRecord) -> None: ...

    def records(self, since: float, until: float | None = None, project: str | None = None) -> list[UsageRecord]: ...

    def prune(self, before: float) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Ledger: ...

    def __exit__(self, *exc: object) -> None: ...


def open_ledger(settings: Settings | None = None) -> Ledger:
    """The team's PostgreSQL ledger when `ledgerUrl` (or SKILLWAY_LEDGER_URL) names one, else the
    SQLite file in the user's data folder."""
    url = settings.ledger_url if settings is not None else None
    if not url:
        return UsageLedger.default()
    if not url.startswith(("postgresql://", "postgres://")):
        raise LedgerError("the ledgerUrl setting must be a postgresql:// URL")
    from skillway.model.ledger_postgres import PostgresLedger  # psycopg: loaded for a team ledger only

    return PostgresLedger(url, spool=data_dir() / "ledger-spool.db")


def identity(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(user, machine) a row is recorded under: SKILLWAY_USER and SKILLWAY_MACHINE, else the login
    name and the host name."""
    try:
        user = environ.get("SKILLWAY_USER") or getpass.getuser()
    except (KeyError, OSError):
        user = ""
    return user, environ.get("SKILLWAY_MACHINE") or socket.gethostname()


def with_row_id(rec: UsageRecord) -> UsageRecord:
    return rec if rec.row_id else replace(rec, row_id=str(uuid.uuid4()))


def row_values(rec: UsageRecord) -> tuple[object, ...]:
    """The row's values in COLUMNS' order, each of its column's type."""
    return (
        float(rec.time), str(rec.project), str(rec.purpose), str(rec.model),
        int(rec.input_tokens), int(rec.output_tokens), int(rec.cache_write_tokens),
        int(rec.cache_read_tokens), _real(rec.cost_usd), _real(rec.first_token_ms),
        _real(rec.total_ms), str(rec.outcome), None if rec.error_kind is None else str(rec.error_kind),
        int(rec.attempts), str(rec.row_id), str(rec.user), str(rec.machine), str(rec.team),
    )


class UsageLedger:
    """The usage database at `path` (created with its folder on first use)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._pid = os.getpid()

    @classmethod
    def default(cls) -> UsageLedger:
        return cls(data_dir() / "usage.db")

    def __enter__(self) -> UsageLedger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- connections -----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # forked: the parent's connections must not be used here
            self._local = threading.local()
            self._connections = []
            self._pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"cannot create the folder of the usage ledger {self.path}: {exc}") from exc
        # Autocommit mode (isolation_level=None): each statement, or each BEGIN ... COMMIT, is one
        # short transaction. check_same_thread=False only so that close() may close every thread's
        # connection; each connection is otherwise used by the thread that opened it.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._retry_busy(lambda: self._setup(conn))
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerError(f"cannot open the usage ledger {self.path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _retry_busy(action) -> None:
        # Switching to WAL and creating the schema need a lock that SQLite may refuse at once (without
        # calling the busy handler) while another process does the same: try again for a while.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                action()
                return
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _setup(self, conn: sqlite3.Connection) -> None:
        # Persistent: once set, every later connection (of any process) finds the file in WAL mode.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed row
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise LedgerError(f"the usage ledger {self.path} was written by a newer skillway "
                              f"(schema {version}, this one knows {SCHEMA_VERSION})")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:  # another process may have done it meanwhile
                if version < 1:
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        conn.execute(statement)
                elif version < 2:
                    conn.execute("ALTER TABLE usage ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1")
                if version < 3:
                    for statement in filter(str.strip, _VERSION_3.split(";")):
                        conn.execute(statement)
                # Later migrations: `if version < 4: ...` here, in order.
                conn.execute("INSERT OR REPLACE INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, time.time()))
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close every connection this ledger opened (any thread's); later calls reopen lazily."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    # -- rows ------------------------------------------------------------------------------------

    def record(self, rec: UsageRecord) -> None:
        """Append one request's usage (one short transaction); a row whose id is there already is not
        added again."""
        self._execute(f"INSERT OR IGNORE INTO usage ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                      row_values(with_row_id(rec)))

    def forget(self, row_ids: Iterable[str]) -> None:
        """Delete the rows with these ids (a queue's rows once they were sent on)."""
        conn = self._connection()
        try:
            conn.executemany("DELETE FROM usage WHERE row_id = ?", [(row_id,) for row_id in row_ids])
        except sqlite3.Error as exc:
            raise LedgerError(f"usage ledger {self.path}: {exc}") from exc

    def _execute(self, query: str, params) -> sqlite3.Cursor:
        conn = self._connection()
        try:
            return conn.execute(query, params)
        except sqlite3.Error as exc:
            raise LedgerError(f"usage ledger {self.path}: {exc}") from exc

    def records(self, since: float, until: float | None = None, project: str | None = None) -> list[UsageRecord]:
        """Rows with since <= time <= until (both inclusive; no upper bound when None), oldest first,
        only `project`'s when given."""
        query = f"SELECT {', '.join(COLUMNS)} FROM usage WHERE time >= ?"
        params: list = [float(since)]
        if until is not None:
            query += " AND time <= ?"
            params.append(float(until))
        if project is not None:
            query += " AND project = ?"
            params.append(project)
        query += " ORDER BY time, id"
        rows = self._execute(query, params).fetchall()
        return [UsageRecord(*row) for row in rows]

    def prune(self, before: float) -> int:
        """Delete rows older than `before` (time < before); return how many went."""
        return self._execute("DELETE FROM usage WHERE time < ?", (float(before),)).rowcount


def _real(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Summary:
    """Usage of one group of requests. Latencies are over `total_ms`/`first_token_ms` of ok rows."""

    key: str
    requests: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: float | None  # None when no row's cost is known; else the sum of the known ones
    cache_hit_ratio: float | None  # cache_read / (cache_read + cache_write + input); None when 0
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    first_token_p50_ms: float | None
    errors: int
    cancelled: int

    @property
    def tokens(self) -> int:
        """Uncached work, as `UsageRecord.tokens`: input + cache writes + output."""
        return self.input_tokens + self.cache_write_tokens + self.output_tokens


SUMMARY_FIELDS = tuple(f.name for f in fields(Summary))
GROUPINGS = ("project", "purpose", "model")


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0..100) with linear interpolation between closest ranks; None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _summary(key: str, rows: list[UsageRecord]) -> Summary:
    input_tokens = sum(r.input_tokens for r in rows)
    cache_write = sum(r.cache_write_tokens for r in rows)
    cache_read = sum(r.cache_read_tokens for r in rows)
    costs = [r.cost_usd for r in rows if r.cost_usd is not None]
    cached_base = cache_read + cache_write + input_tokens
    ok = [r for r in rows if r.outcome == "ok"]
    totals = [r.total_ms for r in ok if r.total_ms is not None]
    firsts = [r.first_token_ms for r in ok if r.first_token_ms is not None]
    return Summary(
        key=key,
        requests=len(rows),
        input_tokens=input_tokens,
        output_tokens=sum(r.output_tokens for r in rows),
        cache_write_tokens=cache_write,
        cache_read_tokens=cache_read,
        cost_usd=math.fsum(costs) if costs else None,
        cache_hit_ratio=cache_read / cached_base if cached_base else None,
        latency_p50_ms=percentile(totals, 50),
        latency_p95_ms=percentile(totals, 95),
        first_token_p50_ms=percentile(firsts, 50),
        errors=sum(1 for r in rows if r.outcome == "error"),
        cancelled=sum(1 for r in rows if r.outcome == "cancelled"),
    )


def summarise(records: Iterable[UsageRecord], by: str | None = None) -> list[Summary]:
    """One Summary per project, purpose or model (sorted by key), or one "all" row when `by` is None
    (even for no records)."""
    records = list(records)
    if by is None:
        return [_summary("all", records)]
    if by not in GROUPINGS:
        raise ValueError(f'cannot group usage by "{by}": use one of {", ".join(GROUPINGS)}')
    groups: dict[str, list[UsageRecord]] = {}
    for rec in records:
        groups.setdefault(getattr(rec, by), []).append(rec)
    return [_summary(key, groups[key]) for key in sorted(groups)]

"""The embedded SQLite database file shared by the notice store and the operational tables.

One file under ``$TBTWATCH_HOME`` holds notices, raw pages, the outbox,
subscriptions and reviews, so a single transaction can record a delivery and its
cause. WAL lets the web app read while a crawl writes. Each module owns its
tables and declares them with ``ensure_schema`` (idempotent ``CREATE ... IF NOT
EXISTS`` scripts), so there is no central schema file to keep in step.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

_local = threading.local()
_schemas_done: set[tuple[str, str]] = set()
_schema_lock = threading.Lock()


class Connection(sqlite3.Connection):
    """A connection that knows which schema scripts ``ensure_schema`` has seen done for it: the web app's
    requests ask on every page, and finding the file out again (``PRAGMA database_list``) each time costs
    a query."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.schemas: set[str] = set()


def connect(path: Path | str) -> sqlite3.Connection:
    """A new connection with the settings every user of the file needs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False, factory=Connection)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def thread_connection(path: Path | str) -> sqlite3.Connection:
    """One connection per thread and file (the web app serves requests on a thread pool).

    Looked up by the path as given first: resolving it costs a few system calls, and every store method
    asks for its connection.
    """
    conns: dict[str, sqlite3.Connection] = getattr(_local, "conns", None) or {}
    _local.conns = conns
    given = str(path)
    if given not in conns:
        key = str(Path(path).resolve())
        if key not in conns:
            conns[key] = connect(key)
        conns[given] = conns[key]
    return conns[given]


def ensure_schema(conn: sqlite3.Connection, name: str, script: str) -> None:
    """Run a module's idempotent schema script once per process and database file."""
    seen = getattr(conn, "schemas", None)  # a ``Connection`` of ``connect``
    if seen is not None and name in seen:
        return
    db_file = conn.execute("PRAGMA database_list").fetchone()["file"]
    key = (db_file, name)
    if key not in _schemas_done:
        with _schema_lock:
            if key not in _schemas_done:
                conn.executescript(script)
                _schemas_done.add(key)
    if seen is not None:
        seen.add(name)


class transaction:
    """``with transaction(conn):`` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error.

    IMMEDIATE takes the write lock up front, so two writers queue on
    ``busy_timeout`` instead of failing half-way with SQLITE_BUSY.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:  # SQLite has already rolled back after some errors (a full disk, I/O)
            self.conn.execute("ROLLBACK")  # and then a ROLLBACK would hide the cause behind its own error

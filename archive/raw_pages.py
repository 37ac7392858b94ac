"""Raw fetched pages, kept compressed so any notice can be re-parsed without re-crawling.

A page that failed to parse is kept with its error, so a parser fix can be
replayed over exactly the pages that failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from archive.db import ensure_schema, thread_connection, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS raw_pages (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BLOB NOT NULL,
    error TEXT,
    symbols TEXT NOT NULL DEFAULT '',
    fetched_at TEXT NOT NULL,
    UNIQUE (url, sha256)
);
CREATE INDEX IF NOT EXISTS raw_pages_source ON raw_pages (source, fetched_at);
"""


@dataclass
class RawPage:
    id: int
    source: str
    url: str
    status: int | None
    content_type: str | None
    body: bytes
    error: str | None
    symbols: list[str]
    fetched_at: str


class RawPages:
    def __init__(self, db_path: Path | str):
        self.db_path = db_path
        ensure_schema(self._conn, "raw_pages", SCHEMA)

    @property
    def _conn(self):
        return thread_connection(self.db_path)

    def save(self, source: str, url: str, body: bytes, *, status: int | None = None,
             content_type: str | None = None, error: str | None = None,
             symbols: list[str] | None = None) -> int:
        """Keep a page; the same bytes from the same URL are stored once (its error, status and time updated).

        A request that keeps failing with the same (often empty) body is one row saying how it failed last;
        a later fetch that brings other bytes is a row of its own."""
        digest = hashlib.sha256(body).hexdigest()
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with transaction(self._conn) as conn:
            conn.execute(
                """INSERT INTO raw_pages (source, url, sha256, status, content_type, body, error, symbols, fetched_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url, sha256) DO UPDATE SET error = excluded.error, status = excluded.status,
                       content_type = excluded.content_type, symbols = excluded.symbols,
                       fetched_at = excluded.fetched_at""",
                (source, url, digest, status, content_type, zlib.compress(body, 6), error,
                 " ".join(symbols or []), now),
            )
            row = conn.execute("SELECT id FROM raw_pages WHERE url = ? AND sha256 = ?", (url, digest)).fetchone()
        return int(row["id"])

    def get(self, page_id: int) -> RawPage | None:
        row = self._conn.execute("SELECT * FROM raw_pages WHERE id = ?", (page_id,)).fetchone()
        return self._row(row) if row else None

    def failed(self, source: str | None = None) -> list[RawPage]:
        sql = "SELECT * FROM raw_pages WHERE error IS NOT NULL"
        args: tuple = ()
        if source:
            sql += " AND source = ?"
            args = (source,)
        return [self._row(r) for r in self._conn.execute(sql + " ORDER BY id", args)]

    def count(self, source: str | None = None) -> int:
        if source:
            return self._conn.execute("SELECT count(*) FROM raw_pages WHERE source = ?", (source,)).fetchone()[0]
        return self._conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]

    @staticmethod
    def _row(row) -> RawPage:
        return RawPage(row["id"], row["source"], row["url"], row["status"], row["content_type"],
                       zlib.decompress(row["body"]), row["error"], row["symbols"].split(), row["fetched_at"])

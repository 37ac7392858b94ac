"""The notified documents: the draft regulations a notification links to, fetched once, their text kept.

Members attach the draft itself (``members.wto.org/crnattachments/{yyyy}/{TBT|SPS}/{member}/...pdf``);
no public service searches inside them. The crawler (``crawlers.spiders.notified_docs``) fetches
each link once and saves what it got here: the text page by page, or why there is none. The text
is indexed with its notices (the ``documents`` column of ``archive.search_index``), so a phrase from
inside a regulation finds the notice, and ``passage`` shows where.

For the classifier: ``NotifiedDocuments(db).first_pages(symbol)`` is the text of the first pages of
a notice's documents, for when the notification's own text is too thin to judge.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from archive.db import ensure_schema, thread_connection, transaction
from archive.text import highlight

PAGE_BREAK = "\f"
INDEXED_CHARS = 200_000  # of each document, into the search index (a 300-page annex need not all be searchable)

SCHEMA = """
CREATE TABLE IF NOT EXISTS notified_documents (
    url TEXT PRIMARY KEY,
    status INTEGER,                  -- the HTTP status, NULL when nothing came back
    content_type TEXT,
    bytes INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL DEFAULT '',   -- the pages' text joined by form feeds
    error TEXT,                      -- why there is no text (too large, not a PDF, a scan, HTTP 404...)
    final INTEGER NOT NULL,          -- 1 when fetching again would give the same answer
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notified_document_links (
    symbol TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (symbol, url)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notified_document_links_url ON notified_document_links (url);
"""


@dataclass
class NotifiedDocument:
    url: str
    symbols: list[str]
    status: int | None = None
    content_type: str | None = None
    bytes: int = 0
    pages: list[str] = field(default_factory=list)
    error: str | None = None
    final: bool = True
    fetched_at: str = ""

    @property
    def text(self) -> str:
        return PAGE_BREAK.join(self.pages)


def ensure_documents_schema(conn: sqlite3.Connection) -> None:
    ensure_schema(conn, "archive.documents", SCHEMA)


def index_text_of(conn: sqlite3.Connection, symbol: str) -> str:
    """The text of a notice's documents as the search index takes it (each document cut at INDEXED_CHARS)."""
    rows = conn.execute(
        """SELECT substr(d.text, 1, ?) FROM notified_document_links l JOIN notified_documents d ON d.url = l.url
           WHERE l.symbol = ? AND d.text != '' ORDER BY d.url""", (INDEXED_CHARS, symbol))
    return "\n".join(r[0].replace(PAGE_BREAK, "\n") for r in rows)


class NotifiedDocuments:
    """The ``notified_documents`` table of the archive file."""

    def __init__(self, db_path: Path | str):
        self.conn = thread_connection(db_path)
        ensure_documents_schema(self.conn)

    def done(self, urls: list[str]) -> set[str]:
        """Those of ``urls`` fetched for good (a text, or an answer a new try would not change)."""
        if not urls:
            return set()
        marks = ",".join("?" * len(urls))
        return {r[0] for r in self.conn.execute(
            f"SELECT url FROM notified_documents WHERE final = 1 AND url IN ({marks})", urls)}

    def save(self, document: NotifiedDocument) -> None:
        stamp = document.fetched_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with transaction(self.conn) as conn:
            conn.execute(
                """INSERT INTO notified_documents (url, status, content_type, bytes, pages, text, error, final,
                       fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET status = excluded.status, content_type = excluded.content_type,
                       bytes = excluded.bytes, pages = excluded.pages, text = excluded.text, error = excluded.error,
                       final = excluded.final, fetched_at = excluded.fetched_at""",
                (document.url, document.status, document.content_type, document.bytes, len(document.pages),
                 document.text, document.error, int(document.final), stamp))
            conn.executemany("INSERT OR IGNORE INTO notified_document_links (symbol, url) VALUES (?, ?)",
                             [(symbol, document.url) for symbol in document.symbols])

    def of(self, symbol: str) -> list[NotifiedDocument]:
        """A notice's documents (fetched or failed), by URL."""
        rows = self.conn.execute(
            """SELECT d.* FROM notified_document_links l JOIN notified_documents d ON d.url = l.url
               WHERE l.symbol = ? ORDER BY d.url""", (symbol,)).fetchall()
        return [self._document(row) for row in rows]

    def _document(self, row: sqlite3.Row) -> NotifiedDocument:
        symbols = [r[0] for r in self.conn.execute(
            "SELECT symbol FROM notified_document_links WHERE url = ? ORDER BY symbol", (row["url"],))]
        pages = row["text"].split(PAGE_BREAK) if row["text"] else []
        return NotifiedDocument(row["url"], symbols, row["status"], row["content_type"], row["bytes"], pages,
                                row["error"], bool(row["final"]), row["fetched_at"])

    def first_pages(self, symbol: str, pages: int = 3) -> str:
        """The first ``pages`` pages of each of a notice's documents: what the classifier reads when the
        notice's own text is thin ("" when none was fetched)."""
        return "\n\n".join("\n".join(d.pages[:pages]) for d in self.of(symbol) if d.pages)

    def passage(self, symbol: str, pattern: re.Pattern[str] | None) -> tuple[str, str] | None:
        """(URL, marked window of text) where a query's terms occur in a notice's documents, or None."""
        for document in self.of(symbol):
            window = highlight(document.text.replace(PAGE_BREAK, "\n"), pattern)
            if window:
                return document.url, window
        return None

"""How a notice is laid out for search in the SQLite archive, and how a query becomes an FTS5 MATCH.

Three choices make search at WTO-history scale (100,000 notices) fast:

* **The FTS rowid is a search key** ordered by distribution day: a slot among the day's notices
  (``search_key``). FTS5 keeps its doclists in rowid order, so "newest first" is a reverse walk of
  the index (``ORDER BY rowid DESC LIMIT 20`` reads 20 entries however many notices match) and a
  date range is a rowid range that FTS5 seeks to, instead of a sort and a join over every match.
  Keys are kept dense (a day has 2**SLOT_BITS slots, not a shifted notice id): doclists store rowid
  deltas as varints, and 2**24-wide gaps made the index 60% larger and indexing twice as slow.
* **Filters that come from the notice are tokens** in a ``tags`` column (member, area, every HS
  prefix, objectives), so ``members=EU`` is one more doclist intersected inside FTS5 and BM25 then
  ranks only the notices that pass. User text is confined to the text columns, so no query can
  reach a tag.
* **The notified documents' text** (``archive.documents``) is a column of its notices' rows, weighted
  low: a phrase from inside a draft regulation finds the notice, and the notice's own words rank first.
* **What is not text** (comment deadline, assessment level and product lines, HS chapters, objectives) is kept in
  ``search_docs``, one narrow row per notice, with a change sequence so that facet counts can be
  read from in-memory columns (``archive.facet_columns``) and kept current cheaply. Its deadline and
  level indexes carry the search key, so "open for comment" reads the index alone (8.6 -> 0.4 ms for
  6,600 open notices at 100k; the older one-column indexes are dropped on open).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid
import zlib
from collections.abc import Iterable

from archive.base import SearchQuery
from archive.db import transaction
from archive.documents import ensure_documents_schema, index_text_of
from archive.text import index_text
from tbtwatch.model import Notice

SLOT_BITS = 12  # slots per distribution day: WTO members file 10-120 documents a day
SLOTS = 1 << SLOT_BITS
DATED = 1 << 32  # keys below this are undated notices, keyed by notice id (so they come last)
MAX_KEY = (1 << 63) - 1
SEARCH_VERSION = 3  # bump when the layout below changes: the index is rebuilt from the notices
TEXT_COLUMNS = ("title", "products", "description", "translations", "documents")
BM25_WEIGHTS = (5.0, 3.0, 1.0, 2.0, 0.5, 0.0)  # the text columns, then tags (which never score)
BM25 = f"bm25(notices_fts, {', '.join(str(w) for w in BM25_WEIGHTS)})"

SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS notices_fts USING fts5 (
    {', '.join(TEXT_COLUMNS)}, tags,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS search_docs (
    id INTEGER PRIMARY KEY,          -- notices.id
    key INTEGER NOT NULL UNIQUE,     -- the notice's FTS rowid (search_key)
    area TEXT NOT NULL,
    member TEXT NOT NULL,
    deadline TEXT,                   -- comment deadline, ISO
    level TEXT,                      -- assessment level, NULL before classification
    lines TEXT NOT NULL DEFAULT '',  -- the assessment's product line ids, space separated
    chapters TEXT NOT NULL,          -- distinct HS chapters, space separated
    objectives TEXT NOT NULL,        -- JSON list
    seq INTEGER NOT NULL             -- search_state.seq of the write that last changed the row
);
CREATE INDEX IF NOT EXISTS search_docs_seq ON search_docs (seq);
DROP INDEX IF EXISTS search_docs_deadline;
DROP INDEX IF EXISTS search_docs_level;
CREATE INDEX IF NOT EXISTS search_docs_deadline_key ON search_docs (deadline, key);
CREATE INDEX IF NOT EXISTS search_docs_level_key ON search_docs (level, key);
CREATE TABLE IF NOT EXISTS search_state (
    version INTEGER NOT NULL,
    epoch TEXT NOT NULL,             -- new for every (re)built index, so in-memory columns know to reload
    seq INTEGER NOT NULL
);
"""


class DayFullError(ValueError):
    """More notices on one distribution day than the search key has room for."""


def _day_base(day: dt.date) -> int:
    return DATED + (day.toordinal() << SLOT_BITS)


def key_day(key: int) -> dt.date | None:
    return dt.date.fromordinal((key - DATED) >> SLOT_BITS) if key >= DATED else None


def search_key(conn: sqlite3.Connection, notice_id: int, day: dt.date | None, old_key: int | None) -> int:
    """The notice's key: its old one while its day is unchanged, else the next free slot of its day.

    Newer notices have larger keys, and among a day's notices the later written ones.
    """
    if day is None:
        return notice_id
    base = _day_base(day)
    if old_key is not None and base <= old_key < base + SLOTS:
        return old_key
    last = conn.execute("SELECT max(key) FROM search_docs WHERE key BETWEEN ? AND ?",
                        (base, base + SLOTS - 1)).fetchone()[0]
    key = base if last is None else last + 1
    if key >= base + SLOTS:
        raise DayFullError(f"more than {SLOTS} notices have the distribution date {day}: the WTO files at most a few "
                           "hundred a day, so the source's dates are probably wrong; check its date parsing")
    return key


def key_range(since: dt.date | None, until: dt.date | None) -> tuple[int, int]:
    """The keys of notices distributed in [since, until] (undated ones fall outside any bound)."""
    low = _day_base(since) if since else DATED if until else 0
    high = _day_base(until) + SLOTS - 1 if until else MAX_KEY
    return low, high


def _tag(kind: str, value: str) -> str:
    """One token per filter value. It ends in a digit, so the porter stemmer leaves it alone."""
    slug = value.lower() if re.fullmatch(r"[0-9A-Za-z]+", value) else f"{zlib.crc32(value.encode()):08x}"
    return f"x{kind}{slug}0"


def _hs_tags(codes: Iterable[str]) -> set[str]:
    """Every prefix of every code from 2 digits, so an HS prefix filter is one token."""
    return {_tag("h", code[:n]) for code in codes for n in range(2, len(code) + 1)}


def notice_tags(notice: Notice) -> str:
    tags = {_tag("a", notice.area), _tag("m", notice.member_code or "none")}
    tags |= _hs_tags(notice.hs_codes)
    tags |= {_tag("o", o) for o in notice.objectives}
    return " ".join(sorted(tags))


def _any_of(kind: str, values: Iterable[str]) -> str:
    return "tags : (" + " OR ".join(f'"{_tag(kind, v)}"' for v in values) + ")"


TEXT_FILTER = "{" + " ".join(TEXT_COLUMNS) + "}"


def hs_match(prefixes: Iterable[str]) -> str:
    return _any_of("h", prefixes)


def match_expression(text: str | None, query: SearchQuery) -> str | None:
    """The MATCH for the text (each term confined to the text columns, ``TEXT_FILTER``, or its HS tags) AND
    every notice-level filter."""
    parts = [text] if text else []
    if query.areas:
        parts.append(_any_of("a", query.areas))
    if query.members:
        parts.append(_any_of("m", query.members))
    if query.hs_prefixes:
        parts.append(_any_of("h", query.hs_prefixes))
    if query.objectives:
        parts.append(_any_of("o", query.objectives))
    return " AND ".join(f"({p})" for p in parts) or None


def _doc_row(notice: Notice) -> tuple:
    chapters = sorted({code[:2] for code in notice.hs_codes})
    return (notice.area, notice.member_code or "", notice.comment_deadline.isoformat()
            if notice.comment_deadline else None, " ".join(chapters), json.dumps(notice.objectives))


def next_seq(conn: sqlite3.Connection) -> int:
    """The change sequence for this write transaction (writers hold the write lock, so it is ordered)."""
    return conn.execute("UPDATE search_state SET seq = seq + 1 RETURNING seq").fetchone()[0]


class IndexBatch:
    """The search rows of one write transaction, written to FTS5 in key order when it is flushed.

    FTS5 buffers a transaction's terms in memory only while rowids increase; a smaller rowid
    flushes the buffer to a new segment. Notices arrive in crawl order, not date order, so
    writing them as they come made 2,000-notice batches into hundreds of tiny segments
    (index 2.5x slower, disk 20% larger).
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.seq = next_seq(conn)
        self._deleted: list[int] = []
        self._added: list[tuple] = []

    def add(self, notice_id: int, notice: Notice) -> None:
        """Write (or rewrite) the notice's search_docs row now and queue its FTS row."""
        old = self.conn.execute("SELECT key FROM search_docs WHERE id = ?", (notice_id,)).fetchone()
        if old is not None:
            self._deleted.append(old[0])
        key = search_key(self.conn, notice_id, notice.distribution_date, old[0] if old else None)
        translations = "\n".join(f"{t.title}\n{t.products}\n{t.description}" for t in notice.translations.values())
        self._added.append((key, index_text(f"{notice.symbol} {notice.title}"), index_text(notice.products),
                            index_text(notice.description), index_text(translations),
                            index_text(index_text_of(self.conn, notice.symbol)), notice_tags(notice)))
        self.conn.execute(
            """INSERT INTO search_docs (id, key, area, member, deadline, chapters, objectives, level, lines, seq)
               VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT level FROM assessments WHERE symbol = ?),
                       (SELECT coalesce(group_concat(line_id, ' '), '') FROM assessment_lines WHERE symbol = ?), ?)
               ON CONFLICT (id) DO UPDATE SET key = excluded.key, area = excluded.area, member = excluded.member,
                   deadline = excluded.deadline, chapters = excluded.chapters, objectives = excluded.objectives,
                   level = excluded.level, lines = excluded.lines, seq = excluded.seq""",
            (notice_id, key, *_doc_row(notice), notice.symbol, notice.symbol, self.seq))

    def __len__(self) -> int:
        return len(self._added)

    def flush(self) -> None:
        self.conn.executemany("DELETE FROM notices_fts WHERE rowid = ?", [(k,) for k in sorted(self._deleted)])
        self.conn.executemany(
            "INSERT INTO notices_fts (rowid, title, products, description, translations, documents, tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            sorted(self._added))
        self._deleted, self._added = [], []


def set_assessment(conn: sqlite3.Connection, symbol: str, level: str, lines: Iterable[str], seq: int) -> None:
    """Copy an assessment's level and product lines into the notice's search row (for filters and facets)."""
    conn.execute("UPDATE search_docs SET level = ?, lines = ?, seq = ? "
                 "WHERE id = (SELECT id FROM notices WHERE symbol = ?)", (level, " ".join(lines), seq, symbol))


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def _is_current(conn: sqlite3.Connection) -> bool:
    columns = [r[1] for r in conn.execute("PRAGMA table_info(notices_fts)")]
    state = conn.execute("SELECT version FROM search_state").fetchone()
    return state is not None and state[0] == SEARCH_VERSION and "tags" in columns


def ensure_current(conn: sqlite3.Connection) -> bool:
    """Create the search tables; rebuild them from the notices when their layout is older. True if rebuilt."""
    ensure_documents_schema(conn)
    conn.executescript(SCHEMA)
    if _is_current(conn):
        return False
    with transaction(conn):
        if _is_current(conn):  # another process rebuilt it while this one waited for the lock
            return False
        _rebuild(conn)
    return True


def reindex(conn: sqlite3.Connection, symbols: Iterable[str]) -> int:
    """Index these notices again (their documents changed), in one transaction; how many were found."""
    symbols = list(symbols)
    with transaction(conn):
        batch = IndexBatch(conn)
        marks = ",".join("?" * len(symbols))
        for notice_id, data in conn.execute(f"SELECT id, data FROM notices WHERE symbol IN ({marks})", symbols):
            batch.add(notice_id, Notice.from_stored(data))
        found = len(batch)
        batch.flush()
    return found


def rebuild(conn: sqlite3.Connection) -> None:
    """Index every notice again, in one transaction (a crash half-way leaves the old index)."""
    with transaction(conn):
        _rebuild(conn)


def _rebuild(conn: sqlite3.Connection) -> None:
    for table in ("notices_fts", "search_docs", "search_state"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in _statements(SCHEMA):
        conn.execute(statement)
    conn.execute("INSERT INTO search_state (version, epoch, seq) VALUES (?, ?, 0)", (SEARCH_VERSION, uuid.uuid4().hex))
    batch = IndexBatch(conn)
    for notice_id, data in conn.execute("SELECT id, data FROM notices ORDER BY id"):
        batch.add(notice_id, Notice.from_stored(data))
        if len(batch) >= 5000:  # bound the memory of a rebuild
            batch.flush()
    batch.flush()

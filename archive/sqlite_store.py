"""The embedded notice store: one SQLite file, WAL, FTS5 with BM25 ranking.

Each notice is kept whole as JSON (the record) with a few columns beside it
(symbol, base symbol, dates, member); its text, HS prefixes, member, area and
objectives go into the search index (``archive.search_index``: FTS5 with Chinese
as bigrams and filters as tag tokens, plus ``search_docs`` for facets). All
writes of one upsert batch are a single transaction, so a crash leaves either
the old or the new state.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archive.base import (
    Hit, NoticeStore, QueryError, SearchQuery, SearchResult, UpsertResult,
)
from archive.db import ensure_schema, thread_connection, transaction
from archive.documents import NotifiedDocuments
from archive.facet_columns import facet_columns
from archive.result_cache import ResultCache
from archive.search_index import (
    BM25, TEXT_FILTER, IndexBatch, ensure_current, hs_match, key_range, match_expression, next_seq, rebuild,
    reindex, set_assessment,
)
from archive.text import Term, expanded, fts_expression, highlight, highlighter, parse_query
from tbtwatch.model import Notice, merge_notice
from tbtwatch.symbols import parse_symbol

if TYPE_CHECKING:
    from tbtwatch.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL UNIQUE,
    base_symbol TEXT,
    area TEXT NOT NULL,
    kind TEXT NOT NULL,
    member_code TEXT NOT NULL,
    distribution_date TEXT,
    comment_deadline TEXT,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_date ON notices (distribution_date);
CREATE INDEX IF NOT EXISTS notices_base ON notices (base_symbol);
CREATE INDEX IF NOT EXISTS notices_member ON notices (member_code, distribution_date);
CREATE INDEX IF NOT EXISTS notices_deadline ON notices (comment_deadline);
CREATE TABLE IF NOT EXISTS assessments (
    symbol TEXT PRIMARY KEY,
    notice_hash TEXT,
    level TEXT NOT NULL,
    relevant INTEGER NOT NULL,
    data TEXT NOT NULL,
    assessed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assessments_level ON assessments (level);
CREATE TABLE IF NOT EXISTS assessment_lines (
    line_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    PRIMARY KEY (line_id, symbol)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assessment_lines_symbol ON assessment_lines (symbol);
"""

# Ranking costs a BM25 evaluation per match (~0.6 us each); beyond this many matches a query is too
# broad for relevance to mean much, so results come newest first and SearchResult.sort says so.
RANK_LIMIT = 20000


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _highlights(notice: Notice, pattern: re.Pattern[str]) -> dict[str, str]:
    """Marked snippets of the fields (and translations) the query's terms occur in."""
    marks = {}
    for field in ("title", "products", "description"):
        snippet = highlight(getattr(notice, field), pattern)
        if snippet:
            marks[field] = snippet
    for lang, text in notice.translations.items():
        for field in ("title", "description"):
            snippet = highlight(getattr(text, field), pattern)
            if snippet:
                marks[f"{field}_{lang}"] = snippet
    return marks


@contextmanager
def _read_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so the count, the page and the facets see one state while writers commit."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class SqliteStore(NoticeStore):
    def __init__(self, db_path: Path | str):
        self.db_path = Path(db_path)
        self.results = ResultCache()
        ensure_schema(self._conn, "notices", SCHEMA)
        ensure_current(self._conn)

    @classmethod
    def from_settings(cls, settings: Settings) -> SqliteStore:
        """The store in the settings' ``archive_db`` file."""
        return cls(settings.archive_db)

    @property
    def _conn(self):
        return thread_connection(self.db_path)

    # -- writing ----------------------------------------------------------------------------
    def upsert(self, notices: Iterable[Notice]) -> UpsertResult:
        result = UpsertResult()
        batch: dict[str, Notice] = {}
        for notice in notices:  # merge repeats within one batch first (a joint page listed twice)
            batch[notice.symbol] = merge_notice(batch[notice.symbol], notice) if notice.symbol in batch else notice
        if not batch:
            return result
        now = _now()
        with transaction(self._conn) as conn:
            index = IndexBatch(conn)
            for notice in batch.values():
                row = conn.execute("SELECT id, data, content_hash FROM notices WHERE symbol = ?",
                                   (notice.symbol,)).fetchone()
                if row is None:
                    self._insert(conn, notice, now, index)
                    result.inserted.append(notice.symbol)
                    continue
                merged = merge_notice(Notice.from_stored(row["data"]), notice)
                digest = merged.content_hash()
                if digest == row["content_hash"]:
                    result.unchanged.append(notice.symbol)
                    continue
                self._update(conn, row["id"], merged, digest, now, index)
                result.updated.append(notice.symbol)
            index.flush()
        return result

    def _columns(self, notice: Notice, digest: str) -> tuple:
        return (notice.base_symbol, notice.area, notice.kind, notice.member_code,
                _iso(notice.distribution_date), _iso(notice.comment_deadline), digest, notice.model_dump_json())

    def _insert(self, conn, notice: Notice, now: str, index: IndexBatch) -> None:
        cur = conn.execute(
            """INSERT INTO notices (base_symbol, area, kind, member_code, distribution_date, comment_deadline,
                   content_hash, data, symbol, first_seen, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (*self._columns(notice, notice.content_hash()), notice.symbol, now, now))
        index.add(cur.lastrowid, notice)

    def _update(self, conn, notice_id: int, notice: Notice, digest: str, now: str, index: IndexBatch) -> None:
        conn.execute(
            """UPDATE notices SET base_symbol = ?, area = ?, kind = ?, member_code = ?, distribution_date = ?,
                   comment_deadline = ?, content_hash = ?, data = ?, updated_at = ? WHERE id = ?""",
            (*self._columns(notice, digest), now, notice_id))
        index.add(notice_id, notice)

    def put_assessments(self, assessments: Iterable[dict[str, Any]]) -> int:
        count = 0
        now = _now()
        with transaction(self._conn) as conn:
            seq = next_seq(conn)
            for a in assessments:
                if "error" in a and "symbol" not in a:
                    continue  # a classify error record for a malformed input line
                symbol = str(parse_symbol(a["symbol"]))
                conn.execute(
                    """INSERT INTO assessments (symbol, notice_hash, level, relevant, data, assessed_at)
                       VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (symbol) DO UPDATE SET notice_hash = excluded.notice_hash,
                           level = excluded.level, relevant = excluded.relevant, data = excluded.data,
                           assessed_at = excluded.assessed_at""",
                    (symbol, a.get("notice_hash"), a.get("level", "none"), int(bool(a.get("relevant"))),
                     json.dumps(a, ensure_ascii=False, default=str), now))
                lines = list(dict.fromkeys(str(p["id"]) for p in a.get("product_lines", [])))
                set_assessment(conn, symbol, a.get("level", "none"), lines, seq)
                conn.execute("DELETE FROM assessment_lines WHERE symbol = ?", (symbol,))
                conn.executemany("INSERT OR IGNORE INTO assessment_lines (line_id, symbol) VALUES (?, ?)",
                                 [(line, symbol) for line in lines])
                count += 1
        return count

    # -- reading ----------------------------------------------------------------------------
    def get(self, symbol: str) -> Notice | None:
        row = self._conn.execute("SELECT data FROM notices WHERE symbol = ?",
                                 (str(parse_symbol(symbol)),)).fetchone()
        return Notice.from_stored(row["data"]) if row else None

    def history(self, symbol: str) -> list[Notice]:
        base = str(parse_symbol(symbol).base)
        rows = self._conn.execute(
            """SELECT data FROM notices WHERE symbol = ? OR base_symbol = ?
               ORDER BY distribution_date IS NULL, distribution_date, symbol""", (base, base))
        return [Notice.from_stored(r["data"]) for r in rows]

    def iter_notices(self, since: dt.date | None = None, until: dt.date | None = None) -> Iterator[Notice]:
        sql, args = "SELECT data FROM notices WHERE 1 = 1", []
        if since:
            sql += " AND distribution_date >= ?"
            args.append(since.isoformat())
        if until:
            sql += " AND distribution_date <= ?"
            args.append(until.isoformat())
        cursor = self._conn.execute(sql + " ORDER BY distribution_date, symbol", args)
        for row in cursor:
            yield Notice.from_stored(row["data"])

    def count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM notices").fetchone()[0]

    def get_assessments(self, symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(str(parse_symbol(s)) for s in symbols))
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(wanted), 500):  # within SQLite's bound-parameter limit
            chunk = wanted[i:i + 500]
            found.update((r["symbol"], json.loads(r["data"])) for r in self._conn.execute(
                f"SELECT symbol, data FROM assessments WHERE symbol IN ({', '.join('?' * len(chunk))})", chunk))
        return found

    def stale_assessments(self) -> list[str]:
        rows = self._conn.execute(
            """SELECT n.symbol FROM notices n LEFT JOIN assessments a ON a.symbol = n.symbol
               WHERE a.symbol IS NULL OR a.notice_hash IS NOT n.content_hash ORDER BY n.id""")
        return [r[0] for r in rows]

    # -- search -----------------------------------------------------------------------------
    # Text and notice-level filters are one FTS5 MATCH over keys in the date range (see
    # archive.search_index); the remaining filters (comment deadline, assessment) select keys from
    # search_docs and the two key sets are intersected in numpy. Keys come out of SQLite as one
    # group_concat string: fetching 50,000 rows one by one costs 12 ms, the string 3 ms.
    _FTS_WHERE = "notices_fts MATCH ? AND rowid BETWEEN ? AND ?"

    @staticmethod
    def _post_filters(q: SearchQuery) -> tuple[str, list[Any]] | None:
        """The filters that are not notice tokens, as a WHERE on search_docs with its bound values."""
        where: list[str] = []
        args: list[Any] = []

        def any_of(column: str, values: list[str]) -> str:
            args.extend(values)
            return f"{column} IN ({', '.join('?' * len(values))})"

        if q.open_on:
            where.append("deadline >= ?")
            args.append(q.open_on.isoformat())
        if q.levels:
            where.append(any_of("level", q.levels))
        if q.product_lines:
            where.append("id IN (SELECT n.id FROM assessment_lines l JOIN notices n ON n.symbol = l.symbol WHERE "
                         f"{any_of('l.line_id', q.product_lines)})")
        return (" AND ".join(where), args) if where else None

    def _candidates(self, expression: str | None, low: int, high: int,
                    post: tuple[str, list[Any]] | None) -> np.ndarray:
        """Every matching key, ascending."""
        if post:  # "+key": the deadline/level index is the selective one, not the key range
            allowed = self._keys(f"SELECT group_concat(key) FROM search_docs WHERE +key BETWEEN ? AND ? AND {post[0]}",
                                 [low, high, *post[1]])
        if expression is None:
            return allowed if post else self._keys("SELECT group_concat(key) FROM search_docs WHERE key BETWEEN ? AND ?",
                                                   [low, high])
        keys = self._keys(f"SELECT group_concat(rowid) FROM notices_fts WHERE {self._FTS_WHERE}",
                          [expression, low, high])
        return np.intersect1d(keys, allowed, assume_unique=True) if post else keys

    def _keys(self, sql: str, args: list[Any]) -> np.ndarray:
        text = self._conn.execute(sql, args).fetchone()[0]
        return np.sort(np.fromstring(text, dtype=np.int64, sep=",")) if text else np.empty(0, dtype=np.int64)

    def _page(self, query: SearchQuery, sort: str, keys: np.ndarray | None, fts_args: list[Any],
              filtered_outside_fts: bool) -> list[tuple[int, float]]:
        """(key, score) of the requested page, in order."""
        window = slice(query.offset, query.offset + query.limit)
        if sort == "date" and keys is not None:
            return [(int(k), 0.0) for k in keys[::-1][window]]
        if sort == "date":  # newest first is the FTS index walked backwards
            rows = self._conn.execute(
                f"SELECT rowid, 0.0 FROM notices_fts WHERE {self._FTS_WHERE} ORDER BY rowid DESC LIMIT ? OFFSET ?",
                [*fts_args, query.limit, query.offset])
            return [(r[0], r[1]) for r in rows]
        if not filtered_outside_fts:  # every filter is in the MATCH: BM25 runs on the filtered matches only
            rows = self._conn.execute(
                f"""SELECT rowid, {BM25} AS score FROM notices_fts WHERE {self._FTS_WHERE}
                    ORDER BY score, rowid DESC LIMIT ? OFFSET ?""", [*fts_args, query.limit, query.offset])
            return [(r[0], -r[1]) for r in rows]
        # Score every text match, keep those that passed the other filters; best first, then newest.
        scored = self._conn.execute(  # an auxiliary function cannot sit inside an aggregate: hence the CTE
            f"""WITH m AS MATERIALIZED (SELECT rowid AS key, {BM25} AS score FROM notices_fts WHERE {self._FTS_WHERE})
                SELECT group_concat(key || ',' || score) FROM m""", fts_args).fetchone()[0]
        if not scored:
            return []
        pairs = np.fromstring(scored, sep=",").reshape(-1, 2)
        pairs = pairs[np.isin(pairs[:, 0].astype(np.int64), keys)]
        pairs = pairs[np.lexsort((-pairs[:, 0], pairs[:, 1]))][window]
        return [(int(k), -float(score)) for k, score in pairs]

    def _hits(self, page: list[tuple[int, float]], terms: list[Term]) -> list[Hit]:
        rows = {r["key"]: r for r in self._conn.execute(
            f"""SELECT d.key, n.data, d.lines, d.level  -- the assessment's, as set_assessment copies it
                FROM search_docs d JOIN notices n ON n.id = d.id
                WHERE d.key IN ({', '.join('?' * len(page))})""", [key for key, _ in page])}
        pattern = highlighter(terms)
        documents = NotifiedDocuments(self.db_path)
        hits = []
        for key, score in page:
            hit = Hit(stored=rows[key]["data"], score=score, level=rows[key]["level"],
                      product_lines=rows[key]["lines"].split())
            if pattern is not None:  # a search page reads the notice anyway; an export of a date range never
                hit.highlights = _highlights(hit.notice, pattern)
                passage = None if hit.highlights else documents.passage(hit.notice.symbol, pattern)
                if passage:  # found only inside a notified document: show where
                    hit.highlights["documents"] = passage[1]
            hits.append(hit)
        return hits

    def search(self, query: SearchQuery) -> SearchResult:
        terms = expanded(parse_query(query.text), query.expansions)
        text = fts_expression(terms, TEXT_FILTER, hs_match)
        expression = match_expression(text, query)
        low, high = key_range(query.since, query.until)
        post = self._post_filters(query)
        fts_args = [expression, low, high]
        conn = self._conn
        try:
            with _read_snapshot(conn):
                state = tuple(conn.execute("SELECT epoch, seq FROM search_state").fetchone())
                if (cached := self.results.get(state, query)) is not None:
                    return cached
                keys = None
                if expression is None or post or query.facets:
                    keys = self._candidates(expression, low, high, post)
                    total = len(keys)
                else:  # FTS5 counts a doclist without materialising it
                    total = conn.execute(f"SELECT count(*) FROM notices_fts WHERE {self._FTS_WHERE}",
                                         fts_args).fetchone()[0]
                sort = query.sort if text and total <= RANK_LIMIT else "date"
                hits = self._hits(self._page(query, sort, keys, fts_args, post is not None), terms)
                facets = facet_columns(self.db_path).counts(conn, keys) if query.facets else {}
        except sqlite3.OperationalError as exc:  # FTS5 refusing an expression it cannot run
            raise QueryError(f"the search could not be run: {exc}") from exc
        result = SearchResult(total=total, hits=hits, facets=facets, sort=sort)
        self.results.put(state, query, result)
        return result

    def reindex(self, symbols: Iterable[str]) -> int:
        """Index these notices again, e.g. after their notified documents were fetched; how many exist."""
        return reindex(self._conn, symbols)

    def rebuild_search_index(self) -> None:
        """Index every stored notice again (after a failed integrity check; the notices are the truth)."""
        rebuild(self._conn)

    def integrity_check(self) -> list[str]:
        """SQLite's own check plus the FTS index's; an empty list means consistent."""
        problems = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        try:
            self._conn.execute("INSERT INTO notices_fts (notices_fts) VALUES ('integrity-check')")
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            problems.append(f"notices_fts: {exc}")
        unindexed = self._conn.execute(
            """SELECT count(*) FROM notices n LEFT JOIN search_docs d ON d.id = n.id
               LEFT JOIN notices_fts f ON f.rowid = d.key WHERE f.rowid IS NULL""").fetchone()[0]
        if unindexed:
            problems.append(f"{unindexed} notices are missing from the search index: run rebuild_search_index()")
        return problems

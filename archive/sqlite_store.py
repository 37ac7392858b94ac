"""The embedded notice store: one SQLite file, WAL, FTS5 with BM25 ranking.

Each notice is kept whole as JSON (the record) with the columns that filters and
facets need beside it, its HS codes and objectives in side tables (prefix
filters and facets are index range scans), and its text in an FTS5 table
(Chinese as bigrams, see ``archive.text``). All writes of one upsert batch are a
single transaction, so a crash leaves either the old or the new state.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from archive.base import (
    FACET_FIELDS, Facet, Hit, NoticeStore, QueryError, SearchQuery, SearchResult, UpsertResult,
)
from archive.db import ensure_schema, thread_connection, transaction
from archive.text import fts_expression, highlight, highlighter, index_text, parse_query
from tbtwatch.model import Notice, merge_notice
from tbtwatch.symbols import parse_symbol

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
CREATE TABLE IF NOT EXISTS notice_hs (
    code TEXT NOT NULL,
    notice_id INTEGER NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    PRIMARY KEY (code, notice_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notice_hs_notice ON notice_hs (notice_id);
CREATE TABLE IF NOT EXISTS notice_objectives (
    objective TEXT NOT NULL,
    notice_id INTEGER NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    PRIMARY KEY (objective, notice_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notice_objectives_notice ON notice_objectives (notice_id);
CREATE VIRTUAL TABLE IF NOT EXISTS notices_fts USING fts5 (
    title, products, description, translations,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
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

BM25_WEIGHTS = (5.0, 3.0, 1.0, 2.0)  # title, products, description, translations
BM25_SQL = ", ".join(str(w) for w in BM25_WEIGHTS)
# Ranking costs a BM25 evaluation per match (~0.6 us each); beyond this many matches a query is too
# broad for relevance to mean much, so results come newest first and SearchResult.sort says so.
RANK_LIMIT = 20000
_FACET_SQL = {
    "member": "SELECT n.member_code, count(*) FROM notices n WHERE n.id IN ({ids}) GROUP BY 1",
    "area": "SELECT n.area, count(*) FROM notices n WHERE n.id IN ({ids}) GROUP BY 1",
    "year": "SELECT substr(n.distribution_date, 1, 4), count(*) FROM notices n WHERE n.id IN ({ids}) "
            "AND n.distribution_date IS NOT NULL GROUP BY 1",
    "hs_chapter": "SELECT substr(h.code, 1, 2), count(DISTINCT h.notice_id) FROM notice_hs h "
                  "WHERE h.notice_id IN ({ids}) GROUP BY 1",
    "objective": "SELECT o.objective, count(*) FROM notice_objectives o WHERE o.notice_id IN ({ids}) GROUP BY 1",
    "level": "SELECT a.level, count(*) FROM notices n JOIN assessments a ON a.symbol = n.symbol "
             "WHERE n.id IN ({ids}) GROUP BY 1",
}
FACET_SIZE = 20


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class SqliteStore(NoticeStore):
    def __init__(self, db_path: Path | str):
        self.db_path = Path(db_path)
        ensure_schema(self._conn, "notices", SCHEMA)

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
            for notice in batch.values():
                row = conn.execute("SELECT id, data, content_hash FROM notices WHERE symbol = ?",
                                   (notice.symbol,)).fetchone()
                if row is None:
                    self._insert(conn, notice, now)
                    result.inserted.append(notice.symbol)
                    continue
                merged = merge_notice(Notice.model_validate_json(row["data"]), notice)
                digest = merged.content_hash()
                if digest == row["content_hash"]:
                    result.unchanged.append(notice.symbol)
                    continue
                self._update(conn, row["id"], merged, digest, now)
                result.updated.append(notice.symbol)
        return result

    def _columns(self, notice: Notice, digest: str) -> tuple:
        return (notice.base_symbol, notice.area, notice.kind, notice.member_code,
                _iso(notice.distribution_date), _iso(notice.comment_deadline), digest, notice.model_dump_json())

    def _insert(self, conn, notice: Notice, now: str) -> None:
        cur = conn.execute(
            """INSERT INTO notices (base_symbol, area, kind, member_code, distribution_date, comment_deadline,
                   content_hash, data, symbol, first_seen, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (*self._columns(notice, notice.content_hash()), notice.symbol, now, now))
        self._write_side_tables(conn, cur.lastrowid, notice, replace=False)

    def _update(self, conn, notice_id: int, notice: Notice, digest: str, now: str) -> None:
        conn.execute(
            """UPDATE notices SET base_symbol = ?, area = ?, kind = ?, member_code = ?, distribution_date = ?,
                   comment_deadline = ?, content_hash = ?, data = ?, updated_at = ? WHERE id = ?""",
            (*self._columns(notice, digest), now, notice_id))
        self._write_side_tables(conn, notice_id, notice, replace=True)

    @staticmethod
    def _write_side_tables(conn, notice_id: int, notice: Notice, *, replace: bool) -> None:
        if replace:
            conn.execute("DELETE FROM notice_hs WHERE notice_id = ?", (notice_id,))
            conn.execute("DELETE FROM notice_objectives WHERE notice_id = ?", (notice_id,))
            conn.execute("DELETE FROM notices_fts WHERE rowid = ?", (notice_id,))
        conn.executemany("INSERT OR IGNORE INTO notice_hs (code, notice_id) VALUES (?, ?)",
                         [(code, notice_id) for code in notice.hs_codes])
        conn.executemany("INSERT OR IGNORE INTO notice_objectives (objective, notice_id) VALUES (?, ?)",
                         [(o, notice_id) for o in notice.objectives])
        translations = "\n".join(f"{t.title}\n{t.products}\n{t.description}" for t in notice.translations.values())
        conn.execute(
            "INSERT INTO notices_fts (rowid, title, products, description, translations) VALUES (?, ?, ?, ?, ?)",
            (notice_id, index_text(f"{notice.symbol} {notice.title}"), index_text(notice.products),
             index_text(notice.description), index_text(translations)))

    def put_assessments(self, assessments: Iterable[dict[str, Any]]) -> int:
        count = 0
        now = _now()
        with transaction(self._conn) as conn:
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
                conn.execute("DELETE FROM assessment_lines WHERE symbol = ?", (symbol,))
                conn.executemany("INSERT OR IGNORE INTO assessment_lines (line_id, symbol) VALUES (?, ?)",
                                 [(p["id"], symbol) for p in a.get("product_lines", [])])
                count += 1
        return count

    # -- reading ----------------------------------------------------------------------------
    def get(self, symbol: str) -> Notice | None:
        row = self._conn.execute("SELECT data FROM notices WHERE symbol = ?",
                                 (str(parse_symbol(symbol)),)).fetchone()
        return Notice.model_validate_json(row["data"]) if row else None

    def history(self, symbol: str) -> list[Notice]:
        base = str(parse_symbol(symbol).base)
        rows = self._conn.execute(
            """SELECT data FROM notices WHERE symbol = ? OR base_symbol = ?
               ORDER BY distribution_date IS NULL, distribution_date, symbol""", (base, base))
        return [Notice.model_validate_json(r["data"]) for r in rows]

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
            yield Notice.model_validate_json(row["data"])

    def count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM notices").fetchone()[0]

    def get_assessment(self, symbol: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT data FROM assessments WHERE symbol = ?",
                                 (str(parse_symbol(symbol)),)).fetchone()
        return json.loads(row["data"]) if row else None

    def stale_assessments(self) -> list[str]:
        rows = self._conn.execute(
            """SELECT n.symbol FROM notices n LEFT JOIN assessments a ON a.symbol = n.symbol
               WHERE a.symbol IS NULL OR a.notice_hash IS NOT n.content_hash ORDER BY n.id""")
        return [r[0] for r in rows]

    # -- search -----------------------------------------------------------------------------
    def _filters(self, q: SearchQuery) -> tuple[list[str], list[Any]]:
        """WHERE fragments (fixed SQL text) and their bound values."""
        where: list[str] = []
        args: list[Any] = []

        def any_of(column: str, values: list[str]) -> None:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            args.extend(values)

        if q.areas:
            any_of("n.area", q.areas)
        if q.members:
            any_of("n.member_code", q.members)
        if q.since:
            where.append("n.distribution_date >= ?")
            args.append(q.since.isoformat())
        if q.until:
            where.append("n.distribution_date <= ?")
            args.append(q.until.isoformat())
        if q.open_on:
            where.append("n.comment_deadline >= ?")
            args.append(q.open_on.isoformat())
        if q.hs_prefixes:
            ranges = " OR ".join("(h.code >= ? AND h.code < ?)" for _ in q.hs_prefixes)
            where.append(f"EXISTS (SELECT 1 FROM notice_hs h WHERE h.notice_id = n.id AND ({ranges}))")
            for prefix in q.hs_prefixes:
                args.extend([prefix, prefix + "\uffff"])
        if q.objectives:
            where.append("EXISTS (SELECT 1 FROM notice_objectives o WHERE o.notice_id = n.id AND o.objective IN "
                         f"({', '.join('?' * len(q.objectives))}))")
            args.extend(q.objectives)
        if q.product_lines:
            where.append("EXISTS (SELECT 1 FROM assessment_lines l WHERE l.symbol = n.symbol AND l.line_id IN "
                         f"({', '.join('?' * len(q.product_lines))}))")
            args.extend(q.product_lines)
        if q.levels:
            where.append("EXISTS (SELECT 1 FROM assessments a WHERE a.symbol = n.symbol AND a.level IN "
                         f"({', '.join('?' * len(q.levels))}))")
            args.extend(q.levels)
        return where, args

    def search(self, query: SearchQuery) -> SearchResult:
        terms = parse_query(query.text)
        expression = fts_expression(terms)
        where, args = self._filters(query)
        clause = " AND ".join(where) or "1 = 1"
        conn = self._conn
        try:
            if expression:
                # Full-text matches first, then the filters: left to itself the planner may walk a
                # filter's index and run the MATCH once per row, which is 100x slower.
                with_ = "WITH m AS MATERIALIZED (SELECT rowid AS id FROM notices_fts WHERE notices_fts MATCH ?) "
                source = "m JOIN notices n ON n.id = m.id"
                args = [expression, *args]
            else:
                with_, source = "", "notices n"
            total = conn.execute(f"{with_}SELECT count(*) FROM {source} WHERE {clause}", args).fetchone()[0]
            sort = query.sort if expression and total <= RANK_LIMIT else "date"
            if sort == "relevance":
                with_ = (f"WITH m AS MATERIALIZED (SELECT rowid AS id, bm25(notices_fts, {BM25_SQL}) AS score "
                         "FROM notices_fts WHERE notices_fts MATCH ?) ")
                order, score = "m.score, n.distribution_date DESC", "m.score"
            else:
                order, score = "n.distribution_date IS NULL, n.distribution_date DESC, n.symbol DESC", "0.0"
            rows = conn.execute(
                f"""{with_}SELECT n.data, {score} AS score,
                           (SELECT a.level FROM assessments a WHERE a.symbol = n.symbol) AS level
                    FROM {source} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?""",
                [*args, query.limit, query.offset]).fetchall()
            facets = self._facets(with_, source, clause, args) if query.facets else {}
        except sqlite3.OperationalError as exc:  # FTS5 refusing an expression it cannot run
            raise QueryError(f"the search could not be run: {exc}") from exc
        pattern = highlighter(terms)
        hits = []
        for row in rows:
            notice = Notice.model_validate_json(row["data"])
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
            hits.append(Hit(notice=notice, score=-float(row["score"]), highlights=marks, level=row["level"]))
        return SearchResult(total=total, hits=hits, facets=facets, sort=sort)

    def _facets(self, with_: str, source: str, clause: str, args: list[Any]) -> dict[str, list[Facet]]:
        conn = self._conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS facet_ids (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM facet_ids")
        conn.execute(f"{with_}INSERT INTO facet_ids SELECT n.id FROM {source} WHERE {clause}", args)
        facets = {}
        for name in FACET_FIELDS:
            rows = conn.execute(_FACET_SQL[name].format(ids="SELECT id FROM facet_ids")).fetchall()
            ordered = sorted(((r[0], r[1]) for r in rows if r[0] is not None), key=lambda vc: (-vc[1], vc[0]))
            facets[name] = [Facet(str(v), int(c)) for v, c in ordered[:FACET_SIZE]]
        conn.execute("DELETE FROM facet_ids")
        return facets

    def integrity_check(self) -> list[str]:
        """SQLite's own check plus the FTS index's; an empty list means consistent."""
        problems = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        try:
            self._conn.execute("INSERT INTO notices_fts (notices_fts) VALUES ('integrity-check')")
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            problems.append(f"notices_fts: {exc}")
        return problems

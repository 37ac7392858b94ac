"""Near-duplicate notices: one text notified separately by several members (EAC, GCC) becomes one group.

Members of a customs union notify the same draft on the same day, each under
its own symbol (G/TBT/N/BDI/334, G/TBT/N/KEN/1396, ... five copies). Readers
want one alert, one digest entry and one review item naming every symbol and
member, while each notice keeps its own record. Two notices are grouped when

- a notice lists the other among its joint symbols (a portal page showing all
  five symbols of one text: declared, no measurement needed), or
- they come from different members, in the same area (TBT/SPS) and of the same
  kind (regular, addendum, ...), distributed at most ``WINDOW_DAYS`` apart, and
  their texts (title + products + description) are ``SIMILARITY_THRESHOLD``
  alike. Groups are closed under these links (union-find).

Similarity is the overlap coefficient |A∩B| / min(|A|, |B|) of token-bigram
shingles: Latin words and single Chinese characters are tokens, so Chinese is
compared by character bigrams. Overlap (not Jaccard) because portals store
excerpts cut at different lengths: a copy cut to half its description still
contains almost all of its shingles in the full text. Texts too short to judge
(fewer than ``MIN_SHINGLES`` shingles) fall back to Jaccard, so "玩具" alone
never swallows a longer notice.

Measured on the real records of ``shared/data/notices/dev.jsonl`` (73 that
validate; ``tests/alerts9/test_grouping.py`` recomputes these figures and fails
if the gap closes). Positive pairs: each joint record (12 EAC filings listing
5 members, the GCC filing listing 7) against every other member's copy, as
filed (identical text) and with the description cut to 85 %, 70 % and 50 %
(220 pairs): minimum similarity 1.0 (full), 0.962 (85 %), 0.957 (70 %), 0.947
(50 %). Negative pairs: all 2,628 pairs of distinct notices: maximum 0.653 (two
EAC adoption addenda of one day, G/TBT/N/BDI/268/Add.1 vs BDI/244/Add.1,
sharing their boilerplate), then 0.607 (EAC cattle feed vs poultry feed, 3 days
apart, same HS 230990); the real pair of one member on one day (RWA/787 soft
drinks vs RWA/783 chili) scores 0.33. The threshold 0.80 sits in the middle of
the gap 0.653-0.947, about 0.15 from either side.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from archive.base import NoticeStore
from archive.db import ensure_schema, thread_connection, transaction
from tbtwatch.model import Notice
from tbtwatch.settings import Settings
from tbtwatch.symbols import SymbolError, parse_symbol

SIMILARITY_THRESHOLD = 0.80
WINDOW_DAYS = 3
MIN_SHINGLES = 10
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+")

SCHEMA = """
CREATE TABLE IF NOT EXISTS notice_groups (
    symbol TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('declared', 'similar', 'lead')),
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notice_groups_group ON notice_groups(group_id);
"""


@lru_cache(maxsize=4096)
def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """Token bigrams of NFKC-folded text (single tokens when the text has only one)."""
    tokens = _TOKEN.findall(unicodedata.normalize("NFKC", text or "").casefold())
    if len(tokens) < 2:
        return frozenset((t,) for t in tokens)
    return frozenset(zip(tokens, tokens[1:], strict=False))


def _comparable_text(notice: Notice, lang: str) -> str:
    text = notice.text(lang)
    return " ".join([text.title, text.products, text.description])


def _languages(notice: Notice) -> set[str]:
    return {notice.language, *notice.translations}


def shingle_similarity(a: frozenset, b: frozenset) -> float:
    """Overlap coefficient, or Jaccard when either side is too short to judge by overlap."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    if min(len(a), len(b)) < MIN_SHINGLES:
        return common / len(a | b)
    return common / min(len(a), len(b))


def similarity(a: Notice, b: Notice) -> float:
    """How alike two notices' texts are, compared in a language both have (English first); 0 when none."""
    common = _languages(a) & _languages(b)
    lang = "en" if "en" in common else next(iter(sorted(common)), None)
    if lang is None:
        return 0.0
    return shingle_similarity(shingles(_comparable_text(a, lang)), shingles(_comparable_text(b, lang)))


def _member_of(symbol: str) -> str:
    try:
        return parse_symbol(symbol).member_code
    except SymbolError:
        return ""


def may_group(a: Notice, b: Notice) -> bool:
    """The conditions besides similarity: other member, same area and kind, distributed close together."""
    if a.member_code == b.member_code or a.area != b.area or a.kind != b.kind:
        return False
    if a.distribution_date is None or b.distribution_date is None:
        return False
    return abs((a.distribution_date - b.distribution_date).days) <= WINDOW_DAYS


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def sets(self) -> list[list[str]]:
        found: dict[str, list[str]] = {}
        for x in self.parent:
            found.setdefault(self.find(x), []).append(x)
        return [sorted(v) for v in found.values() if len(v) > 1]


@dataclass
class FoundGroups:
    """Groups (each two or more symbols) and how each symbol joined: 'declared' or 'similar'."""

    groups: list[list[str]]
    reasons: dict[str, str]


def find_groups(notices: Sequence[Notice]) -> FoundGroups:
    """Group ``notices`` (and the joint symbols they declare, even ones not in the archive yet)."""
    links = _UnionFind()
    reasons: dict[str, str] = {}
    for notice in notices:
        for other in notice.symbols:
            if other != notice.symbol and _member_of(other) != notice.member_code:
                links.union(notice.symbol, other)
                reasons.setdefault(other, "declared")
                reasons.setdefault(notice.symbol, "declared")
    ordered = sorted((n for n in notices if n.distribution_date), key=lambda n: n.distribution_date)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if (b.distribution_date - a.distribution_date).days > WINDOW_DAYS:
                break
            if may_group(a, b) and similarity(a, b) >= SIMILARITY_THRESHOLD:
                links.union(a.symbol, b.symbol)
                reasons.setdefault(a.symbol, "similar")
                reasons.setdefault(b.symbol, "similar")
    return FoundGroups(links.sets(), reasons)


@dataclass
class Group:
    id: str  # the symbol that leads the group (alerts, the digest and the review queue use it)
    symbols: list[str]  # every symbol, the lead first

    def others(self, symbol: str) -> list[str]:
        return [s for s in self.symbols if s != symbol]


def text_group(symbol: str, symbols: list[str], groups: dict[str, Group]) -> Group | None:
    """The group of a notice's text (``symbol`` and ``symbols`` are the notice's): its near-duplicate group
    (``groups``: symbol -> group), or, for one notice stored under several members' symbols, those symbols;
    None for a text notified once."""
    group = groups.get(symbol)
    if group is None and len(symbols) > 1:
        group = Group(symbols[0], list(symbols))
    return group


class NoticeGroups:
    """The ``notice_groups`` table: which group each grouped symbol belongs to (ungrouped symbols are absent)."""

    def __init__(self, settings: Settings):
        self.conn: sqlite3.Connection = thread_connection(settings.archive_db)
        ensure_schema(self.conn, "alerts.grouping", SCHEMA)

    def group_of(self, symbol: str) -> Group | None:
        row = self.conn.execute("SELECT group_id FROM notice_groups WHERE symbol = ?", (symbol,)).fetchone()
        return self._group(row["group_id"]) if row else None

    def _group(self, group_id: str) -> Group:
        rows = self.conn.execute(
            "SELECT symbol FROM notice_groups WHERE group_id = ? ORDER BY symbol = group_id DESC, symbol",
            (group_id,),
        )
        return Group(group_id, [r["symbol"] for r in rows])

    def groups_of(self, symbols: list[str]) -> dict[str, Group]:
        """Symbol -> its group, for a page of search results (ungrouped symbols are left out)."""
        marks = ",".join("?" * len(symbols))
        rows = self.conn.execute(
            f"SELECT symbol, group_id FROM notice_groups WHERE symbol IN ({marks})", symbols
        ).fetchall()
        groups = {g: self._group(g) for g in {r["group_id"] for r in rows}}
        return {r["symbol"]: groups[r["group_id"]] for r in rows}

    def lead_of(self, symbol: str) -> str:
        group = self.group_of(symbol)
        return group.id if group else symbol

    def save(self, found: FoundGroups, leads: dict[str, str] | None = None) -> list[Group]:
        """Store groups; a group that overlaps a stored one keeps (and extends) the stored group's id."""
        leads = leads or {}
        saved = []
        stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        with transaction(self.conn) as conn:
            for symbols in found.groups:
                marks = ",".join("?" * len(symbols))
                known = [
                    r["group_id"]
                    for r in conn.execute(
                        f"SELECT DISTINCT group_id FROM notice_groups WHERE symbol IN ({marks})", symbols
                    )
                ]
                group_id = min(known) if known else leads.get(symbols[0], symbols[0])
                if known:  # merging stored groups: their members move to the surviving id
                    others = [g for g in known if g != group_id]
                    conn.executemany(
                        "UPDATE notice_groups SET group_id = ? WHERE group_id = ?",
                        [(group_id, g) for g in others],
                    )
                conn.executemany(
                    "INSERT INTO notice_groups (symbol, group_id, reason, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(symbol) DO UPDATE SET group_id = excluded.group_id, "
                    "updated_at = excluded.updated_at",
                    [
                        (s, group_id, "lead" if s == group_id else found.reasons.get(s, "similar"), stamp)
                        for s in symbols
                    ],
                )
                saved.append(group_id)
        return [self._group(g) for g in dict.fromkeys(saved)]


def _lead(members: Iterable[Notice]) -> str:
    """The earliest distributed notice leads; ties go to the first symbol in order."""
    return min(members, key=lambda n: (n.distribution_date or dt.date.max, n.symbol)).symbol


def refresh_groups(settings: Settings, store: NoticeStore, days: Iterable[dt.date]) -> NoticeGroups:
    """Group the notices distributed around ``days`` (± ``WINDOW_DAYS``) and store the groups."""
    days = sorted(days)
    window = dt.timedelta(days=WINDOW_DAYS)
    notices = list(store.iter_notices(days[0] - window, days[-1] + window))
    found = find_groups(notices)
    by_symbol = {n.symbol: n for n in notices}
    leads = {}
    for symbols in found.groups:
        present = [by_symbol[s] for s in symbols if s in by_symbol]
        if present:
            leads[symbols[0]] = _lead(present)
    table = NoticeGroups(settings)
    table.save(found, leads)
    return table

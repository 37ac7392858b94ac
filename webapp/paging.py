"""Paging through a result set that grows while it is read: offset pages, and a cursor that does not shift.

Offset paging (``offset=40``) counts from the top of the result set, so a notice
arriving between two requests above that point pushes every later notice down
one place: a walk through the pages then sees one notice twice (and, if a notice
is corrected away, skips one). Date-ordered results (``sort=date``, or any search
without words) can instead be walked with a cursor, ``after=<day>~<symbol>``:
the distribution day and symbol of the last notice of the previous page. The
next page is that day's notices after the cursor, in the store's own order,
then the days before it. A notice that arrives meanwhile lands either before the
cursor (never seen by this walk: it is newer than the walk's position) or
after it (seen once, when the walk gets there), so every notice that existed
when the walk started comes exactly once. Only a notice whose distribution date
is corrected during the walk can move.

Nothing here depends on a backend: the cursor is resolved with ordinary date
filters of ``SearchQuery``, so SQLite and Elasticsearch page the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from archive.base import Hit, NoticeStore, QueryError, SearchQuery

UNDATED = "undated"
SEPARATOR = "~"
DAY_MAX = 5000  # a whole day's notices in one request (the SQLite store keys at most 4,096 a day)
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Cursor:
    """The last notice a page ended with: its distribution day (None when undated) and symbol."""

    day: dt.date | None
    symbol: str

    def __str__(self) -> str:
        return f"{self.day.isoformat() if self.day else UNDATED}{SEPARATOR}{self.symbol}"

    @classmethod
    def of(cls, hit: Hit) -> Cursor:
        return cls(hit.notice.distribution_date, hit.notice.symbol)

    @classmethod
    def parse(cls, text: str) -> Cursor:
        day, sep, symbol = text.strip().partition(SEPARATOR)
        try:
            if not sep or not symbol:
                raise ValueError
            return cls(None if day == UNDATED else dt.date.fromisoformat(day), symbol)
        except ValueError:
            raise QueryError(
                f"after {text!r}: use the after= value of a next link "
                f"(a day and a symbol, e.g. 2025-07-22{SEPARATOR}G/TBT/N/EU/1132)"
            ) from None


def date_ordered(query: SearchQuery) -> bool:
    """Results come newest first: asked for, or no words to rank by."""
    return query.sort == "date" or not query.text.strip()


def _store_order(store: NoticeStore, query: SearchQuery, **changes) -> list[Hit]:
    return store.search(
        dataclasses.replace(query, **{"sort": "date", "offset": 0, "facets": False, **changes})
    ).hits


def _undated(store: NoticeStore, query: SearchQuery) -> list[Hit]:
    """The query's undated notices, in the store's order (they come after every dated one)."""
    everything = store.search(query.counting(facets=False)).total
    every_day = dataclasses.replace(query, since=dt.date.min, until=dt.date.max)
    dated = store.search(every_day.counting(facets=False)).total
    if everything == dated:
        return []
    tail = _store_order(store, query, limit=everything - dated + DAY_MAX, offset=dated)
    return [h for h in tail if h.notice.distribution_date is None]


def _day(store: NoticeStore, query: SearchQuery, day: dt.date | None) -> list[Hit]:
    if day is None:
        return _undated(store, query)
    return _store_order(store, query, since=day, until=day, limit=DAY_MAX)


def page_after(store: NoticeStore, query: SearchQuery, after: Cursor) -> list[Hit]:
    """The ``query.limit`` notices after ``after`` in the date order (``query.offset`` is not used)."""
    if not date_ordered(query):
        raise QueryError(
            "after= pages in date order: add sort=date (relevance ranks change as notices arrive)"
        )
    if after.day is not None and (
        (query.since and after.day < query.since) or (query.until and after.day > query.until)
    ):
        raise QueryError(f"after {after}: that day is outside since/until; start again without after=")
    day = _day(store, query, after.day)
    symbols = [h.notice.symbol for h in day]
    if after.symbol not in symbols:
        raise QueryError(
            f"after {after}: {after.symbol} is not among that day's results (its date was corrected, "
            "or the search changed): start again without after="
        )
    hits = day[symbols.index(after.symbol) + 1 :][: query.limit]
    if after.day is None:
        return hits  # the undated notices come last
    before = after.day - ONE_DAY
    if len(hits) < query.limit and not (query.since and before < query.since):
        hits += _store_order(
            store, query, since=query.since or dt.date.min, until=before, limit=query.limit - len(hits)
        )
    if len(hits) < query.limit and query.since is None and query.until is None:
        hits += _undated(store, query)[: query.limit - len(hits)]
    return hits


def pages(
    store: NoticeStore, query: SearchQuery, size: int, after: Cursor | None = None
) -> Iterator[list[Hit]]:
    """Pages of at most ``size`` hits from ``query.offset`` (or after ``after``) to the end.

    Date-ordered results continue each page after the previous page's last notice, so
    an export streamed while a crawl writes neither repeats nor skips a notice.
    """
    offset, cursor = query.offset, after
    while True:
        if cursor is not None:
            hits = page_after(store, dataclasses.replace(query, limit=size), cursor)
        else:
            hits = store.search(dataclasses.replace(query, limit=size, offset=offset, facets=False)).hits
        if not hits:
            return
        yield hits
        if len(hits) < size:
            return
        offset += len(hits)
        if date_ordered(query):
            cursor = Cursor.of(hits[-1])

"""Search parameters as the page, the exports and the API take them, checked once into a ``SearchQuery``.

One dependency class serves every route, so ``/search``, ``/export.csv`` and
``/api/search`` accept exactly the same filters; each bad value is a
``QueryError`` naming the parameter (400 on the API, a message on the page).
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query

from archive.base import QueryError, SearchQuery
from archive.query import MAX_LIMIT, build_query
from webapp.paging import Cursor

T = TypeVar("T")
TRUE = {"1", "true", "yes", "on"}
FALSE = {"", "0", "false", "no", "off"}


def parse_day(name: str, value: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value!r}: use a date written YYYY-MM-DD, e.g. 2025-03-01") from None


def parse_int(name: str, value: str | None, default: int) -> int:
    value = (value or "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise QueryError(f"{name} {value!r}: use a whole number") from None


def parse_flag(name: str, value: str) -> bool:
    value = (value or "").strip().lower()
    if value in TRUE | FALSE:
        return value in TRUE
    raise QueryError(f"{name} {value!r}: use 1 or 0")



class SearchParams:
    """The search form's fields (repeat a parameter to give several values)."""

    def __init__(
        self,
        q: Annotated[str, Query(max_length=500, description='words or "a phrase", English or Chinese; -word excludes')] = "",
        area: Annotated[list[str], Query(description="TBT or SPS")] = [],  # noqa: B006 - FastAPI copies defaults
        member: Annotated[list[str], Query(description="member code or name (EU, 欧盟, United States)")] = [],  # noqa: B006
        hs: Annotated[list[str], Query(description="HS code prefix: 85, 8507 or 850760")] = [],  # noqa: B006
        line: Annotated[list[str], Query(description="product line id from the catalogue")] = [],  # noqa: B006
        objective: Annotated[list[str], Query(description="objective as notified")] = [],  # noqa: B006
        level: Annotated[list[str], Query(description="warning level: high, medium, low, none")] = [],  # noqa: B006
        since: Annotated[str, Query(description="distributed on or after (YYYY-MM-DD)")] = "",
        until: Annotated[str, Query(description="distributed on or before (YYYY-MM-DD)")] = "",
        open: Annotated[str, Query(description="1: only notices still open for comment today")] = "",
        sort: Annotated[str, Query(description="relevance or date")] = "relevance",
    ):
        self.q, self.area, self.member, self.hs, self.line = q, area, member, hs, line
        self.objective, self.level, self.since, self.until, self.open, self.sort = (
            objective, level, since, until, open, sort)

    def query(self, *, today: dt.date, limit: int = 20, offset: int = 0, facets: bool = False) -> SearchQuery:
        """The checked query; raises ``QueryError`` naming the first bad parameter. ``today``: the settings' day
        (``Settings.today``), which ``open`` is about."""
        open_now = parse_flag("open", self.open)
        return build_query(text=self.q, areas=self.area, members=self.member, hs_prefixes=self.hs,
                           product_lines=self.line, objectives=self.objective, levels=self.level,
                           since=parse_day("since", self.since), until=parse_day("until", self.until),
                           open_on=today if open_now else None, sort=self.sort or "relevance",
                           limit=limit, offset=offset, facets=facets)

    @property
    def filtered(self) -> bool:
        return any([self.q.strip(), self.area, self.member, self.hs, self.line, self.objective, self.level,
                    self.since, self.until, self.open])


class Paging:
    """``limit``/``offset`` or the ``after`` cursor for the API (and ``page`` for the HTML result list)."""

    def __init__(
        self,
        limit: Annotated[str, Query(description=f"results per page, 1 to {MAX_LIMIT}")] = "",
        offset: Annotated[str, Query(description="results to skip (pages can shift when notices arrive between "
                                                 "requests: follow `next`, which uses `after` where it can)")] = "",
        page: Annotated[str, Query(description="page number (HTML pages), from 1")] = "",
        after: Annotated[str, Query(max_length=200, description=(
            "date-ordered results only: continue after this notice (`<day>~<symbol>`, as in the `next` link); "
            "pages do not shift when notices arrive"))] = "",
    ):
        self.raw = (limit, offset, page)
        self.after = after

    def cursor(self) -> Cursor | None:
        """The ``after`` cursor, if given (not together with ``offset`` or ``page``)."""
        if not self.after.strip():
            return None
        if any(v.strip() for v in self.raw[1:]):
            raise QueryError("after= continues a walk by itself: leave out offset and page")
        return Cursor.parse(self.after)

    def resolve(self, default_limit: int = 20) -> tuple[int, int]:
        limit_s, offset_s, page_s = self.raw
        limit = parse_int("limit", limit_s, default_limit)
        offset = parse_int("offset", offset_s, 0)
        page = parse_int("page", page_s, 0)
        if page_s.strip():
            if page < 1:
                raise QueryError(f"page {page}: pages are numbered from 1")
            offset = (page - 1) * limit
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit {limit}: use 1 to {MAX_LIMIT}")
        return limit, offset


def in_loop(cls: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``cls`` as an async dependency with the same parameters. FastAPI runs a plain (class) dependency in
    its thread pool: a hop, and a turn at the GIL among the pool's threads, per request and dependency,
    for what only copies query values (under load it made up a fifth of a search's time in Python)."""
    async def make(**values: Any) -> T:
        return cls(**values)

    make.__signature__ = inspect.signature(cls)  # type: ignore[attr-defined]
    make.__name__ = make.__qualname__ = f"{getattr(cls, '__name__', 'dependency')}_params"
    return make


search_params = in_loop(SearchParams)
paging_params = in_loop(Paging)

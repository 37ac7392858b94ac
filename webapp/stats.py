"""The statistics page's figures, computed through the store's search and facets (so both backends work).

Each month is one filtered search with facets (area, member, level); the
product lines are the product-line facet of one search (the ``FACET_SIZE`` most
frequent lines); open comment periods are one search.
Bar charts are laid out here as plain numbers and drawn as inline SVG by the
template (no script, nothing for the CSP to allow).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from archive.base import Facet, NoticeStore, SearchQuery
from tbtwatch.model import Notice

CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 720, 180, 4


@dataclass
class Month:
    start: dt.date
    total: int
    areas: dict[str, int]
    members: list[Facet]

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def end(self) -> dt.date:
        return month_end(self.start)


@dataclass
class Bar:
    label: str
    x: float
    width: float
    segments: list[tuple[str, float, float, int]] = field(default_factory=list)  # (class, y, height, count)


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def month_end(start: dt.date) -> dt.date:
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def monthly(store: NoticeStore, today: dt.date, months: int) -> list[Month]:
    rows = []
    for start in month_starts(today, months):
        result = store.search(SearchQuery(since=start, until=month_end(start), limit=1, facets=True, sort="date"))
        rows.append(Month(start, result.total, {f.value: f.count for f in result.facets.get("area", [])},
                          result.facets.get("member", [])))
    return rows


def stacked_bars(months: list[Month], areas: tuple[str, ...] = ("TBT", "SPS")) -> list[Bar]:
    """Bars per month, one segment per area, scaled to the chart's height."""
    if not months:
        return []
    peak = max(m.total for m in months) or 1
    width = CHART_WIDTH / len(months)
    bars = []
    for i, m in enumerate(months):
        bar = Bar(m.label, i * width + BAR_GAP / 2, width - BAR_GAP)
        y = float(CHART_HEIGHT)
        for area in areas:
            count = m.areas.get(area, 0)
            height = CHART_HEIGHT * count / peak
            y -= height
            bar.segments.append((area.lower(), y, height, count))
        bars.append(bar)
    return bars


def line_counts(store: NoticeStore, since: dt.date) -> list[tuple[str, int]]:
    """Notices assessed under each product line since ``since``, most first (one search, its facet)."""
    result = store.search(SearchQuery(since=since, limit=1, facets=True, sort="date"))
    return [(f.value, f.count) for f in result.facets.get("product_line", [])]


def open_for_comment(store: NoticeStore, today: dt.date, limit: int = 200) -> tuple[int, list[Facet], list[Notice]]:
    """How many notices are open for comment, by member, and those closing first."""
    result = store.search(SearchQuery(open_on=today, limit=limit, facets=True, sort="date"))
    closing = sorted((h.notice for h in result.hits), key=lambda n: (n.comment_deadline, n.symbol))
    return result.total, result.facets.get("member", []), closing[:25]

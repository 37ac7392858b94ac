"""CSV and JSON exports of a whole result set, streamed page by page.

An export follows the search's own order and stops at ``EXPORT_MAX`` rows
(Elasticsearch cannot page past 10,000 hits; the response's ``Link: rel="next"``
header says when the set was cut, and ``X-Total-Count`` how large it is). A
date-ordered export continues each internal page after the previous page's last
notice (``webapp.paging``), so notices arriving during a long download neither
repeat nor push others out. CSV goes through ``archive.jsonl.NoticeCsvWriter`` (as ``tbtwatch export``
does), which guards the cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections.abc import Iterator

from archive.base import Hit, NoticeStore, SearchQuery
from archive.jsonl import CSV_FIELDS, NoticeCsvWriter, notice_csv_row
from tbtwatch.chinese import to_simplified
from webapp.paging import Cursor, pages
from webapp.templating import plain

EXPORT_MAX = 10_000
PAGE = 500
EXPORT_FIELDS = [*CSV_FIELDS, "title_zh", "level", "product_lines", "url"]


def iter_hits(store: NoticeStore, query: SearchQuery, limit: int = EXPORT_MAX,
              after: Cursor | None = None) -> Iterator[Hit]:
    """Every hit of ``query`` from its offset (or after the cursor) on, at most ``limit``."""
    sent = 0
    for page in pages(store, query, min(PAGE, limit), after):
        for hit in page[: limit - sent]:
            yield hit
        sent += len(page)
        if sent >= limit:
            return


def _chunks(hits: Iterator[Hit]) -> Iterator[list[Hit]]:
    """``PAGE`` hits at a time: a streamed chunk costs a hop to Starlette's thread pool, so one per page."""
    while chunk := list(itertools.islice(hits, PAGE)):
        yield chunk


def export_filename(fmt: str, today: dt.date) -> str:
    return f"tbtwatch-{today.isoformat()}.{fmt}"


def notice_url(base_url: str, symbol: str) -> str:
    return f"{base_url.rstrip('/')}/notices/{symbol}"


def csv_rows(hits: Iterator[Hit], base_url: str, store: NoticeStore, *, bom: bool = True) -> Iterator[str]:
    """The CSV text in UTF-8, ``PAGE`` rows per chunk (the chunk's assessments are one look-up); the first page of a set starts with a BOM so that Excel shows
    Chinese correctly (later pages go without, so pages can be concatenated into one file). Beside the notice:
    its Chinese title (simplified), level and product lines (the assessment's ids, best first)."""
    buffer = io.StringIO()
    writer = NoticeCsvWriter(buffer, EXPORT_FIELDS)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writeheader()
    yield ("\ufeff" if bom else "") + flush()
    for page in _chunks(hits):
        assessments = store.get_assessments(hit.notice.symbol for hit in page)
        for hit in page:
            row = notice_csv_row(hit.notice)
            lines = sorted(assessments.get(hit.notice.symbol, {}).get("product_lines", []),
                           key=lambda p: -float(p.get("score", 0)))
            chinese = hit.notice.text("zh") if "zh" in (hit.notice.language, *hit.notice.translations) else None
            row.update(title_zh=to_simplified(chinese.title) if chinese else "", level=hit.level or "",
                       product_lines="; ".join(str(p["id"]) for p in lines),
                       url=notice_url(base_url, hit.notice.symbol))
            writer.writerow(row)
        yield flush()


def hit_json(hit: Hit, base_url: str) -> dict:
    return {"symbol": hit.notice.symbol, "score": hit.score, "level": hit.level,
            "url": notice_url(base_url, hit.notice.symbol),
            "highlights": {k: plain(v) for k, v in hit.highlights.items()},
            "notice": hit.notice.model_dump(mode="json")}


def json_lines(hits: Iterator[Hit], base_url: str) -> Iterator[str]:
    """A JSON array written incrementally (the set may be large), ``PAGE`` hits per chunk."""
    yield "["
    separator = "\n"
    for page in _chunks(hits):
        yield separator + ",\n".join(json.dumps(hit_json(hit, base_url), ensure_ascii=False) for hit in page)
        separator = ",\n"
    yield "\n]\n"

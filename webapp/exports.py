"""CSV and JSON exports of a whole result set, streamed page by page.

An export follows the search's own order and stops at ``EXPORT_MAX`` rows
(Elasticsearch cannot page past 10,000 hits; the response's ``Link: rel="next"``
header says when the set was cut, and ``X-Total-Count`` how large it is). A
date-ordered export continues each internal page after the previous page's last
notice (``webapp.paging``), so notices arriving during a long download neither
repeat nor push others out. CSV goes through ``archive.jsonl.NoticeCsvWriter`` (as ``tbtwatch export``
does), which guards the cells a spreadsheet would run as a formula. A joint notification (one text several
members notified) is one row or item, with the other symbols in ``also_notified_as``.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterator

from alerts.grouping import Group, text_group
from archive.base import Hit, NoticeStore, SearchQuery
from archive.jsonl import CSV_FIELDS, NoticeCsvWriter, notice_csv_row
from tbtwatch.chinese import to_simplified
from webapp.paging import Cursor, pages
from webapp.templating import plain

EXPORT_MAX = 10_000
PAGE = 500
EXPORT_FIELDS = [*CSV_FIELDS, "title_zh", "level", "product_lines", "also_notified_as", "url"]
GroupsOf = Callable[[list[str]], dict[str, Group]]  # symbols -> the group of each grouped one


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


def one_per_text(hits: Iterator[Hit], groups_of: GroupsOf) -> Iterator[list[tuple[Hit, list[str]]]]:
    """``PAGE`` hits at a time, each joint notification once (its first hit in the set's order) with the
    other symbols it was also notified as: one item per text, as the search page shows it."""
    seen: set[str] = set()
    for page in _chunks(hits):
        groups = groups_of([hit.record["symbol"] for hit in page])
        kept = []
        for hit in page:
            symbol = hit.record["symbol"]
            group = text_group(symbol, hit.record.get("symbols", []), groups)
            key = group.id if group else symbol
            if key not in seen:
                seen.add(key)
                kept.append((hit, group.others(symbol) if group else []))
        yield kept


def export_filename(fmt: str, today: dt.date) -> str:
    return f"tbtwatch-{today.isoformat()}.{fmt}"


def notice_url(base_url: str, symbol: str) -> str:
    return f"{base_url.rstrip('/')}/notices/{symbol}"


def csv_rows(hits: Iterator[Hit], base_url: str, groups_of: GroupsOf, *, bom: bool = True) -> Iterator[str]:
    """The CSV text in UTF-8, ``PAGE`` rows per chunk; the first page of a set starts with a BOM so that
    Excel shows Chinese correctly (later pages go without, so pages can be concatenated into one file). One
    row per joint notification. Beside the notice: its Chinese title (simplified), level, product lines (the
    assessment's ids as the search index has them, the primary first: no assessment record is read) and the
    other symbols of its text."""
    buffer = io.StringIO()
    writer = NoticeCsvWriter(buffer, EXPORT_FIELDS)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writeheader()
    yield ("\ufeff" if bom else "") + flush()
    for page in one_per_text(hits, groups_of):
        for hit, also in page:
            record = hit.record
            row = notice_csv_row(record)
            row.update(title_zh=to_simplified(_chinese_title(record)), level=hit.level or "",
                       product_lines="; ".join(hit.product_lines),
                       also_notified_as="; ".join(also),
                       url=notice_url(base_url, record["symbol"]))
            writer.writerow(row)
        yield flush()


def _chinese_title(record: dict) -> str:
    """The title in Chinese of a notice's stored fields: its own if notified in Chinese, else its translation's
    (as ``Notice.text("zh")`` picks it); empty if it has none."""
    if record.get("language") == "zh":
        return record.get("title", "")
    return record.get("translations", {}).get("zh", {}).get("title", "")


def hit_json(hit: Hit, base_url: str, also: list[str]) -> dict:
    """A hit as the API and the JSON export give it; ``also``: the other symbols its text was notified as."""
    return {"symbol": hit.notice.symbol, "score": hit.score, "level": hit.level,
            "url": notice_url(base_url, hit.notice.symbol), "also_notified_as": also,
            "highlights": {k: plain(v) for k, v in hit.highlights.items()},
            "notice": hit.notice.model_dump(mode="json")}


def json_lines(hits: Iterator[Hit], base_url: str, groups_of: GroupsOf) -> Iterator[str]:
    """A JSON array written incrementally (the set may be large), ``PAGE`` hits per chunk, one per text."""
    yield "["
    separator = "\n"
    for page in one_per_text(hits, groups_of):
        if page:
            yield separator + ",\n".join(json.dumps(hit_json(hit, base_url, also), ensure_ascii=False)
                                         for hit, also in page)
            separator = ",\n"
    yield "\n]\n"

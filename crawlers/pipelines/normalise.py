"""Tidy a notice's fields as sources write them: HTML fragments, dates as text, datetimes or Excel serial
numbers, code lists as lists or as one cell of text (``crawlers.cells`` reads such cells).

Values that cannot be tidied (an HS code that is not one) go to the item's
leftovers, so validation sees clean fields and nothing read is lost.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from openpyxl.utils.datetime import from_excel
from w3lib.html import remove_tags, replace_entities

from crawlers.cells import find_ics_codes, find_urls, split_objectives
from crawlers.items import NoticeItem
from crawlers.pipelines.base import CrawlerPipeline
from tbtwatch.dates import date_text, parse_date
from tbtwatch.hs import HSCodeError, find_hs_codes, normalise_hs

TEXT_FIELDS = ("title", "description", "products", "member")
EXCEL_DAYS = (20000, 80000)  # serial day numbers of 1954-10-03 .. 2119-01-10: any notification date


def plain_text(value: Any) -> str:
    """Text without markup; paragraph breaks kept as newlines."""
    text = str(value or "")
    if "<" in text:
        text = re.sub(r"(?i)<\s*(?:br|/p|/div|/li)\s*/?>", "\n", text)
        text = remove_tags(text)
    text = replace_entities(text).replace("\xa0", " ")
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def as_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime, an Excel serial day number (a date cell without a date format) or text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return from_excel(value).date() if EXCEL_DAYS[0] <= value <= EXCEL_DAYS[1] else None
    return parse_date(str(value)) if value not in (None, "") else None


def as_list(name: str, value: Any) -> list[str]:
    """A list field from a list (each entry may still join several) or one cell of text."""
    entries = value if isinstance(value, (list, tuple)) else [value]
    texts = [plain_text(v) for v in entries if plain_text(v)]
    if name == "ics_codes":
        return find_ics_codes(" ".join(texts))
    if name == "urls":
        return [url for text in texts for url in (find_urls(text) or [text])]
    if name == "objectives":
        return [o for text in texts for o in split_objectives(text)]
    return texts


class NormaliseNotice(CrawlerPipeline):
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        fields = item.fields
        for name in TEXT_FIELDS:
            if name in fields:
                fields[name] = plain_text(fields[name])
        for name in ("distribution_date", "comment_deadline"):
            if name in fields:
                fields[name] = as_date(fields[name])
        for name in ("adoption_date", "entry_into_force"):
            if isinstance(fields.get(name), (dt.date, dt.datetime, int, float)) and as_date(fields[name]):
                fields[name] = as_date(fields[name]).isoformat()
            elif name in fields:
                fields[name] = date_text(plain_text(fields[name]) or None)
        fields["hs_codes"], bad = self._hs(fields.get("hs_codes"))
        if bad:
            item.leftovers["unreadable_hs_codes"] = bad
        for name in ("symbols", "ics_codes", "objectives", "urls"):
            if name in fields:
                fields[name] = list(dict.fromkeys(as_list(name, fields[name])))
        fields["symbol"] = str(fields.get("symbol") or "").strip()
        return item

    @staticmethod
    def _hs(value: Any) -> tuple[list[str], list[str]]:
        """HS codes from a list or a free-text cell ("8507.60; 8506.10"); unreadable entries returned apart."""
        if isinstance(value, str):
            return find_hs_codes(value), []
        codes, bad = [], []
        for code in value or []:
            try:
                codes.append(normalise_hs(str(code)))
            except HSCodeError:
                bad.append(str(code))
        return list(dict.fromkeys(codes)), bad

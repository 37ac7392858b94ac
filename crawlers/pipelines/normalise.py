"""Tidy a notice's fields as sources write them: HTML fragments, dates as text or datetimes, code lists.

Values that cannot be tidied (an HS code that is not one) go to the item's
leftovers, so validation sees clean fields and nothing read is lost.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from w3lib.html import remove_tags, replace_entities

from crawlers.items import NoticeItem
from crawlers.pipelines.base import CrawlerPipeline
from tbtwatch.dates import date_text, parse_date
from tbtwatch.hs import HSCodeError, find_hs_codes, normalise_hs

TEXT_FIELDS = ("title", "description", "products", "member")


def plain_text(value: Any) -> str:
    """Text without markup; paragraph breaks kept as newlines."""
    text = str(value or "")
    if "<" in text:
        text = re.sub(r"(?i)<\s*(?:br|/p|/div|/li)\s*/?>", "\n", text)
        text = remove_tags(text)
    text = replace_entities(text).replace("\xa0", " ")
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_date(str(value)) if value not in (None, "") else None


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
            if isinstance(fields.get(name), (dt.date, dt.datetime)):
                fields[name] = as_date(fields[name]).isoformat()
            elif name in fields:
                fields[name] = date_text(plain_text(fields[name]) or None)
        fields["hs_codes"], bad = self._hs(fields.get("hs_codes"))
        if bad:
            item.leftovers["unreadable_hs_codes"] = bad
        for name in ("symbols", "ics_codes", "objectives", "urls"):
            if name in fields:
                fields[name] = [plain_text(v) for v in fields[name] if plain_text(v)]
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

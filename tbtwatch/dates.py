"""Dates as notification forms and portals write them.

Forms write ``2016/01/04``, ``2018-03-22``, ``2025年7月18日``, ``15 March 2024``,
``02008-06-06`` (a portal's typo), ``2018/01/31 0:00:00`` and relative deadlines
("60 days from notification", 通报之后60天). A deadline must be a date, so a
relative one is computed from the distribution date; anything else stays text.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import relativedelta

_ISO_LIKE = re.compile(r"(?<!\d)0?(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"  # "9th June 2023", as gazette notices write it
_ENGLISH = re.compile(
    rf"\b\d{{1,2}}{_ORDINAL}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}{_ORDINAL},?\s+\d{{4}}\b",
    re.IGNORECASE,
)
_WORD_NUMBERS = {"thirty": 30, "forty-five": 45, "forty five": 45, "sixty": 60, "ninety": 90, "seventy-five": 75}
_RELATIVE_EN = re.compile(
    r"(\d{1,3}|thirty|forty[- ]five|sixty|seventy-five|ninety)\s+(day|month)s?\s+"
    r"(?:from|after)\s+(?:the\s+)?(?:date\s+of\s+)?(?:the\s+)?(?:notification|circulation|distribution)",
    re.IGNORECASE,
)
_RELATIVE_ZH = re.compile(r"(?:自)?通[报報](?:日|之[后後]|[后後]|日[后後]|日起|之日起)?\s*(\d{1,3})\s*(天|日|个月|個月)")

# What ``parse_date`` and ``relative_offset`` read, as patterns other patterns can embed (``notice_dates``).
# Compile them case-insensitive; their groups are numbered only, so they can sit inside a named group.
DATE_PATTERN = "|".join(f"(?:{p.pattern})" for p in (_ISO_LIKE, _DMY, _ENGLISH))
RELATIVE_PATTERN = "|".join(f"(?:{p.pattern})" for p in (_RELATIVE_EN, _RELATIVE_ZH))


def parse_date(text: str | None) -> dt.date | None:
    """The first calendar date written in ``text``, or None when it holds no complete date."""
    if not text:
        return None
    m = _ISO_LIKE.search(text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.search(text)
    if m:  # the WTO forms write dd/mm/yyyy
        return _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _ENGLISH.search(text)
    if m:
        try:
            return dateutil_parser.parse(m.group(0), dayfirst=True).date()
        except (ValueError, OverflowError):
            return None
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def relative_offset(text: str | None) -> relativedelta | None:
    """The offset of a deadline written relative to the notification ("60 days from notification")."""
    if not text:
        return None
    m = _RELATIVE_EN.search(text)
    if m:
        raw = m.group(1).lower()
        count = int(raw) if raw.isdigit() else _WORD_NUMBERS.get(raw.replace("-", " "), _WORD_NUMBERS.get(raw, 0))
        return relativedelta(days=count) if m.group(2).lower() == "day" else relativedelta(months=count)
    m = _RELATIVE_ZH.search(text)
    if m:
        count = int(m.group(1))
        return relativedelta(days=count) if m.group(2) in {"天", "日"} else relativedelta(months=count)
    return None


def deadline_from(text: str | None, distribution_date: dt.date | None) -> dt.date | None:
    """A final date for comments: written as a date, or computed from the distribution date."""
    offset = relative_offset(text)
    if offset is not None:
        return distribution_date + offset if distribution_date else None
    return parse_date(text)


def date_text(text: str | None) -> str | None:
    """A proposed date as ISO when it is a full date, else the words the member used ("to be determined")."""
    if text is None:
        return None
    cleaned = " ".join(text.split()).strip(" .;；。")
    if not cleaned:
        return None
    parsed = parse_date(cleaned)
    return parsed.isoformat() if parsed else cleaned

"""The dates a notice states in its own text, for the sources that leave the fields empty.

A feed entry says "comments are invited until 19 September 2025"; a portal puts
"意见反馈截止日期：2025年9月19日" inside its description; an addendum says the
measure "was adopted ... on 25 August 2023" or "已于2020年4月23日通过". Without
reading that, such a notice shows no deadline, gets no internal cut-off and
sorts last. ``dates_from_text`` reads the final date for comments, the date of
adoption and the date of entry into force from the title, description and
products in the notice's language and in its translations, with the phrases of
``tbtwatch.date_phrases``. It is pure; the notice model applies it, so every
path into the archive (a crawl, ``tbtwatch import``) gets the same dates and
none can skip it.

The text is read in a fixed order (description, products, title; the notice's
own language, then the translations) and, within one text, the earliest
statement of a field wins: a later "the comment period was extended" addendum
is its own notice, so the first statement is the notice's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Mapping
from typing import Literal, Protocol

import opencc

from tbtwatch.date_phrases import KEYWORDS, LABELS, PHRASES, UNDETERMINED
from tbtwatch.dates import DATE_PATTERN, RELATIVE_PATTERN, date_text, deadline_from

DateField = Literal["comment_deadline", "adoption_date", "entry_into_force"]
DATE_FIELDS: tuple[DateField, ...] = ("comment_deadline", "adoption_date", "entry_into_force")

_CJK = re.compile(r"[\u4e00-\u9fff]")
_DIGIT = re.compile(r"\d")
_DATE = re.compile(DATE_PATTERN, re.IGNORECASE)
_UNDETERMINED = re.compile(UNDETERMINED, re.IGNORECASE)
_STRICT_VALUE = rf"{DATE_PATTERN}|{RELATIVE_PATTERN}|{UNDETERMINED}"
_COLON = r"[ \t]*(?:[(（][^)）\n]{0,60}[)）][ \t]*)?[:：]"  # an explanatory "(if applicable)" may stand before the colon
_COPULA = r"\s+(?:is|was|will\s+be)\s+|\s*(?:为|是)\s*"
_VALUE_END = re.compile(r"[。；;|]|\.\s+(?=[A-Z\u4e00-\u9fff])|\s{3,}")  # where a labelled value ends
_WORD = re.compile(r"[^\W_]")


class TextFields(Protocol):
    """A text in one language, as ``tbtwatch.model.LocalText`` holds it."""

    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def products(self) -> str: ...


class NoticeText(TextFields, Protocol):
    """What the reading needs of a notice (``tbtwatch.model.Notice``, which imports this module)."""

    @property
    def distribution_date(self) -> dt.date | None: ...
    @property
    def translations(self) -> Mapping[str, TextFields]: ...


@dataclass(frozen=True)
class TextDates:
    """What the text says: the final date for comments (a date) and the other two as the notice model keeps them
    (ISO when a full date, else the member's words such as "to be determined")."""

    comment_deadline: dt.date | None = None
    adoption_date: str | None = None
    entry_into_force: str | None = None


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@lru_cache(maxsize=1)
def _any_label() -> re.Pattern[str]:
    return _compile("|".join(f"(?:{p}){_COLON}" for patterns in LABELS.values() for p in patterns))


@dataclass(frozen=True)
class _Cues:
    """One field's cues: patterns whose ``value`` group holds the value, and the words that follow a date."""

    keywords: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    after_date: tuple[re.Pattern[str], ...]  # "{date}通过": matched at the end of each date, not searched


@lru_cache(maxsize=None)
def _cues(field: DateField) -> _Cues:
    labels = "|".join(f"(?:{p})" for p in LABELS[field])
    deadline = f"(?P<value>{DATE_PATTERN}|{RELATIVE_PATTERN})"
    phrases = [p.replace("{date}", f"(?P<value>{DATE_PATTERN})").replace("{deadline}", deadline)
               for p in PHRASES[field] if not p.startswith("{date}")]
    return _Cues(
        KEYWORDS[field],
        (
            # the value on the label's line, or a date alone on the next line (portals' two-line layout)
            _compile(rf"(?:{labels}){_COLON}(?:[ \t]*(?P<value>\S[^\n]{{0,150}})"
                     rf"|[ \t]*\n\s*(?P<next>(?:{DATE_PATTERN})|(?:{UNDETERMINED})))"),
            # after "is", 为 or 是 the label is prose: only a date or a "to be determined" counts
            _compile(rf"(?:{labels})(?:{_COPULA})(?P<value>{_STRICT_VALUE})"),
            *(_compile(p) for p in phrases),
        ),
        tuple(_compile(p.removeprefix("{date}")) for p in PHRASES[field] if p.startswith("{date}")),
    )


@lru_cache(maxsize=1)
def _simplifier() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass
class _Text:
    matched: str  # simplified script, for the patterns
    original: str  # values are taken from here when the offsets agree
    folded: str  # lower case, for the keywords
    _dates: list[re.Match[str]] | None = None

    @classmethod
    def of(cls, text: str) -> "_Text":
        matched = _simplifier().convert(text) if _CJK.search(text) else text
        return cls(matched, text if len(matched) == len(text) else matched, matched.lower())

    @property
    def dates(self) -> list[re.Match[str]]:
        if self._dates is None:
            self._dates = list(_DATE.finditer(self.matched))
        return self._dates


def _texts(notice: NoticeText) -> list[_Text]:
    """Each text field that could state a date (a digit or a "to be determined"), in reading order."""
    texts = []
    for version in (notice, *notice.translations.values()):
        for text in (version.description, version.products, version.title):
            if text and (_DIGIT.search(text) or _UNDETERMINED.search(text)):
                texts.append(_Text.of(text))
    return texts


def _statements(cues: _Cues, text: _Text) -> list[tuple[int, tuple[int, int]]]:
    """(where the statement starts, where its value stands) for every cue of a field in ``text``."""
    found = []
    for pattern in cues.patterns:
        for match in pattern.finditer(text.matched):
            group = "value" if match.group("value") is not None else "next"
            found.append((match.start(), match.span(group)))
    for date in text.dates:
        if any(tail.match(text.matched, date.end()) for tail in cues.after_date):
            found.append((date.start(), date.span()))
    return sorted(found)


def _value(text: _Text, span: tuple[int, int]) -> str:
    value = text.original[span[0]: span[1]]
    label = _any_label().search(value)
    if label:  # a value never runs into the next field's label
        value = value[: label.start()]
    value = _VALUE_END.split(value, maxsplit=1)[0]
    return value.strip(" \t,，:：")


def _read(field: DateField, value: str, distribution_date: dt.date | None) -> dt.date | str | None:
    """The field's value from the words after its cue, or None when they state none."""
    if not _WORD.search(value):
        return None
    if field == "comment_deadline":
        return deadline_from(value, distribution_date)
    return date_text(value)


def _first_statement(field: DateField, texts: list[_Text], distribution_date: dt.date | None
                     ) -> dt.date | str | None:
    cues = _cues(field)
    for text in texts:
        if not any(word in text.folded for word in cues.keywords):
            continue
        for _, span in _statements(cues, text):
            value = _read(field, _value(text, span), distribution_date)
            if value is not None:
                return value
    return None


def dates_from_text(notice: NoticeText, fields: tuple[DateField, ...] = DATE_FIELDS) -> TextDates:
    """The dates of ``fields`` that the notice's text states; None for those it does not.

    A deadline relative to the notification ("60 days from notification",
    通报之后60天) is computed from the distribution date, and is None without one.
    """
    texts = _texts(notice)
    return TextDates(**{field: _first_statement(field, texts, notice.distribution_date) for field in fields})

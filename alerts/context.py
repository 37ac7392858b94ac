"""The one context every message template is rendered with: each field a template may use, with its default.

``tests/alerts/test_templates.py`` sets every field below to a distinctive value
and checks that it shows in the rendered messages, so a field that no template
uses, or a template that uses a field not listed here (StrictUndefined), fails
the build. Crawled text arrives here raw; the HTML templates escape it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from alerts.rules import Evidence, level_rank, required_level
from tbtwatch.members import Members
from tbtwatch.model import Notice
from tbtwatch.symbols import SymbolError, parse_symbol


@dataclass(frozen=True)
class MatchLine:
    """One reason the notice concerns the reader: a code, a product line, a keyword, a market."""

    kind: str = "hs"  # hs | product_line | keyword | member | area | level
    label: str = ""  # level: the notice's level
    detail: str = ""  # level: the reader's minimum


@dataclass(frozen=True)
class JointEntry:
    """Another member's copy of the same text (a near-duplicate group, see ``alerts.grouping``)."""

    symbol: str = ""
    member_code: str = ""
    member_zh: str = ""
    member_en: str = ""
    notice_url: str = ""

    def member_in(self, lang: str) -> str:
        return (self.member_zh if lang == "zh" else self.member_en) or self.member_en or self.member_code


@dataclass
class NoticeItem:
    symbol: str = ""
    kind: str = "regular"
    base_symbol: str = ""
    area: str = ""
    member_code: str = ""
    member_zh: str = ""
    member_en: str = ""
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    products_zh: str = ""
    products_en: str = ""
    distribution_date: str = ""
    comment_deadline: str = ""
    days_left: int | None = None
    cutoff_date: str = ""  # the working group's internal cut-off (alerts.cutoff)
    level: str = "none"
    reasons: list[str] = field(default_factory=list)  # the classifier's reasons for the level, in English
    reasons_zh: list[str] = field(default_factory=list)  # the same in Chinese, same order (absent in old assessments)
    matches: list[MatchLine] = field(default_factory=list)
    product_lines: list[str] = field(default_factory=list)
    hs_codes: list[str] = field(default_factory=list)
    notice_url: str = ""
    document_urls: list[str] = field(default_factory=list)
    review_status: str = ""
    review_owner: str = ""
    filters: list[str] = field(default_factory=list)  # the reader's filters the notice matched, by name
    joint: list[JointEntry] = field(default_factory=list)  # the other symbols of its group

    def text_in(self, name: str, lang: str) -> str:
        """``title``/``description``/``products`` in ``lang``, else in the other language."""
        other = "en" if lang == "zh" else "zh"
        return getattr(self, f"{name}_{lang}") or getattr(self, f"{name}_{other}")

    def original_beside(self, name: str, lang: str) -> str:
        """The other language's text when it differs (the English original beside the Chinese)."""
        other = getattr(self, f"{name}_{'en' if lang == 'zh' else 'zh'}")
        return other if other and other != self.text_in(name, lang) else ""

    def member_in(self, lang: str) -> str:
        return (self.member_zh if lang == "zh" else self.member_en) or self.member_en or self.member_code

    def reasons_in(self, lang: str) -> list[str]:
        """The Chinese reasons in a Chinese part when the assessment has them, else the English ones."""
        return self.reasons_zh if lang == "zh" and self.reasons_zh else self.reasons


@dataclass
class DigestGroup:
    line_id: str = ""
    name_zh: str = ""
    name_en: str = ""
    level: str = "none"
    items: list[NoticeItem] = field(default_factory=list)


@dataclass
class CountRow:
    dimension: str = "member"  # member | area | product_line
    label: str = ""
    count: int = 0


@dataclass
class TrendBar:
    week_start: str = ""
    count: int = 0
    x: int = 0
    y: int = 0
    height: int = 0


@dataclass
class ReviewRow:
    symbol: str = ""
    title: str = ""
    status: str = "new"
    owner: str = ""
    notes: str = ""
    comment_deadline: str = ""
    days_left: int | None = None
    cutoff_date: str = ""
    joint_symbols: list[str] = field(default_factory=list)
    notice_url: str = ""


@dataclass
class MessageContext:
    kind: str = "alert"  # alert | reminder | confirm | digest | webhook_disabled
    languages: list[str] = field(default_factory=lambda: ["zh"])
    recipient: str = ""
    day: str = ""
    period_start: str = ""  # a report over several days (the weekly summary) starts here
    base_url: str = ""
    unsubscribe_url: str = ""
    confirm_url: str = ""
    filters_summary: list[str] = field(default_factory=list)
    frequency: str = "immediate"
    items: list[NoticeItem] = field(default_factory=list)
    reminder_days: int = 0
    groups: list[DigestGroup] = field(default_factory=list)
    followups: list[NoticeItem] = field(default_factory=list)
    counts: list[CountRow] = field(default_factory=list)
    trend: list[TrendBar] = field(default_factory=list)
    trend_max: int = 0
    trend_table: bool = False  # the digest e-mail: the trend as a table too (mail clients that drop inline SVG)
    review_queue: list[ReviewRow] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)
    endpoint_url: str = ""  # webhook_disabled: the endpoint and its last error
    endpoint_error: str = ""

    def as_template_vars(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def notice_url(base_url: str, symbol: str) -> str:
    return f"{base_url.rstrip('/')}/notices/{quote(symbol, safe='/')}"


def safe_links(urls: list[str]) -> list[str]:
    """Only http(s) links from crawled data reach a message (no ``javascript:`` or ``data:`` URLs)."""
    return [u for u in urls if urlsplit(u).scheme in {"http", "https"} and urlsplit(u).netloc]


def _texts(notice: Notice, lang: str) -> tuple[str, str, str]:
    if notice.language != lang and lang not in notice.translations:
        return "", "", ""
    text = notice.text(lang)
    return text.title, text.description, text.products


def _match_lines(
    evidence: list[Evidence], line_names: dict[str, tuple[str, str]], level: str
) -> list[MatchLine]:
    """One line per evidence, except the level: one line, the notice's level against the highest minimum
    among the reader's filters (the copies of a group, each with its own level, are shown as this notice)."""
    lines, minimum = [], ""
    for e in evidence:
        if e.kind == "level":
            required = required_level(e)
            minimum = required if level_rank(required) > level_rank(minimum) else minimum
            continue
        label = e.value
        if e.kind == "product_line" and e.value in line_names:
            label = " / ".join(n for n in line_names[e.value] if n)
        lines.append(MatchLine(e.kind, label, e.detail))
    if minimum:
        lines.append(MatchLine("level", level, minimum))
    return lines


def notice_item(
    notice: Notice,
    assessment: dict[str, Any] | None,
    *,
    day: dt.date,
    base_url: str,
    members: Members,
    line_names: dict[str, tuple[str, str]],
    evidence: list[Evidence] | None = None,
    deadline: dt.date | None = None,
    cutoff: dt.date | None = None,
    filters: list[str] | None = None,
    joint: list[str] | None = None,
) -> NoticeItem:
    """Everything a template shows about one notice, for one reader on one day."""
    assessment = assessment or {}
    member = members.get(notice.member_code) if notice.member_code else None
    title_zh, description_zh, products_zh = _texts(notice, "zh")
    title_en, description_en, products_en = _texts(notice, "en")
    deadline = deadline or notice.comment_deadline
    lines = [
        str(p["id"]) for p in sorted(assessment.get("product_lines", []), key=lambda p: -float(p["score"]))
    ]
    return NoticeItem(
        symbol=notice.symbol,
        kind=notice.kind or "regular",
        base_symbol=notice.base_symbol or "",
        area=notice.area or "",
        member_code=notice.member_code,
        member_zh=member.name_zh if member else notice.member,
        member_en=member.name_en if member else notice.member,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        products_zh=products_zh,
        products_en=products_en,
        distribution_date=notice.distribution_date.isoformat() if notice.distribution_date else "",
        comment_deadline=deadline.isoformat() if deadline else "",
        days_left=(deadline - day).days if deadline else None,
        cutoff_date=cutoff.isoformat() if cutoff else "",
        level=assessment.get("level") or "none",
        reasons=list(assessment.get("reasons", [])),
        reasons_zh=list(assessment.get("reasons_zh") or []),
        matches=_match_lines(evidence or [], line_names, assessment.get("level") or "none"),
        product_lines=[" / ".join(n for n in line_names.get(i, (i, "")) if n) for i in lines],
        hs_codes=list(
            dict.fromkeys(
                [
                    *notice.hs_codes,
                    *assessment.get("hs_given", []),
                    *(h["code"] for h in assessment.get("hs_inferred", [])),
                ]
            )
        ),
        notice_url=notice_url(base_url, notice.symbol),
        document_urls=safe_links(notice.urls),
        filters=list(filters or []),
        joint=[joint_entry(symbol, members, base_url) for symbol in joint or []],
    )


def for_reader(
    item: NoticeItem,
    evidence: list[Evidence],
    line_names: dict[str, tuple[str, str]],
    filters: list[str] | None = None,
) -> NoticeItem:
    """A copy of a notice's item with one reader's evidence and filters (the rest is shared, not copied)."""
    return dataclasses.replace(
        item, matches=_match_lines(evidence, line_names, item.level), filters=list(filters or [])
    )


def joint_entry(symbol: str, members: Members, base_url: str) -> JointEntry:
    """A group member named by its symbol (its copy need not be in the archive yet)."""
    try:
        code = parse_symbol(symbol).member_code
    except SymbolError:
        code = ""
    member = members.get(code) if code else None
    return JointEntry(
        symbol=symbol,
        member_code=code,
        member_zh=member.name_zh if member else code,
        member_en=member.name_en if member else code,
        notice_url=notice_url(base_url, symbol),
    )

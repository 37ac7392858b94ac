"""The one context every message template is rendered with: each field a template may use, with its default.

``tests/alerts/test_templates.py`` sets every field below to a distinctive value
and checks that it shows in the rendered messages, so a field that no template
uses, or a template that uses a field not listed here (StrictUndefined), fails
the build. Crawled text arrives here raw; the HTML templates escape it.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from alerts.rules import DEFAULT_FILTER, Evidence, Filter, Rule, level_rank, required_level
from tbtwatch.chinese import to_simplified
from tbtwatch.hs import HSNomenclature
from tbtwatch.members import Members
from tbtwatch.model import Notice
from tbtwatch.symbols import SymbolError, document_url, parse_symbol


def named(key: str, name_zh: str, name_en: str, lang: str, *, with_key: bool = True) -> str:
    """``欧盟 (EU)``: the name in ``lang`` (else English), with the code or id when ``with_key`` and it says
    something the name does not; the key alone when there is no name."""
    name = (name_zh if lang == "zh" else name_en) or name_en or name_zh
    if not name or not key or not with_key or name.casefold() == key.casefold():
        return name or key
    return f"{name} ({key})"


@dataclass(frozen=True)
class Named:
    """Something with a Chinese and an English name (a product line, a member), shown in the part's language."""

    key: str = ""  # the id or code readers use in their filters
    name_zh: str = ""
    name_en: str = ""

    def label_in(self, lang: str) -> str:
        """The name alone (a product line's id is for filters, not for reading); the id when it has no name."""
        return named(self.key, self.name_zh, self.name_en, lang, with_key=False)


@dataclass(frozen=True)
class MatchLine:
    """One reason the notice concerns the reader: a code, a product line, a keyword, a market, the level."""

    kind: str = "hs"  # hs | product_line | keyword | member | area | level
    label: str = ""  # the reader's value (HS prefix, line id, keyword, member code); level: the notice's level
    detail: str = ""  # hs: the notice's codes; product_line/keyword: the notice's text; level: the reader's minimum
    origin: str = ""  # hs: given | inferred (worded per language by the templates)
    score: str = ""  # hs inferred: the classifier's score, formatted
    covers: bool = False  # hs: the notice's code is wider than the reader's (heading 8507 for 850760)
    name_zh: str = ""  # product_line/member: the names of ``label``
    name_en: str = ""

    def label_in(self, lang: str) -> str:
        """Members (``美国 (USA)``) and product lines (``玩具``) by name in the part's language; else as the reader
        wrote it."""
        return named(self.label, self.name_zh, self.name_en, lang, with_key=self.kind == "member")


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
    compliance_date: str = ""  # the date products must comply by (adoption / entry into force), as notified
    level: str = "none"
    reasons: list[str] = field(default_factory=list)  # the classifier's reasons for the level, in English
    reasons_zh: list[str] = field(default_factory=list)  # the same in Chinese, same order (absent in old assessments)
    matches: list[MatchLine] = field(default_factory=list)
    product_lines: list[Named] = field(default_factory=list)  # best match first
    hs_codes: list[str] = field(default_factory=list)  # given by the member (the notice or the classifier read them)
    hs_inferred: list[str] = field(default_factory=list)  # inferred by the classifier: "8504 (0.42)"
    notice_url: str = ""
    document_url: str = ""  # the notified document itself (WTO Documents Online)
    document_urls: list[str] = field(default_factory=list)  # the other links the sources gave
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

    @property
    def comment_closed(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def adoption(self) -> bool:
        """A follow-up that tells when the measure applies (adopted, enters into force): read for compliance."""
        return bool(self.base_symbol and self.compliance_date)

    @property
    def for_compliance(self) -> bool:
        """Nothing left to comment on: the period closed, or the notice says the measure is adopted."""
        return self.comment_closed or self.adoption

    def reasons_in(self, lang: str) -> list[str]:
        """The Chinese reasons in a Chinese part when the assessment has them, else the English ones."""
        return self.reasons_zh if lang == "zh" and self.reasons_zh else self.reasons

    def reasons_both(self) -> list[tuple[str, str]]:
        """(Chinese, English) per reason for bilingual texts (the comment draft); Chinese "" when absent."""
        if len(self.reasons_zh) != len(self.reasons):
            return [("", r) for r in self.reasons]
        return list(zip(self.reasons_zh, self.reasons))


@dataclass
class FilterView:
    """One of the reader's filters as a message words it: each criterion a ``MatchLine`` (kind and value)."""

    name: str = ""  # empty for the lone unnamed ``default``
    include: list[MatchLine] = field(default_factory=list)
    exclude: list[MatchLine] = field(default_factory=list)


@dataclass
class Headline:
    """The digest's first line: what is new, how much of it concerns the catalogue, how much is high."""

    new: int = 0  # every notice new on the day (or the week)
    relevant: int = 0  # of which concern the catalogue (each near-duplicate group once)
    high: int = 0  # of which are at level high
    more_actions: int = 0  # notices needing action beyond those listed first (they are in the queue)


@dataclass
class CountRow:
    dimension: str = "member"  # member | area | product_line
    key: str = ""  # member code, area, product line id
    name_zh: str = ""
    name_en: str = ""
    count: int = 0

    def label_in(self, lang: str) -> str:
        """Members with their code (``欧盟 (EU)``), product lines by name, areas as they are."""
        return named(self.key, self.name_zh, self.name_en, lang, with_key=self.dimension == "member")


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
    level: str = "none"
    title_zh: str = ""
    title_en: str = ""
    status: str = "new"
    owner: str = ""
    notes: str = ""
    comment_deadline: str = ""
    days_left: int | None = None
    cutoff_date: str = ""
    joint_symbols: list[str] = field(default_factory=list)
    notice_url: str = ""

    def title_in(self, lang: str) -> str:
        return (self.title_zh if lang == "zh" else self.title_en) or self.title_en or self.title_zh

    @property
    def joint_members(self) -> str:
        """The other copies by member code (``KEN, RWA, TZA, UGA``): short enough for a table cell."""
        return ", ".join(member_code(s) for s in self.joint_symbols)


@dataclass
class MessageContext:
    kind: str = "alert"  # alert | reminder | confirm | digest | webhook_disabled
    languages: list[str] = field(default_factory=lambda: ["zh"])
    recipient: str = ""
    day: str = ""
    period_start: str = ""  # a report over several days (the weekly summary) starts here
    base_url: str = ""
    unsubscribe_url: str = ""
    manage_url: str = ""  # the signed link to the subscriber's settings and filters (change, pause, drop)
    enquiry_point: str = ""  # where exporters' comments go (alerts.enquiry_point)
    enquiry_contact: str = ""  # its contact (alerts.enquiry_point_contact)
    confirm_url: str = ""
    filters_summary: list[FilterView] = field(default_factory=list)  # confirm: what the reader asked for
    frequency: str = "immediate"
    items: list[NoticeItem] = field(default_factory=list)
    reminder_days: int = 0
    version: int = 1  # the digest's version for its day: a re-run that changes it writes a new one
    recipients: list[str] = field(default_factory=list)  # the digest: everyone it was sent to
    headline: Headline = field(default_factory=Headline)
    details: list[NoticeItem] = field(default_factory=list)  # the day's relevant notices, level then cut-off
    actions: list[NoticeItem] = field(default_factory=list)  # the digest: the few that need action first
    compliance: list[NoticeItem] = field(default_factory=list)  # closed periods and adoption notices
    domestic: list[NoticeItem] = field(default_factory=list)  # the digest: our own members' measures (no alert)
    followups: list[NoticeItem] = field(default_factory=list)
    counts: list[CountRow] = field(default_factory=list)
    trend: list[TrendBar] = field(default_factory=list)
    trend_max: int = 0
    trend_table: bool = False  # the digest e-mail: the trend as a table too (mail clients that drop inline SVG)
    review_queue: list[ReviewRow] = field(default_factory=list)
    due_this_week: list[ReviewRow] = field(default_factory=list)  # open reviews whose cut-off is within 7 days
    failed_sources: list[str] = field(default_factory=list)
    degraded_sources: list[str] = field(default_factory=list)  # "source: why", for the operator section
    endpoint_url: str = ""  # webhook_disabled: the endpoint and its last error
    endpoint_error: str = ""

    def as_template_vars(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def notice_url(base_url: str, symbol: str) -> str:
    return f"{base_url.rstrip('/')}/notices/{quote(symbol, safe='/')}"


def safe_links(urls: list[str]) -> list[str]:
    """Only http(s) links from crawled data reach a message (no ``javascript:`` or ``data:`` URLs)."""
    return [u for u in urls if urlsplit(u).scheme in {"http", "https"} and urlsplit(u).netloc]


def is_search_page(url: str) -> bool:
    """An ePing search page (``eping.wto.org/en/Search?viewData=...``): a search, not the document."""
    parts = urlsplit(url)
    return parts.netloc.endswith("eping.wto.org") and parts.path.lower().endswith("/search")


def reading_order(item: Any) -> tuple[int, str, str]:
    """Highest level first, then the soonest internal cut-off (else final date); undated last."""
    due = item.cutoff_date or item.comment_deadline
    return (-level_rank(item.level), due or "9999-99-99", item.symbol)


def _texts(notice: Notice, lang: str) -> tuple[str, str, str]:
    """The notice's own or translated text in ``lang`` ('' when it has none); Chinese in simplified script."""
    if notice.language != lang and lang not in notice.translations:
        return "", "", ""
    text = notice.text(lang)
    if lang == "zh":
        return to_simplified(text.title), to_simplified(text.description), to_simplified(text.products)
    return text.title, text.description, text.products


GIST_LINES, GIST_CODES = 2, 1  # a title names the best-matching lines and the first code, not all of them


def chinese_gist(lines: list[Named], hs_codes: list[str], names: "Names", member_zh: str) -> str:
    """A Chinese title for a notice no source has translated: its product lines and the Chinese names of its
    HS codes (``锂电池（HS 850760 锂离子蓄电池）``), else the notifying member's notice."""
    line_names = "、".join(line.name_zh for line in lines[:GIST_LINES] if line.name_zh)
    codes = "；".join(f"HS {code} {name}".strip() for code in hs_codes[:GIST_CODES]
                     for name in [names.hs_name_zh(code)])
    if line_names and codes:
        return f"{line_names}（{codes}）"
    return line_names or codes or (f"{member_zh}通报" if member_zh else "")


@dataclass
class Names:
    """The reference names messages show: members (members.yaml) and product lines (the catalogue)."""

    members: Members
    lines: dict[str, tuple[str, str]] = field(default_factory=dict)  # line id -> (Chinese, English)
    nomenclature: HSNomenclature | None = None  # for the Chinese names of HS codes

    def hs_name_zh(self, code: str) -> str:
        return self.nomenclature.name_zh(code) if self.nomenclature is not None else ""

    def member(self, code: str) -> Named:
        member = self.members.get(code) if code else None
        return Named(code, member.name_zh, member.name_en) if member else Named(code)

    def line(self, line_id: str) -> Named:
        name_zh, name_en = self.lines.get(line_id, ("", ""))
        return Named(line_id, name_zh, name_en)


def _hs_lines(evidence: list[Evidence]) -> list[MatchLine]:
    """One line per (reader's prefix, origin, covering) with the notice's codes under it, in the order first
    seen; an inferred code on its own line with its score."""
    codes: dict[tuple, list[Evidence]] = {}
    for e in evidence:
        key = (e.value, e.origin, e.covers, e.detail if e.origin == "inferred" else "")
        codes.setdefault(key, []).append(e)
    return [
        MatchLine("hs", prefix, ", ".join(e.detail for e in found), origin, _score(found[0].score), covers)
        for (prefix, origin, covers, _), found in codes.items()
    ]


def _score(score: float | None) -> str:
    return "" if score is None else f"{score:.2f}"


def _match_lines(evidence: list[Evidence], names: Names, level: str) -> list[MatchLine]:
    """The reader's lines, in the evidence's order by kind. The level is one line: the highest minimum among the
    reader's filters (the copies of a group, each with its own level, are shown as this notice)."""
    lines, minimum = _hs_lines([e for e in evidence if e.kind == "hs"]), ""
    for e in evidence:
        if e.kind == "level":
            required = required_level(e)
            minimum = required if level_rank(required) > level_rank(minimum) else minimum
        elif e.kind in ("product_line", "member"):
            named = names.line(e.value) if e.kind == "product_line" else names.member(e.value)
            lines.append(MatchLine(e.kind, e.value, e.detail, name_zh=named.name_zh, name_en=named.name_en))
        elif e.kind != "hs":
            lines.append(MatchLine(e.kind, e.value, e.detail))
    if minimum:
        lines.append(MatchLine("level", level, minimum))
    return lines


def rule_lines(rule: Rule, names: Names) -> list[MatchLine]:
    """A filter rule's criteria as lines the templates word per language (the level: the minimum asked for)."""
    lines = [MatchLine("hs", code) for code in rule.hs]
    for line_id in rule.product_lines:
        line = names.line(line_id)
        lines.append(MatchLine("product_line", line_id, name_zh=line.name_zh, name_en=line.name_en))
    lines += [MatchLine("keyword", keyword) for keyword in rule.keywords]
    for code in rule.members:
        member = names.member(code)
        lines.append(MatchLine("member", code, name_zh=member.name_zh, name_en=member.name_en))
    lines += [MatchLine("area", area) for area in rule.areas]
    if level_rank(rule.min_level):
        lines.append(MatchLine("level", "", rule.min_level))
    return lines


def filter_view(flt: Filter, names: Names, lone: bool) -> FilterView:
    """``lone``: the subscriber's only filter, whose name is worth showing only when someone gave it one."""
    return FilterView(
        name="" if lone and flt.name == DEFAULT_FILTER else flt.name,
        include=rule_lines(flt.include, names),
        exclude=[line for rule in flt.exclude for line in rule_lines(rule, names)],
    )


def _shown_filters(filters: list[str] | None) -> list[str]:
    """The reader's matched filter names, unless the only one is the unnamed ``default`` (nothing to tell)."""
    names = list(filters or [])
    return [] if names == [DEFAULT_FILTER] else names


def notice_item(
    notice: Notice,
    assessment: dict[str, Any] | None,
    *,
    day: dt.date,
    base_url: str,
    names: Names,
    evidence: list[Evidence] | None = None,
    deadline: dt.date | None = None,
    cutoff: dt.date | None = None,
    filters: list[str] | None = None,
    joint: list[str] | None = None,
) -> NoticeItem:
    """Everything a template shows about one notice, for one reader on one day."""
    assessment = assessment or {}
    member = names.member(notice.member_code)
    title_zh, description_zh, products_zh = _texts(notice, "zh")
    title_en, description_en, products_en = _texts(notice, "en")
    deadline = deadline or notice.comment_deadline
    lines = [
        str(p["id"]) for p in sorted(assessment.get("product_lines", []), key=lambda p: -float(p["score"]))
    ]
    given = list(dict.fromkeys([*notice.hs_codes, *assessment.get("hs_given", [])]))
    product_lines = [names.line(i) for i in lines]
    if not (title_zh or title_en):  # a notice known by its description or products only: never a blank title
        own = notice.text()
        untitled = (own.products or own.description)[:120]
        title_zh, title_en = (to_simplified(untitled), "") if notice.language == "zh" else ("", untitled)
    if not title_zh:
        title_zh = chinese_gist(product_lines, given, names, member.name_zh)
    return NoticeItem(
        symbol=notice.symbol,
        kind=notice.kind or "regular",
        base_symbol=notice.base_symbol or "",
        area=notice.area or "",
        member_code=notice.member_code,
        member_zh=member.name_zh or notice.member,
        member_en=member.name_en or notice.member,
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
        compliance_date=compliance_date(notice, assessment),
        level=assessment.get("level") or "none",
        reasons=list(assessment.get("reasons", [])),
        reasons_zh=list(assessment.get("reasons_zh") or []),
        matches=_match_lines(evidence or [], names, assessment.get("level") or "none"),
        product_lines=product_lines,
        hs_codes=given,
        hs_inferred=[
            f"{h['code']} ({float(h.get('score', 0)):.2f})"
            for h in assessment.get("hs_inferred", [])
            if h.get("shown") and h["code"] not in given  # only what the classifier is confident of
        ],
        notice_url=notice_url(base_url, notice.symbol),
        document_url=document_url(parse_symbol(notice.symbol)),
        document_urls=[u for u in safe_links(notice.urls) if not is_search_page(u)
                       and u != document_url(parse_symbol(notice.symbol))],
        filters=_shown_filters(filters),
        joint=[joint_entry(symbol, names, base_url) for symbol in joint or []],
    )


def compliance_date(notice: Notice, assessment: dict[str, Any]) -> str:
    """When products must comply: an adopting addendum's entry into force as a date (``Notice.compliance_date``),
    else the entry into force (then the adoption date) as the notice states it."""
    adopted = notice.compliance_date
    return adopted.isoformat() if adopted else str(notice.entry_into_force or notice.adoption_date or "")


def for_reader(
    item: NoticeItem, evidence: list[Evidence], names: Names, filters: list[str] | None = None
) -> NoticeItem:
    """A copy of a notice's item with one reader's evidence and filters (the rest is shared, not copied:
    a shallow copy and two fields set, not ``dataclasses.replace``, which runs ``__init__`` with every
    field)."""
    reader = copy.copy(item)
    reader.matches = _match_lines(evidence, names, item.level)
    reader.filters = _shown_filters(filters)
    return reader


def member_code(symbol: str) -> str:
    try:
        return parse_symbol(symbol).member_code or symbol
    except SymbolError:
        return symbol


def joint_entry(symbol: str, names: Names, base_url: str) -> JointEntry:
    """A group member named by its symbol (its copy need not be in the archive yet)."""
    try:
        code = parse_symbol(symbol).member_code
    except SymbolError:
        code = ""
    member = names.member(code)
    return JointEntry(
        symbol=symbol,
        member_code=code,
        member_zh=member.name_zh or code,
        member_en=member.name_en or code,
        notice_url=notice_url(base_url, symbol),
    )

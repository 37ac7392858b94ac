"""Atom 1.0 feeds of notices: per catalogue product line, per member, and per subscriber filter.

Feed readers decide what is new by entry id and ``updated``. So an entry's id
is the notice's WTO symbol (``urn:tbtwatch:notice:G/TBT/N/EU/1100``), the same
in every feed and for ever, and its ``updated`` is the latest distribution
date among the notice and its follow-ups (addenda, corrigenda, revisions): an
addendum extending the comment period makes the reader show the notice again,
with the follow-up named in the summary. Follow-ups whose base is in the same
feed are folded into the base's entry; others are entries of their own.

Line and member feeds are public (the same query anyone can run on the search
page). A filter is personal: its feed URL carries a signed token naming the
filter (``tokens.FEED``), which stops working when the subscriber unsubscribes.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from alerts import subscriptions, tokens
from alerts.context import notice_url, safe_links
from alerts.daybook import assessed_between
from alerts.rules import Filter, NoticeFacts, evaluate_filter
from archive.base import NoticeStore, SearchQuery
from tbtwatch.members import Members
from tbtwatch.model import Notice
from tbtwatch.settings import Settings

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_SIZE = 50
SCAN_WINDOW = dt.timedelta(days=90)
MAX_SCAN = 20_000
FIRST_DAY = dt.date(1995, 1, 1)  # the WTO agreements' first notifications
GENERATOR = "tbtwatch"
ET.register_namespace("", ATOM)


class FeedAccessError(ValueError):
    """A personal feed asked for without a valid token; the message says what to do."""


def entry_id(symbol: str) -> str:
    return f"urn:tbtwatch:notice:{symbol}"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc)


@dataclass
class FeedEntry:
    notice: Notice
    assessment: dict
    followups: list[Notice] = field(default_factory=list)

    @property
    def updated(self) -> dt.datetime:
        days = [n.distribution_date for n in [self.notice, *self.followups] if n.distribution_date]
        if days:
            return _midnight(max(days))
        return self.notice.fetched_at.astimezone(dt.timezone.utc).replace(microsecond=0)

    @property
    def published(self) -> dt.datetime | None:
        return _midnight(self.notice.distribution_date) if self.notice.distribution_date else None


@dataclass
class Feed:
    id: str
    title: str
    self_url: str
    page_url: str
    entries: list[FeedEntry]
    lang: str = "zh"


def fold_followups(store: NoticeStore, notices: Iterable[Notice]) -> list[FeedEntry]:
    """One entry per notice, a follow-up inside its base's entry when the base is in the set; newest first."""
    notices = list(notices)
    present = {n.symbol for n in notices}
    entries = []
    for notice in notices:
        if notice.base_symbol and notice.base_symbol in present:
            continue
        followups = [v for v in store.history(notice.symbol) if v.symbol != notice.symbol and v.base_symbol]
        entries.append(FeedEntry(notice, store.get_assessment(notice.symbol) or {}, followups))
    return sorted(entries, key=lambda e: (e.updated, e.notice.symbol), reverse=True)


# XML 1.0 allows tab, newline, carriage return and printable characters; crawled text may hold others.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry removed (a stray \\x00 or ESC from a crawled page)."""
    return _NOT_XML.sub("", text)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: xml_safe(v) for k, v in attrs.items()})
    element.text = xml_safe(text)
    return element


def _link(parent: ET.Element, href: str, rel: str = "alternate", kind: str = "") -> None:
    attrs = {"href": xml_safe(href), "rel": rel}
    if kind:
        attrs["type"] = kind
    ET.SubElement(parent, f"{{{ATOM}}}link", attrs)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(entry: FeedEntry, lang: str, members: Members) -> str:
    notice = entry.notice
    text = notice.text(lang)
    member = members.get(notice.member_code)
    name = member.name(lang) if member else notice.member or notice.member_code
    labels = _LABELS[lang]
    lines = [
        f"{labels['member']}: {name} ({notice.member_code}) · {notice.area}",
        f"{labels['products']}: {text.products}" if text.products else "",
        f"{labels['deadline']}: {notice.comment_deadline.isoformat()}" if notice.comment_deadline else "",
        f"{labels['level']}: {entry.assessment['level']}" if entry.assessment.get("level") else "",
        text.description,
    ]
    for follow in entry.followups:
        change = f"{follow.symbol} ({follow.distribution_date or ''}): {follow.text(lang).title}"
        if follow.comment_deadline:
            change += f" → {labels['deadline']} {follow.comment_deadline.isoformat()}"
        lines.append(f"{labels['followup']}: {change}")
    return "\n".join(line for line in lines if line)


_LABELS = {
    "zh": {
        "member": "通报成员",
        "products": "产品",
        "deadline": "评议截止日期",
        "level": "预警等级",
        "followup": "后续文件",
    },
    "en": {
        "member": "Member",
        "products": "Products",
        "deadline": "Final date for comments",
        "level": "Warning level",
        "followup": "Follow-up",
    },
}


def render_atom(feed: Feed, *, base_url: str, members: Members) -> bytes:
    """The feed as Atom 1.0 XML (UTF-8). Crawled text goes in as element text, escaped by the serializer."""
    root = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: "zh-CN" if feed.lang == "zh" else "en"})
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    newest = max((e.updated for e in feed.entries), default=_midnight(dt.date(2000, 1, 1)))
    _text(root, "updated", _stamp(newest))
    _link(root, feed.self_url, "self", "application/atom+xml")
    _link(root, feed.page_url, "alternate", "text/html")
    _text(root, "generator", GENERATOR, uri=base_url)
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", GENERATOR)
    for entry in feed.entries:
        notice = entry.notice
        element = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(element, "id", entry_id(notice.symbol))
        title = notice.text(feed.lang).title or notice.text(feed.lang).products[:120]
        _text(element, "title", f"{notice.symbol} {title}".strip())
        _text(element, "updated", _stamp(entry.updated))
        if entry.published:
            _text(element, "published", _stamp(entry.published))
        member = members.get(notice.member_code)
        entry_author = ET.SubElement(element, f"{{{ATOM}}}author")
        _text(entry_author, "name", member.name(feed.lang) if member else notice.member or notice.member_code)
        _link(element, notice_url(base_url, notice.symbol), "alternate", "text/html")
        for url in safe_links(notice.urls):
            _link(element, url, "related")
        for code in notice.hs_codes:
            _text(element, "category", "", term=code, scheme="urn:tbtwatch:hs", label=f"HS {code}")
        for line in entry.assessment.get("product_lines", []):
            _text(element, "category", "", term=str(line["id"]), scheme="urn:tbtwatch:product-line")
        _text(element, "summary", _summary(entry, feed.lang, members), type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# -- which notices each feed holds -------------------------------------------------------------


def _feed_url(base_url: str, path: str, lang: str, token: str = "") -> str:
    query = f"?lang={lang}" + (f"&token={token}" if token else "")
    return f"{base_url.rstrip('/')}/feeds/{path}{query}"


def _search(store: NoticeStore, **criteria) -> list[Notice]:
    result = store.search(SearchQuery(sort="date", limit=FEED_SIZE, **criteria))
    return [hit.notice for hit in result.hits]


def line_feed(settings: Settings, store: NoticeStore, line_id: str, line_name: str, lang: str) -> Feed:
    base = settings.alerts.base_url
    return Feed(
        id=f"urn:tbtwatch:feed:line:{line_id}",
        title=f"tbtwatch · {line_name}",
        self_url=_feed_url(base, f"lines/{quote(line_id)}.atom", lang),
        page_url=f"{base.rstrip('/')}/search?line={quote(line_id)}&sort=date",
        entries=fold_followups(store, _search(store, product_lines=[line_id])),
        lang=lang,
    )


def member_feed(settings: Settings, store: NoticeStore, code: str, member_name: str, lang: str) -> Feed:
    base = settings.alerts.base_url
    return Feed(
        id=f"urn:tbtwatch:feed:member:{code}",
        title=f"tbtwatch · {member_name} ({code})",
        self_url=_feed_url(base, f"members/{quote(code)}.atom", lang),
        page_url=f"{base.rstrip('/')}/search?member={quote(code)}&sort=date",
        entries=fold_followups(store, _search(store, members=[code])),
        lang=lang,
    )


def filter_feed_url(settings: Settings, filter_id: int, lang: str = "zh") -> str:
    token = tokens.make_token(settings, tokens.FEED, str(filter_id))
    return _feed_url(settings.alerts.base_url, f"filters/{filter_id}.atom", lang, token)


def personal_filter(settings: Settings, filter_id: int, token: str) -> Filter:
    """The filter a feed token opens; ``FeedAccessError`` for a bad token or an unsubscribed owner."""
    try:
        claims = tokens.read_token(settings, token, tokens.FEED)
    except tokens.TokenError as exc:
        raise FeedAccessError(f"this feed link is not valid: {exc}") from None
    found = subscriptions.find_filter(settings, filter_id) if claims.subject == str(filter_id) else None
    if found is None:
        raise FeedAccessError("this feed link is for a filter that no longer exists")
    subscriber, flt = found
    if subscriber.status == "unsubscribed":
        raise FeedAccessError("the subscriber unsubscribed: this personal feed is closed")
    return flt


def _newest_matches(store: NoticeStore, flt: Filter, today: dt.date) -> list[Notice]:
    """The newest ``FEED_SIZE`` notices the filter meets, scanning back window by window from ``today``
    (at most ``MAX_SCAN`` notices, so a rare filter on a large archive stays quick)."""
    matched: list[Notice] = []
    scanned, total = 0, store.count()
    until = today
    while len(matched) < FEED_SIZE and scanned < min(total, MAX_SCAN) and until >= FIRST_DAY:
        since = until - SCAN_WINDOW
        window = assessed_between(store, since, until)
        scanned += len(window)
        matched += [
            entry.notice
            for entry in reversed(window)
            if evaluate_filter(flt, NoticeFacts.build(entry.notice, entry.assessment)) is not None
        ]
        until = since - dt.timedelta(days=1)
    return matched[:FEED_SIZE]


def filter_feed(
    settings: Settings, store: NoticeStore, flt: Filter, lang: str, *, today: dt.date | None = None
) -> Feed:
    """The newest notices that the filter meets (exclusions applied)."""
    base = settings.alerts.base_url
    return Feed(
        id=f"urn:tbtwatch:feed:filter:{flt.id}",
        title=f"tbtwatch · {flt.name}",
        self_url=filter_feed_url(settings, flt.id or 0, lang),
        page_url=f"{base.rstrip('/')}/feeds/",
        entries=fold_followups(store, _newest_matches(store, flt, today or settings.today())),
        lang=lang,
    )

"""The working group's daily digest, in the order a member reads it in 30 seconds.

First the headline (what is new, how much concerns the catalogue, how much is
high), the few notices that need action with their internal cut-offs and what
falls due this week; then the review queue; then each notice, compact; closed
comment periods and adoption notices last, "for compliance", with the date
products must comply by; counts and the trend at the end. Built as a
``MessageContext`` (kind ``digest``) so the HTML file under
``$TBTWATCH_HOME/digests/`` and the emailed digest are the same rendering.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from alerts import reviews
from alerts.context import (CountRow, Headline, MessageContext, NoticeItem, ReviewRow, TrendBar, notice_url,
                            reading_order)
from alerts.cutoff import cutoff_date, cutoff_working_days
from alerts.daybook import Assessed, ItemMaker, assessed_between, new_notices
from alerts.grouping import NoticeGroups, refresh_groups
from archive.base import NoticeStore

TREND_WEEKS = 12
WORKING_GROUP_LANGUAGES = ("zh", "en")  # the digest, the weekly summary and the group's reminders: Chinese first
CHART_HEIGHT = 100  # pixels for the tallest bar
CHART_BASELINE = 120
BAR_STEP = 40
ACTION_LIMIT = 5  # the headline lists this many notices that need action; the queue has the rest
ACTION_LEVELS = ("high", "medium")
DUE_WINDOW = dt.timedelta(days=7)
NOT_ARCHIVED = {"zh": "（档案中尚无此通报的文本）", "en": "(no text of this notification in the archive yet)"}


def needs_action(item: NoticeItem) -> bool:
    """Worth the group's comment now: high or medium, and the comment period still open."""
    return item.level in ACTION_LEVELS and not item.for_compliance


def due_within(rows: list[ReviewRow], day: dt.date) -> list[ReviewRow]:
    """Open reviews whose cut-off (else final date) falls in the seven days from ``day``, soonest first."""
    until = (day + DUE_WINDOW).isoformat()
    due = [r for r in rows if day.isoformat() <= (r.cutoff_date or r.comment_deadline or "9999") <= until]
    return sorted(due, key=lambda r: (r.cutoff_date or r.comment_deadline, r.symbol))


def trend_bars(store: NoticeStore, day: dt.date) -> tuple[list[TrendBar], int]:
    """Relevant notices per week (by distribution date) for the 12 weeks ending on ``day``."""
    first = day - dt.timedelta(days=7 * TREND_WEEKS - 1)
    counts = Counter(
        (entry.notice.distribution_date - first).days // 7
        for entry in assessed_between(store, first, day)
        if entry.relevant and entry.notice.distribution_date
    )
    peak = max(counts.values(), default=0)
    bars = []
    for week in range(TREND_WEEKS):
        count = counts.get(week, 0)
        height = round(CHART_HEIGHT * count / peak) if peak else 0
        bars.append(
            TrendBar(
                week_start=(first + dt.timedelta(days=7 * week)).isoformat(),
                count=count,
                x=10 + BAR_STEP * week,
                y=CHART_BASELINE - height,
                height=height,
            )
        )
    return bars, peak


def _counts(entries: list[Assessed], make: ItemMaker) -> list[CountRow]:
    """Notices per member, area and product line, most first; named in each language."""
    names = make.names
    rows = [
        CountRow("member", code, named.name_zh, named.name_en, n)
        for code, n in Counter(e.notice.member_code for e in entries).most_common()
        for named in [names.member(code)]
    ]
    rows += [CountRow("area", area, count=n) for area, n in Counter(e.notice.area for e in entries).most_common()]
    lines = Counter(str(p["id"]) for e in entries for p in e.assessment.get("product_lines", []))
    rows += [
        CountRow("product_line", line, named.name_zh, named.name_en, n)
        for line, n in lines.most_common()
        for named in [names.line(line)]
    ]
    return rows


def _review_queue(settings, make: ItemMaker) -> list[ReviewRow]:
    day = make.day
    rows = []
    for review in reviews.list_reviews(settings, reviews.OPEN_STATUSES):
        entry = make.entry(review.symbol)
        notice = entry.notice if entry else None
        deadline = make.deadline(notice) if notice else None
        group = make.groups.group_of(review.symbol)
        item = make(entry) if entry else None
        rows.append(
            ReviewRow(
                symbol=review.symbol,
                level=item.level if item else "none",
                title_zh=item.text_in("title", "zh") if item else NOT_ARCHIVED["zh"],
                title_en=item.text_in("title", "en") if item else NOT_ARCHIVED["en"],
                status=review.status,
                owner=review.owner,
                notes=review.notes,
                comment_deadline=deadline.isoformat() if deadline else "",
                days_left=(deadline - day).days if deadline else None,
                cutoff_date=str(cutoff_date(deadline, make.calendar, cutoff_working_days(settings)) or ""),
                joint_symbols=group.others(review.symbol) if group else [],
                notice_url=notice_url(settings.alerts.base_url, review.symbol),
            )
        )
    return sorted(rows, key=reading_order)


_LEVEL_RANK = {"high": 3, "medium": 2, "low": 1}


def one_per_group(entries: list[Assessed], groups: NoticeGroups) -> list[Assessed]:
    """One entry per near-duplicate group, in the order first seen: the member's copy with the highest
    level (one text is as urgent as its most exposed market), the lead's on a tie."""
    chosen: dict[str, tuple[tuple[int, bool], Assessed]] = {}
    for entry in entries:
        lead = groups.lead_of(entry.notice.symbol)
        rank = (_LEVEL_RANK.get(str(entry.assessment.get("level")), 0), entry.notice.symbol == lead)
        if lead not in chosen or rank > chosen[lead][0]:
            chosen[lead] = (rank, entry)
    return [entry for _, entry in chosen.values()]


def _with_review(settings, make: ItemMaker, entry: Assessed, lead: str) -> NoticeItem:
    """The notice's item with the status and owner of its group's review (under the lead symbol)."""
    item = make(entry)
    review = reviews.get_review(settings, lead)
    item.review_status, item.review_owner = (review.status, review.owner) if review else ("", "")
    return item


def digest_context(
    settings, store: NoticeStore, days: list[dt.date], failed_sources: list[str]
) -> MessageContext:
    """Everything the digest shows for ``days`` (one day, or a week ending on the last); relevant new notices
    enter the review queue as ``new``, one review per near-duplicate group (under the group's lead symbol)."""
    day = max(days)
    refresh_groups(settings, store, days)
    make = ItemMaker(settings, store, day)
    followups, relevant, domestic = [], [], []
    new = new_notices(store, days)
    for entry in new:
        if entry.domestic:  # our own government's measure: told, not queued for comment
            domestic.append(entry)
            continue
        base = entry.notice.base_symbol
        base_review = reviews.get_review(settings, make.groups.lead_of(base)) if base else None
        if base_review is not None and base_review.status != "no_action":
            followups.append(entry)
        elif entry.relevant:
            relevant.append(entry)
    counted = relevant  # the counts count every member's copy; the entries below show each group once
    followups, relevant = one_per_group(followups, make.groups), one_per_group(relevant, make.groups)
    for entry in relevant:
        if not make(entry).for_compliance:  # nothing to comment on: no review to open
            reviews.open_review(settings, make.groups.lead_of(entry.notice.symbol))

    details = [_with_review(settings, make, entry, make.groups.lead_of(entry.notice.symbol)) for entry in relevant]
    follow_items = [_with_review(settings, make, entry, make.groups.lead_of(entry.notice.base_symbol or ""))
                    for entry in followups]
    compliance = [i for i in details + follow_items if i.for_compliance]
    details = sorted((i for i in details if not i.for_compliance), key=reading_order)
    actions = [i for i in details if needs_action(i)]
    queue = _review_queue(settings, make)
    trend, peak = trend_bars(store, day)
    return MessageContext(
        kind="digest",
        languages=list(WORKING_GROUP_LANGUAGES),
        day=day.isoformat(),
        period_start=min(days).isoformat() if len(days) > 1 else "",
        base_url=settings.alerts.base_url,
        recipients=list(settings.alerts.working_group),
        headline=Headline(new=len(new), relevant=len(counted), high=sum(e.assessment.get("level") == "high"
                                                                      for e in counted),
                          more_actions=max(0, len(actions) - ACTION_LIMIT)),
        actions=actions[:ACTION_LIMIT],
        due_this_week=due_within(queue, day),
        details=details,
        compliance=sorted(compliance, key=lambda i: (i.compliance_date or "9999", i.symbol)),
        followups=sorted((i for i in follow_items if not i.for_compliance), key=reading_order),
        domestic=[make(entry) for entry in one_per_group(domestic, make.groups)],
        counts=_counts(counted, make),
        trend=trend,
        trend_max=peak,
        review_queue=queue,
        failed_sources=list(failed_sources),
    )

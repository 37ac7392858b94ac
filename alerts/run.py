"""Entry points for the DAG, ``make demo`` and the CLI; each is idempotent for its day.

``send_alerts`` / ``send_reminders`` / ``build_digest`` queue messages through
the outbox (which refuses a second copy of anything) and then deliver what is
due, so running any of them twice for a day sends nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from alerts import reviews, subscriptions
from alerts.context import MessageContext, NoticeItem
from alerts.daybook import Assessed, ItemMaker, effective_deadline, new_notices
from alerts.delivery import DeliveryReport, deliver
from alerts.digest import digest_context
from alerts.matching import SubscriptionIndex
from alerts.messages import render, rendered_email
from alerts.outbox import Outbox, Rendered
from alerts.rules import Evidence, NoticeFacts, Rule
from alerts.subscriptions import Subscriber
from archive.base import NoticeStore, open_store
from tbtwatch.settings import Settings

# Days of "new" notices each frequency looks at; the outbox drops what was already sent,
# so the overlap only catches up after a missed run.
POOL_DAYS = {"immediate": 3, "daily": 3, "weekly": 9}


@dataclass
class AlertReport:
    matched: int = 0  # (subscriber, notice) pairs
    queued: list[int] = field(default_factory=list)  # new outbox rows
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    def summary(self) -> str:
        return (
            f"{self.matched} matches, {len(self.queued)} messages queued; delivery: {self.delivery.summary()}"
        )


def _store(settings: Settings, store: NoticeStore | None) -> NoticeStore:
    return store or open_store(settings)


def describe_rule(rule: Rule) -> str:
    parts = [
        f"HS {', '.join(rule.hs)}" if rule.hs else "",
        f"product lines {', '.join(rule.product_lines)}" if rule.product_lines else "",
        f"keywords {', '.join(rule.keywords)}" if rule.keywords else "",
        f"members {', '.join(rule.members)}" if rule.members else "",
        f"{'/'.join(rule.areas)}" if rule.areas else "",
        f"level >= {rule.min_level}" if rule.min_level != "none" else "",
    ]
    return "; ".join(p for p in parts if p)


def _message_context(subscriber: Subscriber, settings: Settings, **fields) -> MessageContext:
    return MessageContext(
        languages=subscriber.languages,
        recipient=subscriber.email,
        base_url=settings.alerts.base_url,
        frequency=subscriber.frequency,
        unsubscribe_url=subscriptions.unsubscribe_url(settings, subscriber.email),
        **fields,
    )


def queue_confirmation(settings: Settings, subscriber: Subscriber, day: dt.date | None = None) -> int | None:
    """Queue the confirm-link message (at most one a day per address)."""
    day = day or dt.date.today()
    context = MessageContext(
        kind="confirm",
        languages=subscriber.languages,
        recipient=subscriber.email,
        base_url=settings.alerts.base_url,
        frequency=subscriber.frequency,
        day=day.isoformat(),
        confirm_url=subscriptions.confirm_url(settings, subscriber),
        filters_summary=[describe_rule(f.include) for f in subscriber.filters],
    )
    return Outbox(settings).enqueue(
        recipient=subscriber.email,
        dedup_key=f"confirm:{day}",
        kind="confirm",
        render=lambda mid, _: rendered_email("confirm", context, sender=settings.smtp.sender, message_id=mid),
    )


def sign_up(settings: Settings, email: str, rule: Rule, **options) -> subscriptions.SubscribeResult:
    """Subscribe, and send the confirm link unless the subscriber is already confirmed (CLI and web)."""
    result = subscriptions.subscribe(settings, email, rule, **options)
    if result.needs_confirmation:
        queue_confirmation(settings, result.subscriber)
    return result


def match_day(
    settings: Settings, store: NoticeStore, day: dt.date, frequency: str
) -> dict[int, list[tuple[Assessed, list[Evidence]]]]:
    """Active subscribers of ``frequency`` -> the new notices their filters meet, with evidence."""
    subscribers = {
        s.id: s for s in subscriptions.list_subscribers(settings, "active") if s.frequency == frequency
    }
    index = SubscriptionIndex(f for s in subscribers.values() for f in s.filters)
    pool = new_notices(store, [day - dt.timedelta(days=i) for i in range(POOL_DAYS[frequency])])
    found: dict[int, list[tuple[Assessed, list[Evidence]]]] = defaultdict(list)
    for entry in pool:
        per_subscriber: dict[int, list[Evidence]] = defaultdict(list)
        for match in index.match(NoticeFacts.build(entry.notice, entry.assessment)):
            per_subscriber[match.filter.subscriber_id].extend(match.evidence)
        for sid, evidence in per_subscriber.items():
            found[sid].append((entry, evidence))
    return found


def _alert_renderer(
    settings: Settings,
    subscriber: Subscriber,
    make: ItemMaker,
    matches: dict[str, tuple[Assessed, list[Evidence]]],
):
    """Renders only the notices not yet sent (so a re-run costs a lookup, not a rendering)."""

    def render_alert(message_id: str, fresh: list[str]) -> Rendered:
        items = [make(*matches[symbol]) for symbol in fresh]
        context = _message_context(subscriber, settings, kind="alert", day=make.day.isoformat(), items=items)
        return rendered_email("alert", context, sender=settings.smtp.sender, message_id=message_id)

    return render_alert


def send_alerts(
    settings: Settings,
    day: dt.date,
    frequency: str = "immediate",
    *,
    store: NoticeStore | None = None,
    deliver_now: bool = True,
) -> AlertReport:
    """Queue alerts for the notices new around ``day`` to ``frequency`` subscribers, then deliver."""
    store = _store(settings, store)
    outbox, make = Outbox(settings), ItemMaker(settings, store, day)
    subscribers = {s.id: s for s in subscriptions.list_subscribers(settings, "active")}
    report = AlertReport()
    for sid, matches in match_day(settings, store, day, frequency).items():
        subscriber = subscribers[sid]
        report.matched += len(matches)
        by_symbol = {entry.notice.symbol: (entry, evidence) for entry, evidence in matches}
        render_alert = _alert_renderer(settings, subscriber, make, by_symbol)
        batches = [[s] for s in by_symbol] if frequency == "immediate" else [list(by_symbol)]
        for symbols in batches:
            key = symbols[0] if frequency == "immediate" else f"{frequency}:{day}"
            row = outbox.enqueue(
                recipient=subscriber.email,
                dedup_key=key,
                kind="alert",
                symbols=symbols,
                item_kind="alert",
                render=render_alert,
            )
            if row is not None:
                report.queued.append(row)
    if deliver_now:
        report.delivery = deliver(settings)
    return report


REMINDER_CATCH_UP = 2  # days a reminder may come late (a missed run), never more


def _reminder_threshold(days_left: int, thresholds: Iterable[int]) -> int | None:
    """The configured N (14, 3) that ``days_left`` has just reached, allowing ``REMINDER_CATCH_UP`` days' delay.

    A notice first followed with 10 days left gets no belated 14-day reminder on top of its alert, only the
    3-day one later.
    """
    fitting = [n for n in thresholds if 0 <= n - days_left <= REMINDER_CATCH_UP and days_left >= 0]
    return min(fitting) if fitting else None


def _due_reminders(
    settings: Settings, store: NoticeStore, make: ItemMaker, symbols: list[str], day: dt.date
) -> dict[int, dict[str, NoticeItem]]:
    """Reminder threshold -> the notices among ``symbols`` whose final date for comments it has reached."""
    due: dict[int, dict[str, NoticeItem]] = defaultdict(dict)
    for symbol in symbols:
        notice = store.get(symbol)
        deadline = effective_deadline(store, notice) if notice else None
        if notice is None or deadline is None:
            continue
        threshold = _reminder_threshold((deadline - day).days, settings.alerts.reminder_days)
        if threshold is not None:
            due[threshold][symbol] = make(Assessed(notice, store.get_assessment(symbol) or {}))
    return due


def send_reminders(
    settings: Settings, day: dt.date, *, store: NoticeStore | None = None, deliver_now: bool = True
) -> AlertReport:
    """Remind subscribers (notices they were alerted to) and the working group (open reviews) of deadlines."""
    store = _store(settings, store)
    outbox, make = Outbox(settings), ItemMaker(settings, store, day)
    report = AlertReport()
    audiences: list[tuple[str, list[str], Subscriber | None]] = [
        (s.email, outbox.followed(s.email), s) for s in subscriptions.list_subscribers(settings, "active")
    ]
    queue = [r.symbol for r in reviews.list_reviews(settings, reviews.OPEN_STATUSES)]
    audiences += [(address, queue, None) for address in settings.alerts.working_group]
    for recipient, symbols, subscriber in audiences:
        due = _due_reminders(settings, store, make, symbols, day)
        for threshold, items in due.items():
            if subscriber is not None:
                context = _message_context(
                    subscriber, settings, kind="reminder", day=day.isoformat(), reminder_days=threshold
                )
            else:
                context = MessageContext(
                    kind="reminder",
                    languages=["zh", "en"],
                    recipient=recipient,
                    base_url=settings.alerts.base_url,
                    day=day.isoformat(),
                    reminder_days=threshold,
                )

            def render_reminder(message_id: str, fresh: list[str], context=context, items=items) -> Rendered:
                context.items = [items[s] for s in fresh]
                return rendered_email("reminder", context, sender=settings.smtp.sender, message_id=message_id)

            row = outbox.enqueue(
                recipient=recipient,
                dedup_key=f"{day}:{threshold}",
                kind="reminder",
                symbols=list(items),
                item_kind=f"reminder-{threshold}",
                render=render_reminder,
            )
            report.matched += len(items)
            if row is not None:
                report.queued.append(row)
    if deliver_now:
        report.delivery = deliver(settings)
    return report


def _write_report(
    settings: Settings, context: MessageContext, name: str, kind: str, deliver_now: bool
) -> Path:
    """Write a working-group report as HTML (rewritten on a re-run) and email it once to each group address."""
    _, _, html = render("digest", context)
    target = settings.path("digests", f"{name}.html")
    partial = target.with_suffix(".part")
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    outbox = Outbox(settings)
    for address in settings.alerts.working_group:

        def render_report(message_id: str, _: list[str], address=address) -> Rendered:
            context.recipient = address
            return rendered_email("digest", context, sender=settings.smtp.sender, message_id=message_id)

        outbox.enqueue(recipient=address, dedup_key=context.day, kind=kind, render=render_report)
    if deliver_now and settings.alerts.working_group:
        deliver(settings)
    return target


def build_digest(
    settings: Settings,
    day: dt.date,
    failed_sources: list[str] | None = None,
    *,
    store: NoticeStore | None = None,
    deliver_now: bool = True,
) -> Path:
    """Write ``digests/digest-YYYY-MM-DD.html`` and email it once to the working group."""
    context = digest_context(settings, _store(settings, store), [day], failed_sources or [])
    return _write_report(settings, context, f"digest-{day.isoformat()}", "digest", deliver_now)


def build_weekly_summary(
    settings: Settings, day: dt.date, *, store: NoticeStore | None = None, deliver_now: bool = True
) -> Path:
    """The digest over the seven days ending on ``day``: ``digests/weekly-YYYY-MM-DD.html``, emailed once."""
    week = [day - dt.timedelta(days=i) for i in range(6, -1, -1)]
    context = digest_context(settings, _store(settings, store), week, [])
    return _write_report(settings, context, f"weekly-{day.isoformat()}", "weekly", deliver_now)


def deliver_outbox(settings: Settings, now: dt.datetime | None = None) -> DeliveryReport:
    """Send whatever is due (retries included)."""
    return deliver(settings, now)


def comment_draft(
    settings: Settings, symbol: str, *, store: NoticeStore | None = None, day: dt.date | None = None
) -> str:
    """A comment draft (Chinese with English) for the working group to edit; marks the review ``comment_drafted``."""
    from alerts.messages import environment

    store = _store(settings, store)
    notice = store.get(symbol)
    if notice is None:
        raise reviews.ReviewError(f"{symbol} is not in the archive (import or crawl it first)")
    item = ItemMaker(settings, store, day or dt.date.today())(
        Assessed(notice, store.get_assessment(symbol) or {})
    )
    review = reviews.get_review(settings, symbol)
    text = (
        environment()
        .get_template("comment_draft.txt")
        .render(item=item, notes=review.notes if review else "")
    )
    reviews.update_review(settings, symbol, status="comment_drafted", note="comment draft generated")
    return text

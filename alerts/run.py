"""Entry points for the DAG, ``make demo`` and the CLI; each is idempotent for its day.

``send_alerts`` / ``send_reminders`` / ``build_digest`` queue messages through
the outbox (which refuses a second copy of anything) and then deliver what is
due, so running any of them twice for a day sends nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from alerts import reviews, subscriptions, webhooks
from alerts.context import MessageContext, Names, NoticeItem, filter_view, reading_order
from alerts.daybook import Assessed, ItemMaker, new_notices
from alerts.delivery import DeliveryReport, deliver
from alerts.digest import WORKING_GROUP_LANGUAGES, digest_context
from alerts.grouping import NoticeGroups, refresh_groups
from alerts.matching import SubscriptionIndex
from alerts.messages import render, rendered_email
from alerts.outbox import Outbox, Rendered
from alerts.rules import Evidence, Filter, NoticeFacts, Rule
from alerts.subscriptions import Subscriber
from alerts.validation import Vocabulary
from archive.backends import open_store
from archive.base import NoticeStore
from tbtwatch.settings import Settings

# Days of "new" notices each frequency looks at; the outbox drops what was already sent,
# so the overlap only catches up after a missed run.
POOL_DAYS = {"immediate": 3, "daily": 3, "weekly": 9}


@dataclass
class AlertReport:
    matched: int = 0  # (subscriber, notice group) pairs
    queued: list[int] = field(default_factory=list)  # new outbox rows
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    webhooks: DeliveryReport = field(default_factory=DeliveryReport)

    def summary(self) -> str:
        return (
            f"{self.matched} matches, {len(self.queued)} messages queued; delivery: {self.delivery.summary()}; "
            f"webhooks: {self.webhooks.summary()}"
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


def describe_filter(flt: Filter) -> str:
    """``name: include rule; excluding ...`` for listings and confirmation messages."""
    text = f"{flt.name}: {describe_rule(flt.include)}"
    excluded = "; ".join(describe_rule(rule) for rule in flt.exclude)
    return f"{text} (excluding {excluded})" if excluded else text


def _message_context(subscriber: Subscriber, settings: Settings, **fields) -> MessageContext:
    return MessageContext(
        languages=subscriber.languages,
        recipient=subscriber.email,
        base_url=settings.alerts.base_url,
        frequency=subscriber.frequency,
        unsubscribe_url=subscriptions.unsubscribe_url(settings, subscriber.email),
        manage_url=subscriptions.manage_url(settings, subscriber.email),
        enquiry_point=settings.alerts.enquiry_point,
        enquiry_contact=settings.alerts.enquiry_point_contact,
        **fields,
    )


def queue_confirmation(
    settings: Settings,
    subscriber: Subscriber,
    day: dt.date | None = None,
    *,
    confirm_url: str | None = None,
    dedup_key: str | None = None,
) -> int | None:
    """Queue the message with the link that confirms ``subscriber``'s filters (by default its confirm link,
    at most one a day per address; ``alerts.signups`` passes the link of a held change request)."""
    day = day or settings.today()
    vocabulary = Vocabulary(settings)
    names = Names(vocabulary.members, vocabulary.line_names or {}, vocabulary.nomenclature)
    context = MessageContext(
        kind="confirm",
        languages=subscriber.languages,
        recipient=subscriber.email,
        base_url=settings.alerts.base_url,
        frequency=subscriber.frequency,
        day=day.isoformat(),
        confirm_url=confirm_url or subscriptions.confirm_url(settings, subscriber),
        filters_summary=[
            filter_view(f, names, lone=len(subscriber.filters) == 1) for f in subscriber.filters
        ],
    )
    return Outbox(settings).enqueue(
        recipient=subscriber.email,
        dedup_key=dedup_key or f"confirm:{day}",
        kind="confirm",
        render=lambda mid, _: rendered_email("confirm", context, sender=settings.smtp.sender, message_id=mid),
    )


def sign_up(settings: Settings, email: str, rule: Rule, **options) -> subscriptions.SubscribeResult:
    """Subscribe, and send the confirm link unless the subscriber is already confirmed (CLI and web)."""
    result = subscriptions.subscribe(settings, email, rule, **options)
    if result.needs_confirmation:
        queue_confirmation(settings, result.subscriber)
    return result


@dataclass
class Match:
    """A notice (or its near-duplicate group) that one subscriber's filters met: every filter, all evidence."""

    entry: Assessed
    evidence: list[Evidence] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    symbols: list[str] = field(
        default_factory=list
    )  # the notice's group, its lead first (or the notice alone)

    @property
    def filter_names(self) -> list[str]:
        return list(dict.fromkeys(f.name for f in self.filters))

    def add(self, evidence: list[Evidence], flt: Filter) -> None:
        known = {(e.kind, e.value, e.detail) for e in self.evidence}
        self.evidence += [e for e in evidence if (e.kind, e.value, e.detail) not in known]
        if not any(f is flt or (f.id is not None and f.id == flt.id) for f in self.filters):
            self.filters.append(flt)


def match_day(settings: Settings, store: NoticeStore, day: dt.date, frequency: str) -> dict[int, list[Match]]:
    """Active subscribers of ``frequency`` -> the new notices their filters meet (a notice once, however many
    of the subscriber's filters it meets)."""
    subscribers = {
        s.id: s for s in subscriptions.list_subscribers(settings, "active") if s.frequency == frequency
    }
    index = SubscriptionIndex(f for s in subscribers.values() for f in s.filters if not f.paused)
    pool = new_notices(store, [day - dt.timedelta(days=i) for i in range(POOL_DAYS[frequency])])
    found: dict[int, list[Match]] = defaultdict(list)
    for entry in pool:
        per_subscriber: dict[int, Match] = {}
        for match in index.match(NoticeFacts.build(entry.notice, entry.assessment)):
            sid = match.filter.subscriber_id
            per_subscriber.setdefault(sid, Match(entry, symbols=[entry.notice.symbol])).add(
                match.evidence, match.filter
            )
        for sid, found_match in per_subscriber.items():
            found[sid].append(found_match)
    return found


def one_match_per_group(matches: list[Match], groups: NoticeGroups) -> list[Match]:
    """Collapse the copies of one text: the lead's match when it matched (else the first copy's), with the
    filters and evidence of every copy and the symbols of the whole group."""
    by_lead: dict[str, Match] = {}
    for match in matches:
        symbol = match.entry.notice.symbol
        group = groups.group_of(symbol)
        lead = group.id if group else symbol
        kept = by_lead.get(lead)
        if kept is None or symbol == lead:
            merged = Match(match.entry, symbols=group.symbols if group else [symbol])
            for other in [m for m in (kept, match) if m is not None]:
                for flt in other.filters:
                    merged.add(other.evidence, flt)
            by_lead[lead] = merged
        else:
            for flt in match.filters:
                kept.add(match.evidence, flt)
    return list(by_lead.values())


def _alert_renderer(settings: Settings, subscriber: Subscriber, make: ItemMaker, batch: list[Match]):
    """Renders only the matches whose notices were not yet sent (a re-run costs a lookup, not a rendering)."""

    def render_alert(message_id: str, fresh: list[str]) -> Rendered:
        fresh_set = set(fresh)
        items = sorted((make(m.entry, m.evidence, m.filter_names) for m in batch if fresh_set & set(m.symbols)),
                       key=reading_order)
        context = _message_context(subscriber, settings, kind="alert", day=make.day.isoformat(), items=items)
        return rendered_email("alert", context, sender=settings.smtp.sender, message_id=message_id)

    return render_alert


def _queue_webhooks(outbox: Outbox, make: ItemMaker, match: Match, endpoints: dict[int, list]) -> list[int]:
    """One POST per (notice group, endpoint of a matched filter), at most once."""
    queued = []
    notice = match.entry.notice
    for flt in match.filters:
        for endpoint in endpoints.get(flt.id, []):
            if outbox.carried(webhooks.CHANNEL, endpoint.recipient, match.symbols, webhooks.KIND):
                continue
            item = make(match.entry, match.evidence, [flt.name])

            def render_webhook(message_id: str, _: list[str], flt=flt, item=item) -> Rendered:
                return webhooks.payload(
                    message_id=message_id,
                    filter_info={
                        "id": flt.id,
                        "name": flt.name,
                        "include": flt.include.to_dict(),
                        "exclude": [r.to_dict() for r in flt.exclude],
                    },
                    notice=notice.model_dump(mode="json"),
                    assessment=match.entry.assessment,
                    group=match.symbols,
                    extra={
                        "notice_url": item.notice_url,
                        "comment_deadline": item.comment_deadline or None,
                        "cutoff_date": item.cutoff_date or None,
                        "evidence": [asdict(e) for e in match.evidence],
                    },
                )

            row = outbox.enqueue(
                recipient=endpoint.recipient,
                dedup_key=match.symbols[0],
                kind=webhooks.KIND,
                channel=webhooks.CHANNEL,
                symbols=match.symbols,
                item_kind=webhooks.KIND,
                render=render_webhook,
            )
            if row is not None:
                queued.append(row)
    return queued


def send_alerts(
    settings: Settings,
    day: dt.date,
    frequency: str = "immediate",
    *,
    store: NoticeStore | None = None,
    deliver_now: bool = True,
    webhook_policy: webhooks.WebhookPolicy | None = None,
) -> AlertReport:
    """Queue alerts (email and webhooks) for the notices new around ``day`` to ``frequency`` subscribers, one per
    near-duplicate group, then deliver."""
    store = _store(settings, store)
    refresh_groups(settings, store, [day - dt.timedelta(days=i) for i in range(POOL_DAYS[frequency])])
    outbox, make = Outbox(settings), ItemMaker(settings, store, day)
    subscribers = {s.id: s for s in subscriptions.list_subscribers(settings, "active")}
    endpoints = webhooks.active_by_filter(settings)
    report = AlertReport()
    with outbox.batch():
        for sid, matches in match_day(settings, store, day, frequency).items():
            subscriber = subscribers[sid]
            units = one_match_per_group(matches, make.groups)
            report.matched += len(units)
            for unit in units:
                report.queued += _queue_webhooks(outbox, make, unit, endpoints)
            units = [u for u in units if not outbox.carried("email", subscriber.email, u.symbols, "alert")]
            batches = [[u] for u in units] if frequency == "immediate" else [units] if units else []
            for batch in batches:
                key = batch[0].symbols[0] if frequency == "immediate" else f"{frequency}:{day}"
                row = outbox.enqueue(
                    recipient=subscriber.email,
                    dedup_key=key,
                    kind="alert",
                    symbols=[s for m in batch for s in m.symbols],
                    item_kind="alert",
                    render=_alert_renderer(settings, subscriber, make, batch),
                )
                if row is not None:
                    report.queued.append(row)
    if deliver_now:
        report.delivery, report.webhooks = deliver_all(settings, webhook_policy=webhook_policy)
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
    settings: Settings, make: ItemMaker, symbols: list[str], day: dt.date
) -> dict[int, dict[str, NoticeItem]]:
    """Reminder threshold -> the notices among ``symbols`` whose final date for comments it has reached.

    Without the level's reasons: they were written on the day of the assessment ("59 days left to comment")
    and the reader had them in the alert; a reminder is about the deadline, which it shows as of today.
    """
    due: dict[int, dict[str, NoticeItem]] = defaultdict(dict)
    for symbol in symbols:
        entry = make.entry(symbol)
        deadline = make.deadline(entry.notice) if entry else None
        if entry is None or deadline is None:
            continue
        threshold = _reminder_threshold((deadline - day).days, settings.alerts.reminder_days)
        if threshold is not None:
            due[threshold][symbol] = replace(make(entry), reasons=[], reasons_zh=[])
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
        due = _due_reminders(settings, make, symbols, day)
        for threshold, items in due.items():
            if subscriber is not None:
                context = _message_context(
                    subscriber, settings, kind="reminder", day=day.isoformat(), reminder_days=threshold
                )
            else:
                context = MessageContext(
                    kind="reminder",
                    languages=list(WORKING_GROUP_LANGUAGES),
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


def report_versions(folder: Path, name: str) -> list[Path]:
    """A report's versions for its day, oldest first: ``name.html``, then ``name.v2.html``, ``name.v3.html``..."""
    first = folder / f"{name}.html"
    if not first.exists():
        return []
    later = sorted((int(p.name[len(name) + 2:-5]), p) for p in folder.glob(f"{name}.v*.html")
                   if p.name[len(name) + 2:-5].isdigit())
    return [first, *(p for _, p in later)]


def _write_version(folder: Path, name: str, context: MessageContext) -> MessageContext:
    """Keep what was written: a re-run that says the same returns the latest version; one that says something
    else (a source failed, a review moved) becomes the next version. Earlier files are never rewritten."""
    versions = report_versions(folder, name)
    if versions:
        latest = replace(context, version=len(versions))
        if render("digest", latest)[2] == versions[-1].read_text(encoding="utf-8"):
            return latest
    context = replace(context, version=len(versions) + 1)
    target = folder / (f"{name}.html" if context.version == 1 else f"{name}.v{context.version}.html")
    partial = target.with_suffix(".part")
    partial.write_text(render("digest", context)[2], encoding="utf-8")
    os.link(partial, target)  # fails rather than replace a version another run wrote meanwhile
    partial.unlink()
    return context


def _write_report(
    settings: Settings, context: MessageContext, name: str, kind: str, deliver_now: bool
) -> Path:
    """Write a working-group report as a new HTML version when it changed, and email it once to each group
    address (the first version of the day is the one sent)."""
    folder = settings.path("digests", f"{name}.html").parent
    context = _write_version(folder, name, context)
    target = report_versions(folder, name)[context.version - 1]
    outbox = Outbox(settings)
    for address in settings.alerts.working_group:

        def render_report(message_id: str, _: list[str], address=address) -> Rendered:
            emailed = replace(context, recipient=address, trend_table=True)  # clients that drop inline SVG
            return rendered_email("digest", emailed, sender=settings.smtp.sender, message_id=message_id)

        outbox.enqueue(recipient=address, dedup_key=context.day, kind=kind, render=render_report)
    if deliver_now and settings.alerts.working_group:
        deliver(settings)
    return target


def build_digest(
    settings: Settings,
    day: dt.date,
    failed_sources: list[str] | None = None,
    *,
    degraded_sources: list[str] | None = None,
    store: NoticeStore | None = None,
    deliver_now: bool = True,
) -> Path:
    """Write ``digests/digest-YYYY-MM-DD.html`` (``.v2.html``... when a re-run changes it) and email it once to
    the working group."""
    context = digest_context(settings, _store(settings, store), [day], failed_sources or [])
    context.degraded_sources = list(degraded_sources or [])
    return _write_report(settings, context, f"digest-{day.isoformat()}", "digest", deliver_now)


def build_weekly_summary(
    settings: Settings, day: dt.date, *, store: NoticeStore | None = None, deliver_now: bool = True
) -> Path:
    """The digest over the seven days ending on ``day``: ``digests/weekly-YYYY-MM-DD.html``, emailed once."""
    week = [day - dt.timedelta(days=i) for i in range(6, -1, -1)]
    context = digest_context(settings, _store(settings, store), week, [])
    return _write_report(settings, context, f"weekly-{day.isoformat()}", "weekly", deliver_now)


def queue_endpoint_disabled(settings: Settings, endpoint: webhooks.Endpoint) -> int | None:
    """Tell a webhook's owner, once, that their endpoint was disabled and why."""
    owner = next(
        (s for s in subscriptions.list_subscribers(settings) if s.id == endpoint.subscriber_id), None
    )
    if owner is None or owner.status == "unsubscribed":
        return None
    current = webhooks.get_endpoint(settings, endpoint.id) or endpoint
    context = _message_context(
        owner,
        settings,
        kind="webhook_disabled",
        day=settings.today().isoformat(),
        endpoint_url=current.url,
        endpoint_error=current.last_error or "",
    )
    return Outbox(settings).enqueue(
        recipient=owner.email,
        dedup_key=f"webhook:{endpoint.id}:{current.disabled_at}",
        kind="webhook_disabled",
        render=lambda mid, _: rendered_email(
            "webhook_disabled", context, sender=settings.smtp.sender, message_id=mid
        ),
    )


def deliver_all(
    settings: Settings, now: dt.datetime | None = None, webhook_policy: webhooks.WebhookPolicy | None = None
) -> tuple[DeliveryReport, DeliveryReport]:
    """POST due webhooks (emailing the owners of endpoints that got disabled), then send due email."""
    policy = webhook_policy or webhooks.WebhookPolicy.from_settings(settings)
    hooks, disabled = webhooks.WebhookSender(settings, policy).run(now)
    for endpoint in disabled:
        queue_endpoint_disabled(settings, endpoint)
    return deliver(settings, now), hooks


def deliver_outbox(
    settings: Settings, now: dt.datetime | None = None, webhook_policy: webhooks.WebhookPolicy | None = None
) -> DeliveryReport:
    """Send whatever is due (retries included): webhooks, then email; the email report is returned."""
    return deliver_all(settings, now, webhook_policy)[0]


def comment_draft(
    settings: Settings, symbol: str, *, store: NoticeStore | None = None, day: dt.date | None = None
) -> str:
    """A comment draft (Chinese with English) for the working group to edit; marks the review ``comment_drafted``."""
    from alerts.messages import environment

    store = _store(settings, store)
    notice = store.get(symbol)
    if notice is None:
        raise reviews.ReviewError(f"{symbol} is not in the archive (import or crawl it first)")
    item = ItemMaker(settings, store, day or settings.today())(
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

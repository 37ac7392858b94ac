"""``tbtwatch subscribe / unsubscribe / subscriptions / alerts / digest / review / remind``.

Registered at the end of ``commands/cli.py``. Only typer and rich are imported
at module level; the alerts package loads inside each command.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

subscriptions_app = typer.Typer(help="List, export and import subscriptions (CSV).", no_args_is_help=True)
alerts_app = typer.Typer(
    help="Queue and deliver alerts; inspect and requeue the outbox.", no_args_is_help=True
)
review_app = typer.Typer(help="The working group's review queue (通报评议).", no_args_is_help=True)
filters_app = typer.Typer(help="A subscriber's named filters: list, change, remove.", no_args_is_help=True)
webhooks_app = typer.Typer(
    help="HTTPS endpoints that receive a filter's matches as signed JSON.", no_args_is_help=True
)

ExcludeHs = Annotated[
    Optional[list[str]], typer.Option("--exclude-hs", help="HS prefix that vetoes a match (repeatable)")
]
ExcludeKeyword = Annotated[
    Optional[list[str]],
    typer.Option("--exclude-keyword", help="keyword that vetoes a match, e.g. lead-acid (repeatable)"),
]

DateOption = Annotated[
    Optional[dt.datetime],
    typer.Option("--date", formats=["%Y-%m-%d"], help="the day (default: today in alerts.timezone)"),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _settings():
    from tbtwatch.settings import SettingsError, get_settings

    try:
        return get_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from exc


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else _settings().today()


def subscribe_command(
    email: Annotated[str, typer.Argument(help="the subscriber's email address")],
    hs: Annotated[
        Optional[list[str]], typer.Option("--hs", help="HS prefix: 85, 8507 or 850760 (repeatable)")
    ] = None,
    product_line: Annotated[
        Optional[list[str]], typer.Option("--product-line", help="catalogue line id")
    ] = None,
    member: Annotated[
        Optional[list[str]], typer.Option("--member", help="notifying member: EU, USA, 欧盟")
    ] = None,
    keyword: Annotated[
        Optional[list[str]], typer.Option("--keyword", help="English or Chinese keyword")
    ] = None,
    area: Annotated[Optional[list[str]], typer.Option("--area", help="TBT or SPS")] = None,
    min_level: Annotated[str, typer.Option("--min-level", help="none, low, medium or high")] = "none",
    lang: Annotated[str, typer.Option("--lang", help="zh, en or both")] = "zh",
    frequency: Annotated[str, typer.Option("--frequency", help="immediate, daily or weekly")] = "immediate",
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="consent already held: no confirm link")
    ] = False,
    filter_name: Annotated[
        Optional[str], typer.Option("--filter", help="the filter's name; an existing name is replaced")
    ] = None,
    exclude_hs: ExcludeHs = None,
    exclude_keyword: ExcludeKeyword = None,
) -> None:
    """Subscribe an address to notices matching a filter (one filter per call; an address holds several)."""
    from alerts.run import describe_filter, sign_up
    from alerts.validation import SubscriptionError, Vocabulary

    settings = _settings()
    vocabulary = Vocabulary(settings)
    try:
        exclusion = vocabulary.exclusion(hs=exclude_hs, keywords=exclude_keyword)
        rule = vocabulary.rule(
            hs=hs,
            product_lines=product_line,
            members=member,
            keywords=keyword,
            areas=area,
            min_level=min_level,
        )
        result = sign_up(
            settings,
            email,
            rule,
            lang=lang,
            frequency=frequency,
            confirmed=confirmed,
            name=filter_name,
            exclude=[exclusion] if exclusion else [],
        )
    except SubscriptionError as exc:
        raise _fail(str(exc)) from exc
    s = result.subscriber
    what = (
        "filter added"
        if result.new_filter
        else "filter replaced"
        if result.updated
        else "filter already present"
    )
    out.print(
        f"{s.email}: {what} #{result.filter.id} ({escape(describe_filter(result.filter))}); {s.lang}, {s.frequency}, "
        f"{s.status}" + ("; a confirmation link was queued" if result.needs_confirmation else ""),
        highlight=False,
    )


def unsubscribe_command(email: Annotated[str, typer.Argument(help="the address to stop sending to")]) -> None:
    """Stop all alerts to an address (its history is kept, so nothing old is sent again later)."""
    from alerts.subscriptions import unsubscribe
    from alerts.validation import SubscriptionError

    try:
        subscriber = unsubscribe(_settings(), email)
    except SubscriptionError as exc:
        raise _fail(str(exc), code=1) from exc
    out.print(f"{subscriber.email}: unsubscribed", highlight=False)


@subscriptions_app.command("list")
def list_command(
    status: Annotated[Optional[str], typer.Option(help="pending, active or unsubscribed")] = None,
) -> None:
    """Subscribers and their filters."""
    from rich.table import Table

    from alerts.run import describe_filter
    from alerts.subscriptions import list_subscribers

    table = Table(title="subscriptions")
    for column in ("email", "status", "lang", "frequency", "filters"):
        table.add_column(column)
    for s in list_subscribers(_settings(), status):
        table.add_row(
            s.email,
            s.status,
            s.lang,
            s.frequency,
            escape("\n".join(f"#{f.id} {describe_filter(f)}" for f in s.filters)),
        )
    out.print(table)


@subscriptions_app.command("export")
def export_command(output: Annotated[Optional[Path], typer.Option("--output", "-o")] = None) -> None:
    """Write all filters as CSV (the columns `import` reads)."""
    from alerts.subscriptions import export_csv

    fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        count = export_csv(_settings(), fh)
    finally:
        if output:
            fh.close()
    err.print(f"{count} filters exported", highlight=False)


@subscriptions_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns email, filter, hs, product_lines, members, keywords, areas, "
            "min_level, exclude_hs, exclude_keywords, lang, frequency, confirmed"
        ),
    ],
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="rows without a 'confirmed' cell hold consent")
    ] = False,
) -> None:
    """Import a mailing list: bad rows are reported by line, good rows are kept."""
    from alerts.run import queue_confirmation
    from alerts.subscriptions import get_subscriber, import_csv

    if not file.exists():
        raise _fail(f"{file} does not exist")
    settings = _settings()
    with file.open(encoding="utf-8-sig", newline="") as fh:
        report = import_csv(settings, fh, confirmed_default=confirmed)
    for line, message in report.errors:
        err.print(f"{file}:{line}: {message}", highlight=False, markup=False)
    for address in dict.fromkeys(report.needing_confirmation):
        subscriber = get_subscriber(settings, address)
        if subscriber is not None:
            queue_confirmation(settings, subscriber)
    out.print(
        f"{report.added} filters added, {report.updated} replaced, {report.unchanged} already present, {len(report.errors)} bad rows; "
        f"{len(set(report.needing_confirmation))} confirmation links queued",
        highlight=False,
    )
    if report.errors:
        raise typer.Exit(1)


@alerts_app.command("send")
def send_command(
    date: DateOption = None,
    frequency: Annotated[str, typer.Option(help="immediate, daily or weekly")] = "immediate",
) -> None:
    """Queue the day's alerts and deliver them; a second run sends nothing new."""
    from alerts.run import send_alerts

    if frequency not in {"immediate", "daily", "weekly"}:
        raise _fail(f"--frequency {frequency!r}: use immediate, daily or weekly")
    report = send_alerts(_settings(), _day(date), frequency)
    out.print(report.summary(), highlight=False)
    if report.delivery.failed or report.delivery.stopped:
        raise typer.Exit(1)


@alerts_app.command("deliver")
def deliver_command() -> None:
    """Deliver whatever is due in the outbox (retries included); exit status 1 when a message failed or the run
    stopped early (server down, login refused: the summary says what to check)."""
    from alerts.run import deliver_outbox

    report = deliver_outbox(_settings())
    out.print(report.summary(), highlight=False)
    if report.failed or report.stopped:
        raise typer.Exit(1)


@alerts_app.command("status")
def status_command(
    state: Annotated[Optional[str], typer.Option(help="queued, sent, failed, uncertain")] = None,
) -> None:
    """Outbox counts by state, and the rows that need a person (failed, uncertain)."""
    from alerts.outbox import Outbox

    outbox = Outbox(_settings())
    out.print(", ".join(f"{k} {v}" for k, v in sorted(outbox.counts().items())) or "the outbox is empty")
    for row in outbox.rows(state) if state else outbox.rows("failed") + outbox.rows("uncertain"):
        out.print(
            f"{row.id} {row.state} {row.kind} {row.recipient} attempts={row.attempts} "
            f"{row.message_id} {row.last_error or ''}",
            highlight=False,
            markup=False,
        )


@alerts_app.command("requeue")
def requeue_command(
    row_id: Annotated[int, typer.Argument(help="outbox row id (see `tbtwatch alerts status`)")],
) -> None:
    """Send a failed or uncertain message again (after checking the mail server's log)."""
    from alerts.outbox import Outbox

    try:
        Outbox(_settings()).requeue(row_id)
    except ValueError as exc:
        raise _fail(str(exc), code=1) from exc
    out.print(f"row {row_id} queued; run `tbtwatch alerts deliver`")


def digest_command(
    date: DateOption = None,
    failed_source: Annotated[
        Optional[list[str]], typer.Option("--failed-source", help="a source that failed")
    ] = None,
) -> None:
    """Write the working group's digest (HTML under $TBTWATCH_HOME/digests/) and email it to the group."""
    from alerts.run import build_digest

    path = build_digest(_settings(), _day(date), failed_source or [])
    out.print(f"digest written to {path}", highlight=False)


def remind_command(date: DateOption = None) -> None:
    """Send comment-deadline reminders (alerts.reminder_days before each final date)."""
    from alerts.run import send_reminders

    out.print(send_reminders(_settings(), _day(date)).summary(), highlight=False)


@review_app.command("list")
def review_list_command(
    all_: Annotated[bool, typer.Option("--all", help="include closed reviews")] = False,
) -> None:
    """The review queue."""
    from alerts import reviews

    for r in reviews.list_reviews(_settings(), reviews.STATUSES if all_ else reviews.OPEN_STATUSES):
        out.print(
            f"{r.symbol}  {r.status}  {r.owner or '-'}  {r.updated_at[:10]}  "
            f"{r.notes.splitlines()[-1] if r.notes else ''}",
            highlight=False,
            markup=False,
        )


@review_app.command("set")
def review_set_command(
    symbol: Annotated[str, typer.Argument(help="WTO symbol, e.g. G/TBT/N/EU/1100")],
    status: Annotated[
        Optional[str],
        typer.Option(help="new, under_review, comment_drafted, comment_sent, no_action (or 评议中 ...)"),
    ] = None,
    owner: Annotated[Optional[str], typer.Option(help="who handles it")] = None,
    note: Annotated[Optional[str], typer.Option(help="a note to append")] = None,
) -> None:
    """Change a notice's review status, owner or notes."""
    from alerts.reviews import ReviewError, update_review

    try:
        review = update_review(_settings(), symbol, status=status, owner=owner, note=note)
    except ReviewError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"{review.symbol}: {review.status}, owner {review.owner or '-'}", highlight=False, markup=False)


@review_app.command("draft")
def review_draft_command(
    symbol: Annotated[str, typer.Argument(help="WTO symbol")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="file (default stdout)")] = None,
) -> None:
    """Generate a comment draft for the working group to edit (marks the review 'comment_drafted')."""
    from alerts.reviews import ReviewError
    from alerts.run import comment_draft

    try:
        text = comment_draft(_settings(), symbol)
    except ReviewError as exc:
        raise _fail(str(exc), code=1) from exc
    if output:
        output.write_text(text, encoding="utf-8")
        out.print(f"draft written to {output}", highlight=False)
    else:
        sys.stdout.write(text)


@filters_app.command("list")
def filters_list_command(email: Annotated[str, typer.Argument(help="the subscriber's address")]) -> None:
    """The subscriber's filters with their ids, exclusions, webhooks and personal feed links."""
    from alerts import feeds, webhooks
    from alerts.run import describe_filter
    from alerts.subscriptions import get_subscriber

    settings = _settings()
    subscriber = get_subscriber(settings, email)
    if subscriber is None:
        raise _fail(f"{email} has no subscription (see `tbtwatch subscriptions list`)", code=1)
    hooks = webhooks.list_endpoints(settings, subscriber.id)
    for f in subscriber.filters:
        out.print(f"#{f.id} {describe_filter(f)}", highlight=False, markup=False)
        out.print(f"    feed: {feeds.filter_feed_url(settings, f.id)}", highlight=False, markup=False)
        for hook in (h for h in hooks if h.filter_id == f.id):
            out.print(f"    webhook #{hook.id} {hook.status} {hook.url}", highlight=False, markup=False)


@filters_app.command("update")
def filters_update_command(
    email: Annotated[str, typer.Argument(help="the subscriber's address")],
    filter_id: Annotated[int, typer.Argument(help="filter id (see `tbtwatch filters list EMAIL`)")],
    name: Annotated[Optional[str], typer.Option("--name", help="new name")] = None,
    exclude_hs: ExcludeHs = None,
    exclude_keyword: ExcludeKeyword = None,
    clear_exclusions: Annotated[
        bool, typer.Option("--clear-exclusions", help="drop every exclusion")
    ] = False,
) -> None:
    """Rename a filter or replace its exclusions (change include rules with `subscribe --filter NAME`)."""
    from alerts.run import describe_filter
    from alerts.subscriptions import update_filter
    from alerts.validation import SubscriptionError, Vocabulary

    settings = _settings()
    try:
        exclude = None
        if exclude_hs or exclude_keyword or clear_exclusions:
            exclusion = Vocabulary(settings).exclusion(hs=exclude_hs, keywords=exclude_keyword)
            exclude = [exclusion] if exclusion else []
        flt = update_filter(settings, email, filter_id, name=name, exclude=exclude)
    except SubscriptionError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"#{flt.id} {describe_filter(flt)}", highlight=False, markup=False)


@filters_app.command("remove")
def filters_remove_command(
    email: Annotated[str, typer.Argument(help="the subscriber's address")],
    filter_id: Annotated[int, typer.Argument(help="filter id (see `tbtwatch filters list EMAIL`)")],
) -> None:
    """Delete one filter (and its webhooks)."""
    from alerts.subscriptions import remove_filter
    from alerts.validation import SubscriptionError

    try:
        remove_filter(_settings(), email, filter_id)
    except SubscriptionError as exc:
        raise _fail(str(exc), code=1) from exc
    out.print(f"filter {filter_id} removed", highlight=False)


@webhooks_app.command("add")
def webhooks_add_command(
    email: Annotated[str, typer.Argument(help="the subscriber's address")],
    filter_id: Annotated[int, typer.Argument(help="filter id (see `tbtwatch filters list EMAIL`)")],
    url: Annotated[str, typer.Argument(help="https:// endpoint on a public host")],
) -> None:
    """Send the filter's matches to an endpoint; prints the signing secret (shown only here)."""
    from alerts.webhooks import WebhookError, WebhookPolicy, register

    settings = _settings()
    try:
        endpoint = register(settings, email, filter_id, url, WebhookPolicy.from_settings(settings))
    except WebhookError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"webhook #{endpoint.id} {endpoint.url} for filter {filter_id}", highlight=False, markup=False)
    out.print(
        f"signing secret (verify X-Tbtwatch-Signature with it): {endpoint.secret}",
        highlight=False,
        markup=False,
    )


@webhooks_app.command("list")
def webhooks_list_command() -> None:
    """Every endpoint with its state and last error."""
    from alerts.webhooks import list_endpoints

    for e in list_endpoints(_settings()):
        out.print(
            f"#{e.id} filter {e.filter_id} {e.status} failures={e.failures} {e.url} {e.last_error or ''}",
            highlight=False,
            markup=False,
        )


@webhooks_app.command("remove")
def webhooks_remove_command(endpoint_id: Annotated[int, typer.Argument(help="webhook id")]) -> None:
    """Stop sending to an endpoint."""
    from alerts.webhooks import WebhookError, remove

    try:
        remove(_settings(), endpoint_id)
    except WebhookError as exc:
        raise _fail(str(exc), code=1) from exc
    out.print(f"webhook {endpoint_id} removed", highlight=False)

"""Subscribers and their filters in the archive database: sign-up, confirmation, unsubscribe, CSV import/export.

A subscriber is an email address with a language, a frequency and a status:
``pending`` until the confirm link is used (self-service sign-up), ``active``
(confirmed, or added by an operator who holds consent), ``unsubscribed``. Only
active subscribers get alerts. Unsubscribing keeps the row (and the record of
what was sent) so a later sign-up never repeats old alerts.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from alerts import tokens
from alerts.rules import DEFAULT_FILTER, Filter, Rule
from alerts.validation import (
    SubscriptionError,
    Vocabulary,
    check_frequency,
    check_language,
    validate_email,
    validate_filter_name,
)
from archive.db import ensure_schema, thread_connection, transaction
from tbtwatch.settings import Settings, get_settings

TokenError = tokens.TokenError

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    lang TEXT NOT NULL,
    frequency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed')),
    source TEXT NOT NULL DEFAULT 'cli',
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    unsubscribed_at TEXT
);
CREATE TABLE IF NOT EXISTS alert_filters (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES alert_subscribers(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT 'default',
    include_rule TEXT NOT NULL,
    exclude_rules TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_filters_subscriber ON alert_filters(subscriber_id);
"""

CSV_FIELDS = (
    "email",
    "filter",
    "hs",
    "product_lines",
    "members",
    "keywords",
    "areas",
    "min_level",
    "exclude_hs",
    "exclude_keywords",
    "lang",
    "frequency",
    "confirmed",
)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def connection(settings: Settings) -> sqlite3.Connection:
    conn = thread_connection(settings.archive_db)
    ensure_schema(conn, "alerts.subscriptions", SCHEMA)
    _add_pause_column(conn)
    return conn


_PAUSE_READY: set[str] = set()


def _add_pause_column(conn: sqlite3.Connection) -> None:
    """``alert_filters.paused_at`` on an archive made before filters could be paused (once per file)."""
    db_file = conn.execute("PRAGMA database_list").fetchone()["file"]
    if db_file in _PAUSE_READY:
        return
    columns = {r["name"] for r in conn.execute("PRAGMA table_info(alert_filters)")}
    if "paused_at" not in columns:
        try:
            conn.execute("ALTER TABLE alert_filters ADD COLUMN paused_at TEXT")
        except sqlite3.OperationalError as exc:  # another process added it meanwhile
            if "duplicate column" not in str(exc):
                raise
    _PAUSE_READY.add(db_file)


@dataclass
class Subscriber:
    id: int
    email: str
    lang: str
    frequency: str
    status: str
    created_at: str
    confirmed_at: str | None = None
    filters: list[Filter] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def languages(self) -> list[str]:
        return ["zh", "en"] if self.lang == "both" else [self.lang]


@dataclass
class SubscribeResult:
    subscriber: Subscriber
    filter: Filter
    needs_confirmation: bool
    new_filter: bool
    updated: bool = False  # a named filter's rules were replaced


def _rule_json(rule: Rule) -> str:
    return json.dumps(rule.to_dict(), ensure_ascii=False, sort_keys=True)


def _rules_json(rules: Iterable[Rule]) -> str:
    return json.dumps([r.to_dict() for r in rules], ensure_ascii=False, sort_keys=True)


def _filters(conn: sqlite3.Connection, subscriber_id: int) -> list[Filter]:
    rows = conn.execute("SELECT * FROM alert_filters WHERE subscriber_id = ? ORDER BY id", (subscriber_id,))
    return [
        Filter(
            Rule.from_dict(json.loads(r["include_rule"])),
            [Rule.from_dict(x) for x in json.loads(r["exclude_rules"])],
            r["name"],
            r["id"],
            subscriber_id,
            r["paused_at"] is not None,
        )
        for r in rows
    ]


def _subscriber(conn: sqlite3.Connection, row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        row["id"],
        row["email"],
        row["lang"],
        row["frequency"],
        row["status"],
        row["created_at"],
        row["confirmed_at"],
        _filters(conn, row["id"]),
    )


def get_subscriber(settings: Settings, email: str) -> Subscriber | None:
    conn = connection(settings)
    row = conn.execute("SELECT * FROM alert_subscribers WHERE email = ?", (email.strip(),)).fetchone()
    return _subscriber(conn, row) if row else None


def list_subscribers(settings: Settings, status: str | None = None) -> list[Subscriber]:
    conn = connection(settings)
    rows = conn.execute(
        "SELECT * FROM alert_subscribers WHERE ? IS NULL OR status = ? ORDER BY email", (status, status)
    ).fetchall()
    return [_subscriber(conn, r) for r in rows]


def _filter_name(conn: sqlite3.Connection, subscriber_id: int) -> str:
    """The name an unnamed filter gets: ``default`` for the first, then ``filter 2``, ``filter 3`` ..."""
    taken = {
        r["name"]
        for r in conn.execute("SELECT name FROM alert_filters WHERE subscriber_id = ?", (subscriber_id,))
    }
    if DEFAULT_FILTER not in taken:
        return DEFAULT_FILTER
    number = len(taken) + 1
    while f"filter {number}" in taken:
        number += 1
    return f"filter {number}"


def check_not_empty(email: str, rule: Rule) -> None:
    """Refuse a filter without criteria: it would send every notice."""
    if rule.is_empty():
        raise SubscriptionError(
            f"{email}: give at least one of HS code, product line, keyword, member, area "
            "or level; an empty filter would send every notice"
        )


def subscribe(
    settings: Settings,
    email: str,
    rule: Rule,
    *,
    lang: str = "zh",
    frequency: str = "immediate",
    confirmed: bool = False,
    name: str | None = None,
    exclude: Iterable[Rule] = (),
    source: str = "cli",
) -> SubscribeResult:
    """Add (or, given an existing ``name``, replace) a filter of the subscriber at ``email`` (created if new).

    An operator's ``confirmed`` skips the confirm link. A repeated identical
    filter is not duplicated. A new self-service sign-up, or one from an address
    that had unsubscribed, waits for confirmation.
    """
    email = validate_email(email)
    lang, frequency = check_language(lang), check_frequency(frequency)
    name = validate_filter_name(name) if name is not None else None
    check_not_empty(email, rule)
    conn = connection(settings)
    stamp = now_iso()
    updated = False
    with transaction(conn):
        row = conn.execute("SELECT * FROM alert_subscribers WHERE email = ?", (email,)).fetchone()
        if row is None:
            status = "active" if confirmed else "pending"
            sid = conn.execute(
                "INSERT INTO alert_subscribers (email, lang, frequency, status, source, created_at, confirmed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (email, lang, frequency, status, source, stamp, stamp if confirmed else None),
            ).lastrowid
        else:
            sid = row["id"]
            status = "active" if confirmed or row["status"] == "active" else "pending"
            conn.execute(
                "UPDATE alert_subscribers SET lang = ?, frequency = ?, status = ?, unsubscribed_at = NULL, "
                "confirmed_at = CASE WHEN ? = 'active' THEN COALESCE(confirmed_at, ?) END WHERE id = ?",
                (lang, frequency, status, status, stamp, sid),
            )
        include, excludes = _rule_json(rule), _rules_json(exclude)
        named = (
            conn.execute(
                "SELECT * FROM alert_filters WHERE subscriber_id = ? AND name = ?", (sid, name)
            ).fetchone()
            if name
            else None
        )
        existing = (
            named
            or conn.execute(
                "SELECT * FROM alert_filters WHERE subscriber_id = ? AND include_rule = ? AND exclude_rules = ?",
                (sid, include, excludes),
            ).fetchone()
        )
        if existing is None:
            filter_id = conn.execute(
                "INSERT INTO alert_filters (subscriber_id, name, include_rule, exclude_rules, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sid, name or _filter_name(conn, sid), include, excludes, stamp),
            ).lastrowid
        else:
            filter_id = existing["id"]
            if (existing["include_rule"], existing["exclude_rules"]) != (include, excludes):
                conn.execute(
                    "UPDATE alert_filters SET include_rule = ?, exclude_rules = ? WHERE id = ?",
                    (include, excludes, filter_id),
                )
                updated = True
    subscriber = get_subscriber(settings, email)
    assert subscriber is not None
    flt = next(f for f in subscriber.filters if f.id == filter_id)
    return SubscribeResult(subscriber, flt, status == "pending", existing is None, updated)


def _owned_filter(conn: sqlite3.Connection, email: str, filter_id: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT f.* FROM alert_filters f JOIN alert_subscribers s ON s.id = f.subscriber_id "
        "WHERE f.id = ? AND s.email = ?",
        (filter_id, email.strip()),
    ).fetchone()
    if row is None:
        raise SubscriptionError(f"{email} has no filter {filter_id} (see `tbtwatch filters list {email}`)")
    return row


def update_filter(
    settings: Settings,
    email: str,
    filter_id: int,
    *,
    name: str | None = None,
    include: Rule | None = None,
    exclude: list[Rule] | None = None,
) -> Filter:
    """Rename a filter or replace its include or exclude rules (what is not given stays)."""
    conn = connection(settings)
    with transaction(conn):
        row = _owned_filter(conn, email, filter_id)
        if include is not None and include.is_empty():
            raise SubscriptionError(f"filter {filter_id}: the include rule needs at least one criterion")
        new_name = validate_filter_name(name) if name is not None else row["name"]
        clash = conn.execute(
            "SELECT 1 FROM alert_filters WHERE subscriber_id = ? AND name = ? AND id != ?",
            (row["subscriber_id"], new_name, filter_id),
        ).fetchone()
        if clash:
            raise SubscriptionError(
                f"filter name {new_name!r}: another filter of {email} has it; choose another"
            )
        conn.execute(
            "UPDATE alert_filters SET name = ?, include_rule = ?, exclude_rules = ? WHERE id = ?",
            (
                new_name,
                _rule_json(include) if include is not None else row["include_rule"],
                _rules_json(exclude) if exclude is not None else row["exclude_rules"],
                filter_id,
            ),
        )
    return next(f for f in _filters(conn, row["subscriber_id"]) if f.id == filter_id)


def remove_filter(settings: Settings, email: str, filter_id: int) -> None:
    """Delete one filter (its webhooks go with it); the subscriber and what was sent stay."""
    conn = connection(settings)
    with transaction(conn):
        _owned_filter(conn, email, filter_id)
        conn.execute("DELETE FROM alert_filters WHERE id = ?", (filter_id,))


def set_filter_paused(settings: Settings, email: str, filter_id: int, paused: bool) -> None:
    """Pause one filter (it stays, and matches nothing) or resume it; the subscriber's other filters go on."""
    conn = connection(settings)
    with transaction(conn):
        _owned_filter(conn, email, filter_id)
        conn.execute("UPDATE alert_filters SET paused_at = ? WHERE id = ?", (now_iso() if paused else None, filter_id))


def find_filter(settings: Settings, filter_id: int) -> tuple[Subscriber, Filter] | None:
    """A filter and its subscriber by the filter's id (feeds and webhooks name filters by id)."""
    conn = connection(settings)
    row = conn.execute(
        "SELECT s.* FROM alert_subscribers s JOIN alert_filters f ON f.subscriber_id = s.id WHERE f.id = ?",
        (filter_id,),
    ).fetchone()
    if row is None:
        return None
    subscriber = _subscriber(conn, row)
    return subscriber, next(f for f in subscriber.filters if f.id == filter_id)


def update_preferences(
    settings: Settings, email: str, *, lang: str | None = None, frequency: str | None = None
) -> Subscriber:
    """Change the language or frequency of every alert to ``email`` (what is not given stays)."""
    lang = check_language(lang) if lang is not None else None
    frequency = check_frequency(frequency) if frequency is not None else None
    conn = connection(settings)
    with transaction(conn):
        changed = conn.execute(
            "UPDATE alert_subscribers SET lang = COALESCE(?, lang), frequency = COALESCE(?, frequency) "
            "WHERE email = ?",
            (lang, frequency, email.strip()),
        ).rowcount
    if not changed:
        raise SubscriptionError(f"{email} has no subscription (see `tbtwatch subscriptions list`)")
    subscriber = get_subscriber(settings, email)
    assert subscriber is not None
    return subscriber


_STATUS_UPDATES = {
    "active": "UPDATE alert_subscribers SET status = 'active', confirmed_at = ? WHERE email = ?",
    "unsubscribed": "UPDATE alert_subscribers SET status = 'unsubscribed', unsubscribed_at = ? WHERE email = ?",
}


def _set_status(settings: Settings, email: str, status: str) -> Subscriber:
    conn = connection(settings)
    with transaction(conn):
        changed = conn.execute(_STATUS_UPDATES[status], (now_iso(), email)).rowcount
    if not changed:
        raise SubscriptionError(f"{email} has no subscription (see `tbtwatch subscriptions list`)")
    subscriber = get_subscriber(settings, email)
    assert subscriber is not None
    return subscriber


def unsubscribe(settings: Settings, email: str) -> Subscriber:
    """Stop all alerts to ``email``; the subscriber and its history are kept."""
    return _set_status(settings, validate_email(email), "unsubscribed")


def confirm(token: str, settings: Settings | None = None) -> Subscriber:
    """Activate the subscriber a confirm link names (web page ``/subscriptions/confirm?token=``)."""
    settings = settings or get_settings()
    claims = tokens.read_token(settings, token, tokens.CONFIRM)
    subscriber = get_subscriber(settings, claims.subject)
    if subscriber is None:
        raise TokenError("this confirmation link is for a subscription that no longer exists: sign up again")
    if subscriber.status == "unsubscribed":
        raise TokenError("this address unsubscribed after the link was sent: sign up again to get a new link")
    return subscriber if subscriber.active else _set_status(settings, subscriber.email, "active")


def unsubscribe_by_token(token: str, settings: Settings | None = None) -> Subscriber:
    """One-click unsubscribe (web ``/unsubscribe?token=`` and the List-Unsubscribe-Post header)."""
    settings = settings or get_settings()
    claims = tokens.read_token(settings, token, tokens.UNSUBSCRIBE)
    if get_subscriber(settings, claims.subject) is None:
        raise TokenError("this unsubscribe link is for an address that has no subscription")
    return _set_status(settings, claims.subject, "unsubscribed")


def confirm_url(settings: Settings, subscriber: Subscriber) -> str:
    token = tokens.make_token(settings, tokens.CONFIRM, subscriber.email)
    return f"{settings.alerts.base_url.rstrip('/')}/subscriptions/confirm?token={token}"


def manage_url(settings: Settings, email: str) -> str:
    """The subscriber's settings and filters page; signed like the unsubscribe link, which it stands beside."""
    token = tokens.make_token(settings, tokens.UNSUBSCRIBE, email)
    return f"{settings.alerts.base_url.rstrip('/')}/subscriptions/manage?token={token}"


def unsubscribe_url(settings: Settings, email: str) -> str:
    token = tokens.make_token(settings, tokens.UNSUBSCRIBE, email)
    return f"{settings.alerts.base_url.rstrip('/')}/unsubscribe?token={token}"


# -- CSV --------------------------------------------------------------------------------------


def export_csv(settings: Settings, fh: IO[str]) -> int:
    """One row per filter (its name and exclusions included), in the columns ``import_csv`` reads back."""
    writer = csv.DictWriter(fh, fieldnames=[*CSV_FIELDS, "status"])
    writer.writeheader()
    count = 0
    for s in list_subscribers(settings):
        for f in s.filters:
            r = f.include
            writer.writerow(
                {
                    "email": s.email,
                    "filter": f.name,
                    "exclude_hs": ";".join(h for x in f.exclude for h in x.hs),
                    "exclude_keywords": ";".join(k for x in f.exclude for k in x.keywords),
                    "hs": ";".join(r.hs),
                    "product_lines": ";".join(r.product_lines),
                    "members": ";".join(r.members),
                    "keywords": ";".join(r.keywords),
                    "areas": ";".join(r.areas),
                    "min_level": r.min_level,
                    "lang": s.lang,
                    "frequency": s.frequency,
                    "confirmed": "yes" if s.active else "no",
                    "status": s.status,
                }
            )
            count += 1
    return count


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    needing_confirmation: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


_TRUE = {"1", "yes", "y", "true", "是", "x"}


def import_csv(settings: Settings, fh: IO[str], *, confirmed_default: bool = False) -> ImportReport:
    """Import rows (one filter each); a bad row is reported with its line number and the good rows are kept."""
    report = ImportReport()
    reader = csv.DictReader(fh)
    missing = {"email"} - set(reader.fieldnames or [])
    if missing:
        report.errors.append((1, f"the header needs an 'email' column; columns are {', '.join(CSV_FIELDS)}"))
        return report
    unknown = set(reader.fieldnames or []) - set(CSV_FIELDS) - {"status"}
    if unknown:
        report.errors.append(
            (1, f"unknown columns {', '.join(sorted(unknown))}; use {', '.join(CSV_FIELDS)}")
        )
        return report
    vocab = Vocabulary(settings)
    for row in reader:
        line = reader.line_num
        cell = {k: (v or "").strip() for k, v in row.items() if k}
        try:
            rule = vocab.rule(
                hs=cell.get("hs"),
                product_lines=cell.get("product_lines"),
                keywords=cell.get("keywords"),
                members=cell.get("members"),
                areas=cell.get("areas"),
                min_level=cell.get("min_level") or None,
            )
            exclusion = vocab.exclusion(hs=cell.get("exclude_hs"), keywords=cell.get("exclude_keywords"))
            confirmed = cell["confirmed"].lower() in _TRUE if cell.get("confirmed") else confirmed_default
            result = subscribe(
                settings,
                cell.get("email", ""),
                rule,
                lang=cell.get("lang") or "zh",
                frequency=cell.get("frequency") or "daily",
                confirmed=confirmed,
                name=cell.get("filter") or None,
                exclude=[exclusion] if exclusion else [],
                source="csv",
            )
        except SubscriptionError as exc:
            report.errors.append((line, str(exc)))
            continue
        if result.new_filter:
            report.added += 1
        elif result.updated:
            report.updated += 1
        else:
            report.unchanged += 1
        if result.needs_confirmation:
            report.needing_confirmation.append(result.subscriber.email)
    return report

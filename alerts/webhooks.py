"""Webhooks: a filter's matches POSTed as signed JSON to an HTTPS endpoint its subscriber registered.

Delivery goes through the persistent outbox like email (channel ``webhook``,
recipient ``webhook:<endpoint id>``, one row per notice group), so it inherits
at-most-once per notice and endpoint, retries with backoff, and the crash
policy of ``alerts.outbox``. The receiver can check each request: the header
``X-Tbtwatch-Signature: sha256=<hex>`` is HMAC-SHA256, keyed with the
endpoint's own secret (shown once at registration), over
``<X-Tbtwatch-Timestamp>.<body>``; ``verify_signature`` is the reference check.
``X-Tbtwatch-Delivery`` is stable per message, for the receiver's own dedup.

A 2xx answer is success. A 5xx, 408, 429, timeout or refused connection is
temporary (retried); any other answer (redirects are not followed) fails that
message. ``DISABLE_AFTER`` failures in a row, or a 410 Gone, disable the
endpoint, fail its queued messages and email its owner once.

Endpoints must not reach inside our network (SSRF): the URL must be https and
every address its host resolves to must be public, checked at registration
and again before each POST. ``WebhookPolicy(allow_private=True)`` lifts both
checks; it is an explicit parameter (or the setting
``alerts.webhooks_allow_private``) for tests and closed networks, never guessed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from alerts.delivery import DeliveryReport
from alerts.outbox import FIRST_RETRY, Outbox, OutboxRow, Rendered
from alerts.subscriptions import connection
from archive.db import ensure_schema, transaction
from tbtwatch.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_webhooks (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES alert_subscribers(id) ON DELETE CASCADE,
    filter_id INTEGER NOT NULL REFERENCES alert_filters(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    disabled_at TEXT,
    UNIQUE (filter_id, url)
);
"""

CHANNEL = "webhook"
KIND = "notice"
DISABLE_AFTER = 8
TIMEOUT = 10.0
TOLERANCE = dt.timedelta(minutes=5)
USER_AGENT = "tbtwatch-webhook/1"
_TEMPORARY_STATUSES = {408, 425, 429}

Resolver = Callable[[str], list[str]]


class WebhookError(ValueError):
    """An endpoint that cannot be registered or reached; the message names it and says what to do."""


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise WebhookError(f"endpoint host {host!r} does not resolve ({exc}); check the URL") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private: bool = False  # tests and closed networks only: loopback/private hosts and plain http

    @classmethod
    def from_settings(cls, settings: Settings) -> "WebhookPolicy":
        return cls(allow_private=settings.alerts.webhooks_allow_private)

    def check(self, url: str, resolve: Resolver = resolve_host) -> str:
        """``url`` if it may receive webhooks, else ``WebhookError`` saying why."""
        url = (url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise WebhookError(f"endpoint {url!r}: give a full https:// URL")
        if parts.username or parts.password:
            raise WebhookError(
                f"endpoint {url!r}: no user or password in the URL; verify our signature instead"
            )
        if any(ord(c) < 33 for c in url) or len(url) > 2000:
            raise WebhookError(f"endpoint {url!r}: spaces, control characters or over 2000 characters")
        if self.allow_private:
            return url
        if parts.scheme != "https":
            raise WebhookError(
                f"endpoint {url!r}: use https:// (notices and signatures must not travel in clear)"
            )
        for address in resolve(parts.hostname):
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise WebhookError(
                    f"endpoint {url!r}: {parts.hostname} resolves to {ip}, a private, loopback or reserved "
                    "address; webhooks go only to public internet hosts"
                )
        return url


@dataclass
class Endpoint:
    id: int
    subscriber_id: int
    filter_id: int
    url: str
    secret: str
    status: str
    failures: int
    last_error: str | None
    created_at: str
    disabled_at: str | None

    @property
    def recipient(self) -> str:
        return f"webhook:{self.id}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _conn(settings: Settings) -> sqlite3.Connection:
    conn = connection(settings)  # the subscriber tables come first: endpoints refer to them
    ensure_schema(conn, "alerts.webhooks", SCHEMA)
    return conn


def _endpoint(row: sqlite3.Row) -> Endpoint:
    return Endpoint(**{name: row[name] for name in Endpoint.__dataclass_fields__})


def register(
    settings: Settings,
    email: str,
    filter_id: int,
    url: str,
    policy: WebhookPolicy,
    resolve: Resolver = resolve_host,
) -> Endpoint:
    """Attach an endpoint to one of ``email``'s filters (re-registering re-enables it and keeps its secret)."""
    url = policy.check(url, resolve)
    conn = _conn(settings)
    row = conn.execute(
        "SELECT f.id, f.subscriber_id FROM alert_filters f JOIN alert_subscribers s ON s.id = f.subscriber_id "
        "WHERE f.id = ? AND s.email = ?",
        (filter_id, email.strip()),
    ).fetchone()
    if row is None:
        raise WebhookError(f"{email} has no filter {filter_id} (see `tbtwatch subscriptions list`)")
    with transaction(conn):
        conn.execute(
            "INSERT INTO alert_webhooks (subscriber_id, filter_id, url, secret, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(filter_id, url) DO UPDATE SET status = 'active', failures = 0, disabled_at = NULL",
            (row["subscriber_id"], filter_id, url, secrets.token_urlsafe(32), _now()),
        )
    found = conn.execute(
        "SELECT * FROM alert_webhooks WHERE filter_id = ? AND url = ?", (filter_id, url)
    ).fetchone()
    return _endpoint(found)


def get_endpoint(settings: Settings, endpoint_id: int) -> Endpoint | None:
    row = _conn(settings).execute("SELECT * FROM alert_webhooks WHERE id = ?", (endpoint_id,)).fetchone()
    return _endpoint(row) if row else None


def list_endpoints(settings: Settings, subscriber_id: int | None = None) -> list[Endpoint]:
    rows = _conn(settings).execute(
        "SELECT * FROM alert_webhooks WHERE ? IS NULL OR subscriber_id = ? ORDER BY id",
        (subscriber_id, subscriber_id),
    )
    return [_endpoint(r) for r in rows]


def active_by_filter(settings: Settings) -> dict[int, list[Endpoint]]:
    found: dict[int, list[Endpoint]] = {}
    for endpoint in list_endpoints(settings):
        if endpoint.status == "active":
            found.setdefault(endpoint.filter_id, []).append(endpoint)
    return found


def remove(settings: Settings, endpoint_id: int) -> None:
    conn = _conn(settings)
    with transaction(conn):
        if not conn.execute("DELETE FROM alert_webhooks WHERE id = ?", (endpoint_id,)).rowcount:
            raise WebhookError(f"webhook {endpoint_id} does not exist (see `tbtwatch webhooks list`)")


# -- signing ----------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, *, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replays)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= TOLERANCE.total_seconds() and hmac.compare_digest(
        signature(secret, timestamp, body), header
    )


def payload(
    *,
    message_id: str,
    filter_info: dict[str, Any],
    notice: dict[str, Any],
    assessment: dict[str, Any],
    group: list[str],
    extra: dict[str, Any],
) -> Rendered:
    """The JSON body (UTF-8, Chinese unescaped) stored in the outbox row."""
    body = {
        "event": "notice.matched",
        "delivery": message_id,
        "filter": filter_info,
        "notice": notice,
        "assessment": assessment,
        "group": group,
        **extra,
    }
    data = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return Rendered(f"{notice.get('symbol', '')} -> {filter_info.get('name', '')}", data)


# -- delivery ---------------------------------------------------------------------------------


class _Failure(Exception):
    def __init__(self, message: str, *, temporary: bool, gone: bool = False):
        super().__init__(message)
        self.temporary = temporary
        self.gone = gone


def _post(
    client: httpx.Client, endpoint: Endpoint, row: OutboxRow, policy: WebhookPolicy, resolve: Resolver
) -> None:
    try:
        policy.check(endpoint.url, resolve)
    except WebhookError as exc:
        raise _Failure(str(exc), temporary=False) from None
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Tbtwatch-Event": "notice.matched",
        "X-Tbtwatch-Delivery": row.message_id,
        "X-Tbtwatch-Timestamp": timestamp,
        "X-Tbtwatch-Signature": signature(endpoint.secret, timestamp, row.payload),
    }
    try:
        response = client.post(endpoint.url, content=row.payload, headers=headers)
    except httpx.HTTPError as exc:
        raise _Failure(f"{type(exc).__name__}: {exc}", temporary=True) from None
    if 200 <= response.status_code < 300:
        return
    answer = f"HTTP {response.status_code} {response.reason_phrase}: {response.text[:200]!r}"
    temporary = response.status_code >= 500 or response.status_code in _TEMPORARY_STATUSES
    raise _Failure(answer, temporary=temporary, gone=response.status_code == 410)


class WebhookSender:
    """One delivery run over the outbox's webhook rows."""

    def __init__(self, settings: Settings, policy: WebhookPolicy, resolve: Resolver = resolve_host):
        self.settings, self.policy, self.resolve = settings, policy, resolve
        self.outbox = Outbox(settings)
        self.conn = _conn(settings)

    def _endpoint_of(self, row: OutboxRow) -> Endpoint | None:
        _, _, number = row.recipient.partition(":")
        return get_endpoint(self.settings, int(number)) if number.isdigit() else None

    def _record_success(self, endpoint: Endpoint) -> None:
        with transaction(self.conn) as conn:
            conn.execute(
                "UPDATE alert_webhooks SET failures = 0, last_error = NULL WHERE id = ?", (endpoint.id,)
            )

    def _record_failure(self, endpoint: Endpoint, error: str, gone: bool) -> bool:
        """Count a failure; True when the endpoint is now disabled."""
        with transaction(self.conn) as conn:
            conn.execute(
                "UPDATE alert_webhooks SET failures = failures + 1, last_error = ? WHERE id = ?",
                (error, endpoint.id),
            )
            failures = conn.execute(
                "SELECT failures FROM alert_webhooks WHERE id = ?", (endpoint.id,)
            ).fetchone()[0]
            if not (gone or failures >= DISABLE_AFTER):
                return False
            conn.execute(
                "UPDATE alert_webhooks SET status = 'disabled', disabled_at = ? WHERE id = ? AND status = 'active'",
                (_now(), endpoint.id),
            )
            conn.execute(
                "UPDATE alert_outbox SET state = 'failed', last_error = ? WHERE channel = ? AND recipient = ? "
                "AND state = 'queued'",
                (f"endpoint disabled after: {error}", CHANNEL, endpoint.recipient),
            )
        return True

    def run(
        self, now: dt.datetime | None = None, limit: int = 10_000
    ) -> tuple[DeliveryReport, list[Endpoint]]:
        """Deliver due webhook rows; returns the report and the endpoints disabled in this run."""
        report = DeliveryReport(uncertain=self.outbox.recover_stale(now, CHANNEL))
        disabled: list[Endpoint] = []
        failed_now: set[int] = set()  # endpoints that failed in this run are not tried again in it
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            for _ in range(limit):
                row = self.outbox.claim_next(now, channel=CHANNEL)
                if row is None:
                    break
                endpoint = self._endpoint_of(row)
                if endpoint is None or endpoint.status != "active":
                    self.outbox.mark_failed(row.id, "the endpoint was removed or disabled")
                    report.failed.append((row.id, "endpoint removed or disabled"))
                    continue
                if endpoint.id in failed_now:
                    self.outbox.defer(row.id, (now or dt.datetime.now(dt.timezone.utc)) + FIRST_RETRY)
                    continue
                try:
                    _post(client, endpoint, row, self.policy, self.resolve)
                except _Failure as exc:
                    failed_now.add(endpoint.id)
                    if self._record_failure(endpoint, str(exc), exc.gone):
                        disabled.append(endpoint)
                        report.failed.append((row.id, str(exc)))
                        self.outbox.mark_failed(row.id, f"endpoint disabled after: {exc}")
                    elif exc.temporary:
                        failure = self.outbox.mark_retry(row, str(exc), now)
                        if failure is None:
                            report.retrying.append(row.id)
                        else:
                            report.failed.append((row.id, failure))
                    else:
                        self.outbox.mark_failed(row.id, str(exc))
                        report.failed.append((row.id, str(exc)))
                    continue
                self._record_success(endpoint)
                self.outbox.mark_sent(row.id)
                report.sent.append(row.id)
                report.where = endpoint.url
        return report, disabled

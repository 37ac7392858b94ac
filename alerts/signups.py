"""Self-service sign-ups (the web form and the API), where the sender may not own the address.

A sign-up for a new address creates it ``pending`` with its filter and queues the
confirm link, as an operator's unconfirmed sign-up does. A sign-up for an address
that already has a row (pending, active or unsubscribed) changes nothing: the
request is held in ``alert_change_requests`` and a message to that address shows
what was asked, with a signed single-use link that applies it. So nobody can add
filters to, or change the language or frequency of, someone else's alerts. The
caller answers the same whatever the address's state (``sign_up`` returns
nothing), so a sign-up is no oracle of who subscribes. A newer request replaces
an older unapplied one: only the latest link works.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from alerts import run, subscriptions, tokens
from alerts.rules import Filter, Rule
from alerts.subscriptions import Subscriber
from alerts.validation import check_frequency, check_language, validate_email
from archive.db import ensure_schema, transaction
from tbtwatch.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_change_requests (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    request TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_change_requests_email ON alert_change_requests(email);
"""


@dataclass(frozen=True)
class ChangeRequest:
    """A held sign-up: the filter, language and frequency someone asked for ``email``."""

    id: int
    email: str
    include: Rule
    exclude: list[Rule]
    lang: str
    frequency: str
    source: str

    def as_subscriber(self) -> Subscriber:
        """The subscription as it would be, for the message that asks the owner to confirm it."""
        return Subscriber(0, self.email, self.lang, self.frequency, "pending", "",
                          filters=[Filter(self.include, self.exclude)])


def _connection(settings: Settings):
    conn = subscriptions.connection(settings)
    ensure_schema(conn, "alerts.signups", SCHEMA)
    return conn


def sign_up(settings: Settings, email: str, rule: Rule, *, lang: str = "zh", frequency: str = "daily",
            exclude: Iterable[Rule] = (), source: str = "web") -> None:
    """Sign ``email`` up, or hold the request for its owner; either way a message goes to ``email``."""
    email = validate_email(email)
    if subscriptions.get_subscriber(settings, email) is None:
        run.sign_up(settings, email, rule, lang=lang, frequency=frequency, exclude=exclude, source=source)
        return
    request = _hold(settings, email, rule, list(exclude), check_language(lang), check_frequency(frequency), source)
    run.queue_confirmation(settings, request.as_subscriber(), confirm_url=change_url(settings, request),
                           dedup_key=f"change:{request.id}")


def _hold(settings: Settings, email: str, rule: Rule, exclude: list[Rule], lang: str, frequency: str,
          source: str) -> ChangeRequest:
    subscriptions.check_not_empty(email, rule)
    body = json.dumps({"include": rule.to_dict(), "exclude": [r.to_dict() for r in exclude], "lang": lang,
                       "frequency": frequency}, ensure_ascii=False, sort_keys=True)
    conn = _connection(settings)
    with transaction(conn):
        conn.execute("DELETE FROM alert_change_requests WHERE email = ?", (email,))
        request_id = conn.execute(
            "INSERT INTO alert_change_requests (email, request, source, created_at) VALUES (?, ?, ?, ?)",
            (email, body, source, subscriptions.now_iso()),
        ).lastrowid
    return ChangeRequest(request_id, email, rule, exclude, lang, frequency, source)


def change_url(settings: Settings, request: ChangeRequest) -> str:
    token = tokens.make_token(settings, tokens.CHANGE, str(request.id))
    return f"{settings.alerts.base_url.rstrip('/')}/subscriptions/change?token={token}"


def held_request(settings: Settings, token: str) -> ChangeRequest:
    """The request a change link names; ``TokenError`` when the link is bad, used or superseded."""
    claims = tokens.read_token(settings, token, tokens.CHANGE)
    row = _connection(settings).execute(
        "SELECT * FROM alert_change_requests WHERE id = ?", (int(claims.subject),)
    ).fetchone()
    if row is None:
        raise tokens.TokenError("this link was already used or a newer request replaced it: "
                                "use the link in the most recent message, or sign up again")
    body = json.loads(row["request"])
    return ChangeRequest(row["id"], row["email"], Rule.from_dict(body["include"]),
                         [Rule.from_dict(r) for r in body["exclude"]], body["lang"], body["frequency"],
                         row["source"])


def apply_change(settings: Settings, token: str) -> Subscriber:
    """Apply the request a change link names (once): its owner confirmed it from the address itself."""
    request = held_request(settings, token)
    conn = _connection(settings)
    with transaction(conn):
        taken = conn.execute("DELETE FROM alert_change_requests WHERE id = ?", (request.id,)).rowcount
    if not taken:  # another click got there first
        raise tokens.TokenError("this link was already used: the change is in place")
    result = subscriptions.subscribe(settings, request.email, request.include, lang=request.lang,
                                     frequency=request.frequency, exclude=request.exclude, confirmed=True,
                                     source=request.source)
    return result.subscriber

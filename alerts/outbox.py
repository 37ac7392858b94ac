"""The persistent outbox: every message is recorded before it is sent, and is sent at most once.

A row is unique per (channel, recipient, dedup key, kind) - the dedup key is a
notice symbol or a date - and ``alert_outbox_items`` records which notices a
message carried, unique per (channel, recipient, notice, item kind), so a notice
already alerted immediately is not repeated in a daily batch. Rows and items are
inserted, and the message rendered, in one transaction. A run that queues thousands (``send_alerts``)
opens a ``batch``: each message is then a savepoint, committed with up to ``BATCH_MESSAGES`` others, so
a day's alerts do not pay a commit each, and the write lock is never held for more than a fraction of a
second. A crash loses at most the uncommitted messages of the batch, which were never sent: the next
run renders them again.

States: ``queued`` -> ``sending`` (claimed, just before the SMTP conversation)
-> ``sent``, or back to ``queued`` with a later ``next_attempt_at`` on a
temporary failure, or ``failed`` on a permanent one or after ``MAX_ATTEMPTS``.
A failed mail session (unreachable server, refused login: ``alerts.delivery``)
puts the claimed row back untried (``defer``): no attempt counted.

Crash safety: a row left in ``sending`` by a sender that died (killed process,
power loss) may or may not have reached the server. We choose never to send
twice: such a row becomes ``uncertain`` and is not retried automatically; the
operator checks the mail server's log for its Message-ID (stable per row) and
runs ``tbtwatch alerts requeue ID`` if it never arrived.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from archive.db import ensure_schema, thread_connection, transaction
from tbtwatch.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL DEFAULT 'email',
    recipient TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    payload BLOB,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'uncertain')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (channel, recipient, dedup_key, kind)
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS alert_outbox_items (
    outbox_id INTEGER NOT NULL REFERENCES alert_outbox(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    symbol TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    UNIQUE (channel, recipient, symbol, item_kind)
);
"""

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=6)
STALE_CLAIM = dt.timedelta(minutes=15)
BATCH_MESSAGES = 100  # messages per commit inside ``Outbox.batch`` (about a tenth of a second of rendering)


def stamp(moment: dt.datetime | None = None) -> str:
    """UTC time as a fixed-width ISO string, so SQL compares it as text."""
    moment = moment or dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, ... minutes after each failed attempt, at most six hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


@dataclass
class OutboxRow:
    id: int
    channel: str
    recipient: str
    dedup_key: str
    kind: str
    subject: str
    message_id: str
    payload: bytes
    state: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    sent_at: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "OutboxRow":
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass
class Rendered:
    """What a renderer gives the outbox to store: the subject (for listings) and the RFC 5322 bytes."""

    subject: str
    payload: bytes


# Called inside the enqueue transaction with (message_id, the notices not yet sent to this recipient).
Renderer = Callable[[str, list[str]], Rendered]


def _claimer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimer_dead(claimed_by: str | None) -> bool:
    host, _, pid = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Outbox:
    def __init__(self, settings: Settings):
        self.conn = thread_connection(settings.archive_db)
        ensure_schema(self.conn, "alerts.outbox", SCHEMA)
        self.domain = settings.smtp.sender.rpartition("@")[2].strip(" >") or "localhost"
        self._batched: int | None = None  # inside ``batch``: messages since its last commit

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Let the ``enqueue`` calls inside share transactions of up to ``BATCH_MESSAGES`` messages.

        Each message is still all or nothing (a savepoint); what was queued before an error is committed
        before the error goes on.
        """
        if self._batched is not None:
            raise RuntimeError("Outbox.batch is already open")
        self._batched = 0
        try:
            yield
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            self._batched = None

    @contextmanager
    def _message(self) -> Iterator[sqlite3.Connection]:
        """One message's writes: its own transaction, or a savepoint of the open batch's."""
        if self._batched is None:
            with transaction(self.conn) as conn:
                yield conn
            return
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("SAVEPOINT message")
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:  # SQLite has already rolled back all of it after some errors
                self.conn.execute("ROLLBACK TO message")
                self.conn.execute("RELEASE message")
            raise
        self.conn.execute("RELEASE message")
        self._batched += 1
        if self._batched >= BATCH_MESSAGES:
            self.conn.execute("COMMIT")
            self._batched = 0

    def message_id(self, channel: str, recipient: str, dedup_key: str, kind: str, row_id: int) -> str:
        digest = hashlib.sha256(f"{channel}\0{recipient}\0{dedup_key}\0{kind}".encode()).hexdigest()[:16]
        return f"<tbtwatch.{kind}.{row_id}.{digest}@{self.domain}>"

    def enqueue(
        self,
        *,
        recipient: str,
        dedup_key: str,
        kind: str,
        render: Renderer,
        channel: str = "email",
        symbols: Iterable[str] | None = None,
        item_kind: str | None = None,
    ) -> int | None:
        """Record and render one message; None if it (or every notice it would carry) was already queued.

        ``symbols``: the notices the message is about; those already sent to
        this recipient under ``item_kind`` are dropped before rendering.
        """
        wanted = list(dict.fromkeys(symbols or []))
        with self._message() as conn:
            fresh = [
                s
                for s in wanted
                if conn.execute(
                    "SELECT 1 FROM alert_outbox_items WHERE channel = ? AND recipient = ? AND symbol = ? "
                    "AND item_kind = ?",
                    (channel, recipient, s, item_kind or kind),
                ).fetchone()
                is None
            ]
            if wanted and not fresh:
                return None
            now = stamp()
            cur = conn.execute(
                "INSERT OR IGNORE INTO alert_outbox (channel, recipient, dedup_key, kind, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (channel, recipient, dedup_key, kind, now, now),
            )
            if cur.rowcount == 0:
                return None
            row_id = cur.lastrowid
            conn.executemany(
                "INSERT INTO alert_outbox_items (outbox_id, channel, recipient, symbol, item_kind) "
                "VALUES (?, ?, ?, ?, ?)",
                [(row_id, channel, recipient, s, item_kind or kind) for s in fresh],
            )
            message_id = self.message_id(channel, recipient, dedup_key, kind, row_id)
            rendered = render(message_id, fresh)
            conn.execute(
                "UPDATE alert_outbox SET subject = ?, message_id = ?, payload = ? WHERE id = ?",
                (rendered.subject, message_id, rendered.payload, row_id),
            )
        return row_id

    def recover_stale(self, now: dt.datetime | None = None, channel: str = "email") -> list[int]:
        """Mark rows a dead sender left in ``sending`` as ``uncertain`` (see the module docstring for why)."""
        cutoff = stamp((now or dt.datetime.now(dt.timezone.utc)) - STALE_CLAIM)
        rows = self.conn.execute(
            "SELECT id, claimed_by, claimed_at, message_id FROM alert_outbox WHERE state = 'sending' "
            "AND channel = ?",
            (channel,),
        ).fetchall()
        stale = [r for r in rows if _claimer_dead(r["claimed_by"]) or (r["claimed_at"] or "") < cutoff]
        with transaction(self.conn) as conn:
            for r in stale:
                conn.execute(
                    "UPDATE alert_outbox SET state = 'uncertain', last_error = ? "
                    "WHERE id = ? AND state = 'sending'",
                    (
                        f"the sender ({r['claimed_by']}) stopped during delivery; the message may have "
                        f"arrived. Check the mail log for Message-ID {r['message_id']} (a webhook: the "
                        f"receiver's log for X-Tbtwatch-Delivery); if absent, run "
                        f"`tbtwatch alerts requeue {r['id']}`",
                        r["id"],
                    ),
                )
        return [r["id"] for r in stale]

    def claim_next(self, now: dt.datetime | None = None, channel: str = "email") -> OutboxRow | None:
        """Take the oldest due queued row and mark it ``sending`` (committed before any network I/O)."""
        with transaction(self.conn) as conn:
            row = conn.execute(
                "SELECT * FROM alert_outbox WHERE state = 'queued' AND channel = ? "
                "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1",
                (channel, stamp(now)),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE alert_outbox SET state = 'sending', attempts = attempts + 1, claimed_by = ?, "
                "claimed_at = ? WHERE id = ?",
                (_claimer(), stamp(), row["id"]),
            )
        claimed = OutboxRow.from_row(row)
        claimed.attempts += 1
        claimed.state = "sending"
        return claimed

    def mark_sent(self, row_id: int) -> None:
        with transaction(self.conn) as conn:
            conn.execute(
                "UPDATE alert_outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                (stamp(), row_id),
            )

    def mark_failed(self, row_id: int, error: str) -> None:
        with transaction(self.conn) as conn:
            conn.execute(
                "UPDATE alert_outbox SET state = 'failed', last_error = ? WHERE id = ?", (error, row_id)
            )

    def mark_retry(self, row: OutboxRow, error: str, now: dt.datetime | None = None) -> str | None:
        """Queue again after the backoff (None), or give up after ``MAX_ATTEMPTS`` (the failure recorded)."""
        if row.attempts >= MAX_ATTEMPTS:
            failure = f"gave up after {row.attempts} attempts; last error: {error}"
            self.mark_failed(row.id, failure)
            return failure
        due = stamp((now or dt.datetime.now(dt.timezone.utc)) + backoff(row.attempts))
        with transaction(self.conn) as conn:
            conn.execute(
                "UPDATE alert_outbox SET state = 'queued', next_attempt_at = ?, last_error = ? WHERE id = ?",
                (due, error, row.id),
            )
        return None

    def defer(self, row_id: int, due: dt.datetime | None = None, error: str | None = None) -> None:
        """Put a claimed row back untried (the attempt is not counted): the sender chose not to try it now (its
        webhook endpoint just failed another message; ``due`` then says when), or could not (the mail session
        failed: the schedule stays as it was, ``error`` records why)."""
        with transaction(self.conn) as conn:
            conn.execute(
                "UPDATE alert_outbox SET state = 'queued', attempts = attempts - 1, claimed_by = NULL, "
                "next_attempt_at = COALESCE(?, next_attempt_at), last_error = COALESCE(?, last_error) "
                "WHERE id = ? AND state = 'sending'",
                (stamp(due) if due else None, error, row_id),
            )

    def waiting(self, channel: str = "email") -> int:
        """How many messages of ``channel`` are queued (due now or later)."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM alert_outbox WHERE state = 'queued' AND channel = ?", (channel,)
        ).fetchone()[0]

    def carried(self, channel: str, recipient: str, symbols: list[str], item_kind: str) -> set[str]:
        """Which of ``symbols`` a message to ``recipient`` already carried (queued or sent)."""
        marks = ",".join("?" * len(symbols))
        rows = self.conn.execute(
            f"SELECT symbol FROM alert_outbox_items WHERE channel = ? AND recipient = ? AND item_kind = ? "
            f"AND symbol IN ({marks})",
            (channel, recipient, item_kind, *symbols),
        )
        return {r["symbol"] for r in rows}

    def requeue(self, row_id: int) -> None:
        """Send a failed or uncertain row again (an operator's decision, after checking the mail log)."""
        with transaction(self.conn) as conn:
            changed = conn.execute(
                "UPDATE alert_outbox SET state = 'queued', next_attempt_at = ?, attempts = 0 "
                "WHERE id = ? AND state IN ('failed', 'uncertain')",
                (stamp(), row_id),
            ).rowcount
        if not changed:
            raise ValueError(f"outbox row {row_id} is not failed or uncertain (see `tbtwatch alerts status`)")

    def rows(self, state: str | None = None, kind: str | None = None) -> list[OutboxRow]:
        rows = self.conn.execute(
            "SELECT * FROM alert_outbox WHERE (? IS NULL OR state = ?) "
            "AND (? IS NULL OR kind = ?) ORDER BY id",
            (state, state, kind, kind),
        )
        return [OutboxRow.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        return {
            r["state"]: r["n"]
            for r in self.conn.execute("SELECT state, COUNT(*) AS n FROM alert_outbox GROUP BY state")
        }

    def followed(self, recipient: str, item_kind: str = "alert") -> list[str]:
        """Notices a recipient was alerted to (queued or delivered): what they follow, for reminders."""
        rows = self.conn.execute(
            "SELECT DISTINCT i.symbol FROM alert_outbox_items i JOIN alert_outbox o "
            "ON o.id = i.outbox_id WHERE i.recipient = ? AND i.item_kind = ? "
            "AND o.state IN ('queued', 'sending', 'sent', 'uncertain')",
            (recipient, item_kind),
        )
        return [r["symbol"] for r in rows]

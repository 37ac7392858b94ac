"""The working group's review workflow (通报评议): a status, an owner and notes per relevant notice.

Statuses: new -> under_review -> comment_drafted -> comment_sent, or no_action.
Every change is logged (who, when, what) so the group can see how a comment
came about. Chinese status names are accepted too.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from alerts.subscriptions import now_iso
from archive.db import ensure_schema, thread_connection, transaction
from tbtwatch.settings import Settings
from tbtwatch.symbols import SymbolError, normalise_symbol

STATUSES = ("new", "under_review", "comment_drafted", "comment_sent", "no_action")
OPEN_STATUSES = ("new", "under_review", "comment_drafted")
_ALIASES = {
    "新": "new",
    "新通报": "new",
    "待处理": "new",  # the label messages show (templates/labels.yaml)
    "评议中": "under_review",
    "under-review": "under_review",
    "review": "under_review",
    "意见已起草": "comment_drafted",
    "已起草": "comment_drafted",
    "drafted": "comment_drafted",
    "意见已提交": "comment_sent",
    "已提交": "comment_sent",
    "sent": "comment_sent",
    "无需行动": "no_action",
    "none": "no_action",
    "no-action": "no_action",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_reviews (
    symbol TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('new', 'under_review', 'comment_drafted', 'comment_sent', 'no_action')),
    owner TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_review_log (
    id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
"""


class ReviewError(ValueError):
    """A review change that cannot be made; the message says why."""


@dataclass
class Review:
    symbol: str
    status: str
    owner: str
    notes: str
    created_at: str
    updated_at: str

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES


def _conn(settings: Settings) -> sqlite3.Connection:
    conn = thread_connection(settings.archive_db)
    ensure_schema(conn, "alerts.reviews", SCHEMA)
    return conn


def parse_status(text: str) -> str:
    key = text.strip().lower().replace(" ", "_")
    status = key if key in STATUSES else _ALIASES.get(text.strip(), _ALIASES.get(key))
    if status is None:
        raise ReviewError(
            f"review status {text!r}: use one of {', '.join(STATUSES)} (or 评议中, 意见已起草, ...)"
        )
    return status


def _symbol(text: str) -> str:
    try:
        return normalise_symbol(text)
    except SymbolError as exc:
        raise ReviewError(str(exc)) from None


def get_review(settings: Settings, symbol: str) -> Review | None:
    row = (
        _conn(settings).execute("SELECT * FROM alert_reviews WHERE symbol = ?", (_symbol(symbol),)).fetchone()
    )
    return Review(**dict(row)) if row else None


def list_reviews(settings: Settings, statuses: tuple[str, ...] = STATUSES) -> list[Review]:
    rows = _conn(settings).execute("SELECT * FROM alert_reviews ORDER BY updated_at DESC, symbol").fetchall()
    return [Review(**dict(r)) for r in rows if r["status"] in statuses]


def open_review(settings: Settings, symbol: str) -> bool:
    """Put a relevant notice in the queue as ``new`` unless it is already there; True if added."""
    stamp = now_iso()
    conn = _conn(settings)
    with transaction(conn):
        added = conn.execute(
            "INSERT OR IGNORE INTO alert_reviews (symbol, status, created_at, updated_at) "
            "VALUES (?, 'new', ?, ?)",
            (_symbol(symbol), stamp, stamp),
        ).rowcount
        if added:
            conn.execute(
                "INSERT INTO alert_review_log (symbol, at, status, owner, note) VALUES (?, ?, 'new', '', "
                "'added by the digest')",
                (_symbol(symbol), stamp),
            )
    return bool(added)


def update_review(
    settings: Settings,
    symbol: str,
    *,
    status: str | None = None,
    owner: str | None = None,
    note: str | None = None,
) -> Review:
    """Change the status and/or owner, and append a note; the notice need not be in the queue yet."""
    symbol = _symbol(symbol)
    status = parse_status(status) if status else None
    stamp = now_iso()
    conn = _conn(settings)
    with transaction(conn):
        row = conn.execute("SELECT * FROM alert_reviews WHERE symbol = ?", (symbol,)).fetchone()
        current = Review(**dict(row)) if row else Review(symbol, "new", "", "", stamp, stamp)
        notes = current.notes
        if note:
            notes = f"{notes}\n{stamp[:10]} {note.strip()}".strip()
        updated = Review(
            symbol,
            status or current.status,
            current.owner if owner is None else owner.strip(),
            notes,
            current.created_at,
            stamp,
        )
        conn.execute(
            "INSERT INTO alert_reviews (symbol, status, owner, notes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET status = excluded.status, "
            "owner = excluded.owner, notes = excluded.notes, updated_at = excluded.updated_at",
            (symbol, updated.status, updated.owner, updated.notes, updated.created_at, stamp),
        )
        conn.execute(
            "INSERT INTO alert_review_log (symbol, at, status, owner, note) VALUES (?, ?, ?, ?, ?)",
            (symbol, stamp, updated.status, updated.owner, note or ""),
        )
    return updated


def review_log(settings: Settings, symbol: str) -> list[dict[str, str]]:
    rows = _conn(settings).execute(
        "SELECT at, status, owner, note FROM alert_review_log WHERE symbol = ? ORDER BY id",
        (_symbol(symbol),),
    )
    return [dict(r) for r in rows]

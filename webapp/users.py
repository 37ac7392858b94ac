"""Working-group accounts for the web app: a name and a password hash in the archive's SQLite file.

Passwords are hashed with scrypt (``hashlib.scrypt``, a memory-hard KDF in the
standard library) with a random salt per user; the parameters are stored with
each hash so they can be raised later without invalidating existing accounts.

A login opens a server-side session (``web_sessions``): the signed cookie holds
only its random id, whose SHA-256 is stored. So a session can be ended: at
logout (that one), at a password change (all of the user's), or when it
expires; a copy of the cookie is then worth nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import datetime as dt
import secrets
from dataclasses import dataclass

from archive.db import ensure_schema, thread_connection, transaction
from tbtwatch.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_login TEXT
);
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash TEXT PRIMARY KEY,       -- sha256 of the id in the cookie: a copy of the table opens nothing
    name TEXT NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_name ON web_sessions(name);
"""
SESSION_HOURS = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # about 50 ms and 16 MiB per hash on this hardware
MIN_PASSWORD = 10
_NAME = re.compile(r"^[\w.@-]{2,64}$")


class UserError(ValueError):
    """An account that cannot be created or used; the message says what to change."""


@dataclass(frozen=True)
class User:
    name: str


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class Users:
    def __init__(self, settings: Settings):
        self.db_path = settings.archive_db
        ensure_schema(self._conn, "webapp.users", SCHEMA)

    @property
    def _conn(self):
        return thread_connection(self.db_path)

    def add(self, name: str, password: str) -> User:
        """Create an account, or set a new password for an existing one."""
        name = name.strip()
        if not _NAME.match(name):
            raise UserError(f"user name {name!r}: use 2-64 letters, digits, '.', '@', '_' or '-'")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"the password has {len(password)} characters: use at least {MIN_PASSWORD}")
        with transaction(self._conn) as conn:
            conn.execute("INSERT INTO web_users (name, password_hash) VALUES (?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
                         (name, hash_password(password)))
            conn.execute("DELETE FROM web_sessions WHERE name = ?", (name,))  # a new password ends every session
        return User(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right; an unknown name costs the same time as a wrong password."""
        row = self._conn.execute("SELECT name, password_hash FROM web_users WHERE name = ?",
                                 (name.strip(),)).fetchone()
        if row is None:
            check_password(password, _DUMMY_HASH)
            return None
        if not check_password(password, row["password_hash"]):
            return None
        self._conn.execute("UPDATE web_users SET last_login = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE name = ?",
                           (row["name"],))
        return User(row["name"])

    def exists(self, name: str) -> bool:
        return self._conn.execute("SELECT 1 FROM web_users WHERE name = ?", (name,)).fetchone() is not None

    def names(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT name FROM web_users ORDER BY name")]

    # -- sessions ---------------------------------------------------------------------------------
    def open_session(self, user: User, hours: float = SESSION_HOURS) -> str:
        """A new session for ``user``: the id for the cookie (only its hash is stored)."""
        session_id = secrets.token_urlsafe(32)
        expires = _utc_now() + dt.timedelta(hours=hours)
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (_stamp(_utc_now()),))
            conn.execute("INSERT INTO web_sessions (id_hash, name, expires_at) VALUES (?, ?, ?)",
                         (_id_hash(session_id), user.name, _stamp(expires)))
        return session_id

    def session_user(self, session_id: str) -> str | None:
        """The user of a live session, None when it was ended, has expired or never existed."""
        row = self._conn.execute("SELECT name FROM web_sessions WHERE id_hash = ? AND expires_at >= ?",
                                 (_id_hash(session_id), _stamp(_utc_now()))).fetchone()
        return row["name"] if row else None

    def close_session(self, session_id: str) -> None:
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_id_hash(session_id),))


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

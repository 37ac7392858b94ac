"""Signed, expiring tokens for the confirm and one-click unsubscribe links and personal feed URLs.

A token is ``base64url(JSON payload) . base64url(HMAC-SHA256)``; the payload
names its purpose, its subject (the subscriber's address) and its expiry, so a
confirm token cannot be replayed as an unsubscribe token and an old link stops
working. The secret comes from ``settings.alerts.secret`` (environment
``TBTWATCH_SECRET``); when that is empty one is generated at first use into
``$TBTWATCH_HOME/secret.key`` (mode 0600), never hard-coded.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass

from tbtwatch.settings import Settings

log = logging.getLogger(__name__)

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
FEED = "feed"  # a personal filter's Atom feed; the subject is the filter id
CHANGE = "change"  # a sign-up held for an address that already subscribes; the subject is the request id
LIFETIMES = {
    CONFIRM: dt.timedelta(days=7),
    CHANGE: dt.timedelta(days=7),
    UNSUBSCRIBE: dt.timedelta(days=400),
    FEED: dt.timedelta(days=5 * 365),
}


class TokenError(ValueError):
    """A link token that is forged, damaged, expired or meant for something else."""


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    subject: str
    expires: dt.datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(settings: Settings) -> bytes:
    """The signing secret: from the settings, else from (or newly into) ``secret.key`` under the data dir."""
    if settings.alerts.secret:
        return settings.alerts.secret.encode("utf-8")
    key_file = settings.path("secret.key")
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        log.warning(
            "no alerts.secret configured: generated a new signing secret in %s (mode 0600); "
            "set TBTWATCH_SECRET to share one secret between machines",
            key_file,
        )
    return key_file.read_text(encoding="utf-8").strip().encode("utf-8")


def _signature(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest())


def make_token(
    settings: Settings,
    purpose: str,
    subject: str,
    *,
    now: dt.datetime | None = None,
    lifetime: dt.timedelta | None = None,
) -> str:
    """A token for ``purpose`` about ``subject`` that expires after the purpose's lifetime."""
    now = now or dt.datetime.now(dt.timezone.utc)
    expires = now + (lifetime or LIFETIMES[purpose])
    payload = {"p": purpose, "s": subject, "e": int(expires.timestamp())}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return f"{body}.{_signature(load_secret(settings), body)}"


def read_token(
    settings: Settings, token: str, purpose: str, *, now: dt.datetime | None = None
) -> TokenClaims:
    """Verify a token's signature, purpose and expiry; raise ``TokenError`` saying which check failed."""
    body, _, signature = (token or "").strip().partition(".")
    if not body or not signature:
        raise TokenError("the link is incomplete (no signature): copy the whole link from the email")
    if not hmac.compare_digest(signature, _signature(load_secret(settings), body)):
        raise TokenError("the link's signature is not valid: it was altered or not issued by tbtwatch")
    try:
        payload = json.loads(_unb64(body))
        claims = TokenClaims(
            str(payload["p"]),
            str(payload["s"]),
            dt.datetime.fromtimestamp(int(payload["e"]), dt.timezone.utc),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise TokenError("the link's content is damaged") from exc
    if claims.purpose != purpose:
        raise TokenError(f"this link is for {claims.purpose}, not {purpose}")
    if claims.expires < (now or dt.datetime.now(dt.timezone.utc)):
        raise TokenError(
            f"this link expired on {claims.expires:%Y-%m-%d}: "
            + (
                "sign up again to get a new confirmation link"
                if purpose in (CONFIRM, CHANGE)
                else "use the link in a more recent message, or ask the operator"
            )
        )
    return claims

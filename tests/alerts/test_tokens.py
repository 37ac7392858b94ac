"""Signed link tokens: round trip, forgery, tampering, expiry, purpose, and the generated secret file."""

from __future__ import annotations

import datetime as dt
import stat

import pytest

from alerts import tokens
from alerts.tokens import TokenError, make_token, read_token
from tbtwatch.settings import get_settings

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def test_round_trip(settings):
    token = make_token(settings, tokens.UNSUBSCRIBE, "李@example.cn", now=NOW)
    claims = read_token(settings, token, tokens.UNSUBSCRIBE, now=NOW)
    assert claims.subject == "李@example.cn" and claims.purpose == "unsubscribe"


def test_forged_signature_is_refused(settings):
    body, _, signature = make_token(settings, tokens.CONFIRM, "a@example.org", now=NOW).partition(".")
    forged = f"{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(TokenError, match="signature is not valid"):
        read_token(settings, forged, tokens.CONFIRM, now=NOW)


def test_payload_swapped_for_another_address_is_refused(settings):
    mine = make_token(settings, tokens.UNSUBSCRIBE, "me@example.org", now=NOW)
    theirs = make_token(settings, tokens.UNSUBSCRIBE, "victim@example.org", now=NOW)
    spliced = theirs.split(".")[0] + "." + mine.split(".")[1]
    with pytest.raises(TokenError, match="signature"):
        read_token(settings, spliced, tokens.UNSUBSCRIBE, now=NOW)


def test_token_signed_with_another_secret_is_refused(settings, monkeypatch):
    token = make_token(settings, tokens.CONFIRM, "a@example.org", now=NOW)
    monkeypatch.setenv("TBTWATCH_SECRET", "a different secret")
    get_settings.cache_clear()
    with pytest.raises(TokenError, match="signature"):
        read_token(get_settings(), token, tokens.CONFIRM, now=NOW)


def test_expired_token_is_refused_with_the_date(settings):
    token = make_token(settings, tokens.CONFIRM, "a@example.org", now=NOW)
    read_token(settings, token, tokens.CONFIRM, now=NOW + dt.timedelta(days=6))
    with pytest.raises(TokenError, match="expired on 2026-03-09"):
        read_token(settings, token, tokens.CONFIRM, now=NOW + dt.timedelta(days=8))


def test_confirm_token_cannot_unsubscribe(settings):
    token = make_token(settings, tokens.CONFIRM, "a@example.org", now=NOW)
    with pytest.raises(TokenError, match="for confirm, not unsubscribe"):
        read_token(settings, token, tokens.UNSUBSCRIBE, now=NOW)


@pytest.mark.parametrize("garbage", ["", "no-dot", "abc.def", "!!!.???"])
def test_garbage_is_refused(settings, garbage):
    with pytest.raises(TokenError):
        read_token(settings, garbage, tokens.CONFIRM, now=NOW)


def test_secret_generated_once_with_owner_only_permissions(home, monkeypatch, caplog):
    monkeypatch.delenv("TBTWATCH_SECRET")
    get_settings.cache_clear()
    settings = get_settings()
    token = make_token(settings, tokens.CONFIRM, "a@example.org", now=NOW)
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a new signing secret" in caplog.text
    assert read_token(settings, token, tokens.CONFIRM, now=NOW).subject == "a@example.org"
    assert key_file.read_text() not in token

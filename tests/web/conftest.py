"""Web fixtures: a real SQLite archive under a temporary TBTWATCH_HOME, filled with our own real-shaped notices.

One archive per test module (module scope keeps the browser tests within their
time budget); tests that change state use symbols or addresses of their own.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from webtools import ASSESSMENTS, NOTICES, PASSWORD

from tbtwatch.model import notice_from_dict
from tbtwatch.settings import get_settings


@pytest.fixture(scope="module")
def web_settings(tmp_path_factory):
    """Settings for a fresh data directory, seeded with the notices, assessments, a user and a review."""
    from alerts import reviews
    from archive.sqlite_store import SqliteStore
    from webapp.users import Users

    home_dir = tmp_path_factory.mktemp("web") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TBTWATCH_HOME", str(home_dir))
        mp.setenv("TBTWATCH_SECRET", "web-test-secret-not-for-production")
        mp.delenv("TBTWATCH_SMTP_HOST", raising=False)
        mp.delenv("TBTWATCH_ARCHIVE_BACKEND", raising=False)
        get_settings.cache_clear()
        settings = get_settings()
        store = SqliteStore(settings.archive_db)
        notices = [notice_from_dict(n) for n in NOTICES]
        store.upsert(notices)
        hashes = {n.symbol: n.content_hash() for n in notices}
        store.put_assessments([{**a, "notice_hash": hashes[a["symbol"]]} for a in ASSESSMENTS])
        Users(settings).add("alice", PASSWORD)
        reviews.open_review(settings, "G/TBT/N/EU/1132")
        reviews.open_review(settings, "G/TBT/N/CHN/1900")
        yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def app(web_settings):
    from webapp.app import create_app

    return create_app(web_settings)


@pytest.fixture
def client(app):
    """A fresh browser-like client (own cookies) per test."""
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c

"""Web fixtures: a real SQLite archive under a temporary TBTWATCH_HOME, filled with our own real-shaped notices.

One archive per test module (module scope keeps the browser tests within their
time budget); tests that change state use symbols or addresses of their own.
"""

from __future__ import annotations

import threading
import time

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


# -- a real browser against a real server (used by the browser tests of several modules) ----------------

@pytest.fixture(scope="module")
def server(app):
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 10 s")
        time.sleep(0.02)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def problems() -> list[str]:
    """Console errors, uncaught exceptions, CSP violations and dialogs of the test's page."""
    return []


@pytest.fixture
def page(browser, server, problems):
    context = browser.new_context(base_url=server, accept_downloads=True, locale="en-US")
    context.set_default_timeout(5000)
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield tab
    context.close()
    assert not problems, f"console errors, CSP violations or dialogs: {problems}"

"""Helpers of the attack-category modules: a web app on a real SQLite archive, the mail it queues."""

from __future__ import annotations

import contextlib
import email
import re
import threading
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tbtwatch.settings import get_settings

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def outbox_to(settings, address: str) -> list[email.message.EmailMessage]:
    """The messages written for ``address`` (no SMTP host configured: ``.eml`` files under the outbox)."""
    found = []
    for path in sorted(Path(settings.home, "outbox").rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def link_in(message: email.message.EmailMessage, path: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(path) + r"\?token=[\w.\-]+", body)
    assert match, f"no {path} link in the message"
    return match.group(0)


@pytest.fixture
def web(home):
    """A browser-like client of a fresh app (its own rate limits) over an empty archive."""
    from webapp.app import create_app

    app = create_app(get_settings())
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


@contextlib.contextmanager
def serving(app) -> Iterator[tuple[str, int]]:
    """``app`` under uvicorn on 127.0.0.1 (a free port), for tests that need real sockets."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 10 s")
        time.sleep(0.02)
    try:
        yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=5)

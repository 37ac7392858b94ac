"""Helpers of the attack-category modules: a web app on a real SQLite archive, the mail it queues."""

from __future__ import annotations

import email
import re
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

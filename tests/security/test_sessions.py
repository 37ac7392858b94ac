"""Working-group sessions end when they should: at logout and at a password change.

A session cookie is signed, so it cannot be forged, but a copy (a shared machine, a proxy log, malware)
used to open /review for its whole 8-hour life whatever its owner did. Proved through the real app and a
real SQLite archive: a copy of the cookie taken while logged in works (the control), and stops working -
back to the login page - once its owner logs out, or once the password is changed; other sessions of the
user are ended by a password change too, and a new login works.
"""

from __future__ import annotations

import pytest
from conftest import csrf_of
from fastapi.testclient import TestClient

from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(60)

PASSWORD = "correct horse battery"
COOKIE = "tbtwatch_session"


@pytest.fixture
def app(home):
    from webapp.app import create_app
    from webapp.users import Users

    settings = get_settings()
    Users(settings).add("alice", PASSWORD)
    return create_app(settings)


def logged_in(app) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303
    return client


def opens_review(app, cookie: str) -> bool:
    with TestClient(app, base_url="http://127.0.0.1", cookies={COOKIE: cookie}) as copy:
        answer = copy.get("/review", follow_redirects=False)
    assert answer.status_code in (200, 303), answer.status_code
    return answer.status_code == 200


def test_a_copied_cookie_stops_working_at_logout(app):
    owner = logged_in(app)
    copied = owner.cookies[COOKIE]
    assert opens_review(app, copied)  # the control: the copy works while the session lives
    token = csrf_of(owner.get("/review").text)
    assert owner.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert not opens_review(app, copied)


def test_a_password_change_ends_every_session_of_the_user(app):
    from webapp.users import Users

    first, second = logged_in(app), logged_in(app)
    copies = [first.cookies[COOKIE], second.cookies[COOKIE]]
    assert all(opens_review(app, c) for c in copies)
    Users(get_settings()).add("alice", "a new long password")
    assert not any(opens_review(app, c) for c in copies)
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": "alice", "password": "a new long password", "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303 and opens_review(app, client.cookies[COOKIE])

"""HTTP behaviour around the pages: HEAD like GET, no session cookie where there is no form, rate limits on
login and sign-up (a real app and a real SQLite archive; the limiter's window with its own clock)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from webtools import PASSWORD, csrf_of

READING_PAGES = ["/", "/search?q=battery", "/notices/G/TBT/N/EU/1132", "/stats", "/feeds/", "/api/search?q=battery",
                 "/export.csv?q=battery"]


@pytest.mark.parametrize("url", [*READING_PAGES, "/static/style.css", "/subscribe", "/login"])
def test_head_answers_like_get_without_a_body(client, url):
    got, head = client.get(url), client.head(url)
    assert head.status_code == got.status_code == 200, url
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"] == got.headers["content-security-policy"]


def test_head_of_a_missing_page_is_404_not_405(client):
    assert client.head("/notices/G/TBT/N/EU/99999").status_code == 404
    assert client.head("/nothing-here").status_code == 404
    assert client.post("/search").status_code == 405  # other methods are still refused


@pytest.mark.parametrize("url", READING_PAGES)
def test_reading_pages_set_no_cookie(client, url):
    response = client.get(url)
    assert response.status_code == 200 and "set-cookie" not in response.headers, url


@pytest.mark.parametrize("url", ["/login", "/subscribe"])
def test_pages_with_a_form_start_a_session(client, url):
    response = client.get(url)
    assert "tbtwatch_session=" in response.headers["set-cookie"] and csrf_of(response.text)
    assert csrf_of(client.get(url).text) == csrf_of(response.text)  # the same token while the session lasts


@pytest.fixture
def fresh_app(web_settings):
    """An app of its own, so its rate limits start from zero whatever the module's other tests did."""
    from webapp.app import create_app

    return create_app(web_settings)


def _login(client: TestClient, password: str):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": "alice", "password": password, "csrf_token": token},
                       follow_redirects=False)


def test_login_is_limited_per_address(fresh_app):
    with TestClient(fresh_app, base_url="http://127.0.0.1", client=("203.0.113.7", 40000)) as guesser:
        assert [_login(guesser, f"guess number {i}").status_code for i in range(10)] == [401] * 10
        refused = _login(guesser, PASSWORD)  # even the right password waits
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
        assert "too many login attempts" in refused.text and "wait" in refused.text
    with TestClient(fresh_app, base_url="http://127.0.0.1", client=("198.51.100.2", 40000)) as colleague:
        assert _login(colleague, PASSWORD).status_code == 303  # another address is not affected


def test_sign_up_is_limited_across_the_form_and_the_api(fresh_app, web_settings):
    from alerts import subscriptions

    with TestClient(fresh_app, base_url="http://127.0.0.1", client=("203.0.113.8", 40000)) as sender:
        token = csrf_of(sender.get("/subscribe").text)
        for i in range(5):
            form = {"email": f"victim{i}@example.com", "hs": "8507", "csrf_token": token}
            assert sender.post("/subscribe", data=form).status_code == 200
        for i in range(5, 10):
            body = {"email": f"victim{i}@example.com", "hs": ["8507"]}
            assert sender.post("/api/subscriptions", json=body).status_code == 202
        page = sender.post("/subscribe", data={"email": "victim10@example.com", "hs": "8507", "csrf_token": token})
        api = sender.post("/api/subscriptions", json={"email": "victim11@example.com", "hs": ["8507"]})
    assert page.status_code == 429 and "too many sign-up attempts" in page.text
    assert api.status_code == 429 and "too many sign-up attempts" in api.json()["detail"]
    assert subscriptions.get_subscriber(web_settings, "victim9@example.com") is not None
    assert subscriptions.get_subscriber(web_settings, "victim10@example.com") is None  # refused, nothing queued


def test_the_window_slides():
    from webapp.ratelimit import RateLimited, RateLimiter

    now = [1000.0]
    limiter = RateLimiter("login", limit=3, window=60, clock=lambda: now[0])
    for step in (0, 10, 20):
        now[0] = 1000 + step
        limiter.check("a")
    now[0] = 1059
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 1  # the first attempt leaves the window at 1060
    limiter.check("b")  # per address
    now[0] = 1060.5
    limiter.check("a")  # one slot free again
    with pytest.raises(RateLimited):
        limiter.check("a")

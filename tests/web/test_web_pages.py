"""The HTML pages through a real app and SQLite archive: escaping, CSP, CSRF, login, review, subscriptions."""

from __future__ import annotations

import csv
import io
import re

import pytest
from webtools import PASSWORD, csrf_of, link_in, login, outbox_messages

from webapp.security import CSP


def test_every_page_sends_the_security_headers(client):
    for url in ("/", "/search?q=battery", "/notices/G/TBT/N/EU/1132", "/stats", "/subscribe", "/login",
                "/api/search", "/nothing-here"):
        response = client.get(url)
        assert response.headers["content-security-policy"] == CSP, url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP


def test_search_page_highlights_and_escapes(client):
    page = client.get("/search", params={"q": "charger"}).text
    assert "<script>window.__xss" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;&lt;img src=x onerror=" in page
    assert "<mark>charger</mark>" in page.replace("<mark>chargers</mark>", "<mark>charger</mark>")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page  # the description snippet, escaped


def test_highlight_filter_escapes_before_marking():
    from archive.base import MARK_END, MARK_START
    from webapp.templating import highlight

    html = highlight(f'<b onclick="x">{MARK_START}battery{MARK_END}</b> & more')
    assert str(html) == "&lt;b onclick=&#34;x&#34;&gt;<mark>battery</mark>&lt;/b&gt; &amp; more"


def test_notice_page_shows_everything_escaped(client):
    page = client.get("/notices/G/TBT/N/USA/2034").text
    assert "<script>window" not in page and "&lt;script&gt;" in page
    regulation = client.get("/notices/G/TBT/N/EU/1132").text
    for expected in ("电池和废电池法规草案", "Draft regulation on batteries", "battery passport", "850760",
                     "(0.93)", "(0.95)", "/notices/G/TBT/N/EU/1132/Add.1", "batteries are a main Shenzhen",
                     "Protection of the environment", 'href="https://docs.wto.org/example/EU1132.pdf"'):
        assert expected in regulation, expected
    assert "javascript:alert" not in regulation  # a crawled javascript: URL is never a link


def test_notice_page_errors(client):
    assert client.get("/notices/nonsense").status_code == 400
    missing = client.get("/notices/G/TBT/N/EU/99999")
    assert missing.status_code == 404 and "not in the archive" in missing.text


def test_search_page_shows_query_errors_on_the_page(client):
    response = client.get("/search", params={"member": "Atlantis"})
    assert response.status_code == 400 and "not a known WTO member" in response.text
    assert 'name="q"' in response.text  # the form is still there to fix the search


def test_search_paging_and_facet_links(client):
    page = client.get("/search", params={"limit": 2, "sort": "date"}).text
    assert "Page 1 of 3" in page and 'rel="next"' in page
    assert "?limit=2&amp;sort=date&amp;page=2" in page
    assert 'href="?limit=2&amp;sort=date&amp;member=EU"' in page  # facet link narrows to that member


def test_links_change_the_page_query_as_urlencode_writes_it():
    """query_with keeps the request's other parameters (encoded once per request, and what is left of them
    per set of changed keys) and writes the changed ones as ``urlencode`` does, whatever the text."""
    from urllib.parse import urlencode

    from starlette.requests import Request

    from webapp.templating import query_with

    own = [("q", '电池 & "x"=1+2'), ("member", "EU"), ("member", "USA"), ("page", "3")]
    request = Request({"type": "http", "query_string": urlencode(own).encode(), "headers": []})
    for _ in range(2):  # the second time from what the first one kept
        assert query_with(request, member=["KOR", "a&b"], page=None) == "?" + urlencode(
            [own[0], ("member", "KOR"), ("member", "a&b")])
        assert query_with(request, drop=("page",)) == "?" + urlencode(own[:3])
        assert query_with(request, page=4, lang="zh") == "?" + urlencode([*own[:3], ("page", 4), ("lang", "zh")])
    assert query_with(request, drop=("q", "member", "page")) == "?"


def test_hs_chapters_are_named_in_the_interface_language(app, client):
    nomenclature = app.state.resources.nomenclature
    if nomenclature is None or not nomenclature.name_zh("85"):
        pytest.skip("the HS nomenclature with Chinese names (../shared/data/hs) is not here")
    facet = lambda lang: client.get("/search", params={"lang": lang}).text.split(  # noqa: E731
        'data-facet="hs_chapter"')[1].split("</section>")[0]
    assert nomenclature.name_zh("85")[:10] in facet("zh") and nomenclature.description("85")[:10] not in facet("zh")
    assert nomenclature.description("85")[:10] in facet("en")


def test_interface_in_chinese(client):
    page = client.get("/search", params={"lang": "zh", "q": "电池"}).text
    assert "检索" in page and "共 4 条结果" in page and "同时检索: battery" in page
    assert "共" in client.get("/search").text  # the choice is remembered in the session


def test_export_csv_and_json_of_the_whole_result_set(client):
    response = client.get("/export.csv", params={"q": "battery", "sort": "date"})
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["symbol"] for r in rows] == ["G/TBT/N/USA/2034", "G/TBT/N/EU/1132/Add.1", "G/TBT/N/CHN/1900",
                                           "G/TBT/N/EU/1132"]
    assert response.content.startswith("\ufeff".encode())  # Excel reads the Chinese as UTF-8
    by_symbol = {r["symbol"]: r for r in rows}
    assert (by_symbol["G/TBT/N/EU/1132"]["level"], by_symbol["G/TBT/N/EU/1132"]["product_lines"]) == ("high", "batteries")
    assert by_symbol["G/TBT/N/EU/1132"]["title_zh"] == "电池和废电池法规草案"
    assert by_symbol["G/TBT/N/CHN/1900"]["title_zh"] == "电动玩具安全技术规范"
    data = client.get("/export.json", params={"area": "SPS"}).json()
    assert [d["symbol"] for d in data] == ["G/SPS/N/JPN/1200"]
    assert client.get("/export.xml").status_code == 404
    assert client.get("/export.csv", params={"hs": "x"}).status_code == 400


def test_stats_page(client):
    page = client.get("/stats").text
    assert "<svg" in page and 'class="bar-tbt"' in page
    assert "Batteries" in page or "batteries" in page  # the product line bar
    assert "G/TBT/N/USA/2034" in page  # open for comment, closing list


# -- login, CSRF, review ------------------------------------------------------------------------

def test_review_queue_needs_login(client):
    response = client.get("/review", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/review"


def test_wrong_password_is_refused(client):
    response = login(client, password="wrong password!")
    assert response.status_code == 401 and "Wrong user name or password" in response.text
    assert login(client, name="mallory").status_code == 401
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_login_rotates_csrf_and_redirects_only_locally(client):
    before = csrf_of(client.get("/login").text)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": "alice", "password": PASSWORD, "next": "//evil.example/x",
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/review"
    after = csrf_of(client.get("/review").text)
    assert after != before


@pytest.mark.parametrize("path, data", [
    ("/login", {"name": "alice", "password": PASSWORD}),
    ("/subscribe", {"email": "x@example.com", "hs": "8507"}),
    ("/subscriptions/confirm", {"token": "x"}),
    ("/unsubscribe", {"token": "x"}),
    ("/logout", {}),
])
def test_forms_without_the_csrf_token_are_refused(client, path, data):
    client.get("/login")  # a session exists, so a token exists that the attacker does not know
    for token in (None, "forged-token"):
        sent = dict(data) if token is None else {**data, "csrf_token": token}
        response = client.post(path, data=sent, follow_redirects=False)
        assert response.status_code == 403, (path, token)
        assert "reload the page" in response.text


def test_review_status_change_requires_login_and_csrf(client, web_settings):
    from alerts import reviews

    anonymous = client.post("/review/G/TBT/N/CHN/1900", data={"status": "no_action"}, follow_redirects=False)
    assert anonymous.status_code in (303, 403)
    assert reviews.get_review(web_settings, "G/TBT/N/CHN/1900").status == "new"
    assert login(client).status_code == 303
    queue = client.get("/review").text
    assert "G/TBT/N/CHN/1900" in queue and "G/TBT/N/EU/1132" in queue
    no_token = client.post("/review/G/TBT/N/CHN/1900", data={"status": "no_action"}, follow_redirects=False)
    assert no_token.status_code == 403
    token = csrf_of(queue)
    done = client.post("/review/G/TBT/N/CHN/1900", data={"status": "under_review", "note": "ask SAC",
                                                         "csrf_token": token, "next": "/review"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/review"
    review = reviews.get_review(web_settings, "G/TBT/N/CHN/1900")
    assert review.status == "under_review" and review.owner == "alice" and "ask SAC (alice)" in review.notes
    bad = client.post("/review/G/TBT/N/CHN/1900", data={"status": "finished", "csrf_token": token})
    assert bad.status_code == 400 and "review status &#39;finished&#39;" in bad.text
    missing = client.post("/review/G/TBT/N/EU/99999", data={"status": "new", "csrf_token": token})
    assert missing.status_code == 404
    page = client.get("/notices/G/TBT/N/CHN/1900").text
    assert "ask SAC (alice)" in page and "Under review" in page


# -- subscriptions ------------------------------------------------------------------------------

def test_subscribe_confirm_manage_unsubscribe(client, web_settings):
    from alerts import subscriptions

    form = client.get("/subscribe").text
    before = len(outbox_messages(web_settings))
    page = client.post("/subscribe", data={"email": "buyer@example.com", "hs": "8507, 850760",
                                           "product_lines": ["batteries"], "keywords": "电池", "lang": "zh",
                                           "frequency": "daily", "min_level": "none", "csrf_token": csrf_of(form)})
    assert page.status_code == 200 and "buyer@example.com" in page.text
    assert subscriptions.get_subscriber(web_settings, "buyer@example.com").status == "pending"
    mails = outbox_messages(web_settings)
    assert len(mails) == before + 1
    confirm_link = link_in(mails[-1], "/subscriptions/confirm")
    landing = client.get(confirm_link)
    assert landing.status_code == 200 and 'id="confirm-button"' in landing.text
    assert subscriptions.get_subscriber(web_settings, "buyer@example.com").status == "pending"  # GET changes nothing
    token = re.search(r'name="token" value="([^"]+)"', landing.text).group(1)
    done = client.post("/subscriptions/confirm", data={"token": token, "csrf_token": csrf_of(landing.text)})
    assert done.status_code == 200 and 'id="confirmed"' in done.text
    assert subscriptions.get_subscriber(web_settings, "buyer@example.com").status == "active"
    manage_link = re.search(r'href="(/subscriptions/manage\?token=[^"]+)"', done.text).group(1)
    manage = client.get(manage_link.replace("&amp;", "&"))
    assert "HS 8507, 850760" in manage.text and "batteries" in manage.text
    unsubscribe_token = re.search(r'name="token" value="([^"]+)"', manage.text).group(1)
    gone = client.post("/unsubscribe", data={"token": unsubscribe_token, "csrf_token": csrf_of(manage.text)})
    assert gone.status_code == 200 and 'id="unsubscribed"' in gone.text
    assert subscriptions.get_subscriber(web_settings, "buyer@example.com").status == "unsubscribed"


def test_subscribe_form_errors_keep_the_input(client):
    form = client.get("/subscribe").text
    page = client.post("/subscribe", data={"email": "nobody", "hs": "battery", "keywords": "锂电池",
                                           "csrf_token": csrf_of(form)})
    assert page.status_code == 400
    assert "not a valid address" in page.text and "HS code &#39;battery&#39;" in page.text
    assert 'value="锂电池"' in page.text and 'value="nobody"' in page.text


def test_one_click_unsubscribe_without_cookie_or_csrf(client, web_settings):
    from alerts import subscriptions, tokens
    from alerts.rules import Rule

    subscriptions.subscribe(web_settings, "oneclick@example.com", Rule(hs=["9503"]), confirmed=True)
    token = tokens.make_token(web_settings, tokens.UNSUBSCRIBE, "oneclick@example.com")
    response = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriptions.get_subscriber(web_settings, "oneclick@example.com").status == "unsubscribed"


@pytest.mark.parametrize("path", ["/subscriptions/confirm", "/unsubscribe", "/subscriptions/manage"])
def test_forged_links_are_refused(client, path):
    response = client.get(path, params={"token": "eyJwIjoiY29uZmlybSJ9.forged"})
    assert response.status_code == 400 and "signature is not valid" in response.text
    assert client.get(path).status_code == 400

"""The filter management page (token link + CSRF) and paged history export through the API."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

from alerts import subscriptions, tokens, webhooks
from alerts.rules import Rule


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_filters_page_adds_changes_and_deletes_filters(client, settings):
    subscriptions.subscribe(
        settings, "web@example.org", Rule(hs=["8507"]), name="EU batteries", confirmed=True
    )
    token = tokens.make_token(settings, tokens.UNSUBSCRIBE, "web@example.org")
    page = client.get(f"/filters?token={token}&lang=en")
    assert page.status_code == 200 and "EU batteries" in page.text and "/feeds/filters/" in page.text
    form = {
        "csrf_token": _csrf(page.text),
        "token": token,
        "name": "海湾电子烟",
        "keywords": "电子烟",
        "members": "SAU, ARE",
        "exclude_keywords": "尼古丁贴片",
        "min_level": "none",
    }
    added = client.post("/filters", data=form, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"].startswith("/filters?token=")
    gulf = {f.name: f for f in subscriptions.get_subscriber(settings, "web@example.org").filters}[
        "海湾电子烟"
    ]
    assert gulf.include.members == ["SAU", "ARE"] and gulf.exclude[0].keywords == ["尼古丁贴片"]
    changed = client.post(
        "/filters",
        data={**form, "filter_id": str(gulf.id), "name": "Gulf e-cigarettes", "exclude_keywords": ""},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    gulf = subscriptions.find_filter(settings, gulf.id)[1]
    assert gulf.name == "Gulf e-cigarettes" and gulf.exclude == []
    bad = client.post("/filters", data={**form, "hs": "8599", "members": "Atlantis"})
    assert bad.status_code == 400 and "8599" in bad.text and "Atlantis" in bad.text
    deleted = client.post(
        f"/filters/{gulf.id}/delete",
        data={"csrf_token": form["csrf_token"], "token": token},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert [f.name for f in subscriptions.get_subscriber(settings, "web@example.org").filters] == [
        "EU batteries"
    ]


def test_filters_page_refuses_forged_tokens_and_missing_csrf(client, settings):
    subscriptions.subscribe(settings, "web@example.org", Rule(hs=["8507"]), confirmed=True)
    assert client.get("/filters?token=forged.token").status_code == 403
    confirm_token = tokens.make_token(settings, tokens.CONFIRM, "web@example.org")
    assert client.get(f"/filters?token={confirm_token}").status_code == 403  # a confirm link cannot manage
    token = tokens.make_token(settings, tokens.UNSUBSCRIBE, "web@example.org")
    no_csrf = client.post("/filters", data={"token": token, "name": "x", "hs": "85"})
    assert no_csrf.status_code == 403
    assert len(subscriptions.get_subscriber(settings, "web@example.org").filters) == 1


def test_webhook_registration_refuses_loopback_on_the_public_form(client, settings):
    result = subscriptions.subscribe(settings, "web@example.org", Rule(hs=["8507"]), confirmed=True)
    token = tokens.make_token(settings, tokens.UNSUBSCRIBE, "web@example.org")
    csrf = _csrf(client.get(f"/filters?token={token}").text)
    refused = client.post(
        f"/filters/{result.filter.id}/webhooks",
        data={"csrf_token": csrf, "token": token, "url": "https://127.0.0.1:9/x"},
    )
    assert (
        refused.status_code == 400 and "loopback" in refused.text and webhooks.list_endpoints(settings) == []
    )
    accepted = client.post(
        f"/filters/{result.filter.id}/webhooks",
        data={"csrf_token": csrf, "token": token, "url": "https://93.184.215.14/hooks"},
    )
    (endpoint,) = webhooks.list_endpoints(settings)
    assert accepted.status_code == 200 and endpoint.secret in accepted.text  # shown once, on this answer


def test_search_export_pages_through_the_whole_history(client, store):
    total = store.count()
    assert total == 13
    seen, url, pages = [], "/api/search?sort=date&limit=4", 0
    while url:
        body = client.get(url).json()
        assert body["total"] == total and body["limit"] == 4
        seen += [hit["symbol"] for hit in body["hits"]]
        url = body["next"] and urlsplit(body["next"])._replace(scheme="", netloc="").geturl()
        pages += 1
    assert pages == 4 and len(seen) == total == len(set(seen))  # every notice once, none repeated
    last = client.get("/api/search?sort=date&limit=4&offset=12").json()
    assert last["next"] is None and len(last["hits"]) == 1
    rows = []
    for offset in range(0, total, 5):
        text = client.get(f"/api/search?sort=date&format=csv&limit=5&offset={offset}").content.decode(
            "utf-8-sig"
        )
        rows += [r["symbol"] for r in csv.DictReader(io.StringIO(text))]
    assert rows == seen  # CSV pages give the same order and the same notices
    filtered = client.get("/api/search?member=KEN&limit=1").json()
    assert filtered["total"] == 2 and "member=KEN" in filtered["next"]
    assert client.get("/api/search?limit=0").status_code == 400


def test_group_partial_names_the_other_copies_and_the_lead(settings, store):
    from alerts.grouping import refresh_groups
    from webapp.templating import templates

    group = refresh_groups(settings, store, [store.get("G/TBT/N/KEN/1901").distribution_date]).group_of(
        "G/TBT/N/KEN/1901"
    )
    notice_group = templates.env.get_template("_macros.html").module.notice_group
    html = notice_group(group, store.get("G/TBT/N/KEN/1901"), "en")
    assert html.count('href="/notices/G/TBT/N/') == 5  # four other copies, and the lead holding the review
    assert "Also notified as" in html and 'reviewed under <a href="/notices/G/TBT/N/BDI/1900">' in html
    assert notice_group(None, store.get("G/TBT/N/EU/2001"), "zh").strip() == ""
    lead_page = notice_group(group, store.get("G/TBT/N/BDI/1900"), "zh")
    assert "同文通报" in lead_page and "评议记录见" not in lead_page

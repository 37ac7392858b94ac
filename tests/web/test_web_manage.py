"""The manage page of the alerts' signed link: filters by name with their include and exclude rules, the link to
the filter page, and a change of language and frequency (signed token + CSRF)."""

from __future__ import annotations

import re

import pytest
from webtools import csrf_of

EMAIL = "manage@example.com"


@pytest.fixture(scope="module")
def token(web_settings):
    from alerts import subscriptions, tokens
    from alerts.rules import Rule

    subscriptions.subscribe(web_settings, EMAIL, Rule(hs=["8507"], members=["EU"]), name="EU batteries",
                            exclude=[Rule(keywords=["lead-acid"])], lang="zh", frequency="daily", confirmed=True)
    subscriptions.subscribe(web_settings, EMAIL, Rule(keywords=["电子烟"]), name="海湾电子烟", confirmed=True,
                            lang="zh", frequency="daily")
    return tokens.make_token(web_settings, tokens.UNSUBSCRIBE, EMAIL)


def test_filters_are_listed_by_name_with_their_rules_and_the_filter_page_link(client, token):
    page = client.get("/subscriptions/manage", params={"token": token, "lang": "en"}).text
    items = re.findall(r"<li>(.*?)</li>", page.split('class="filters-list"')[1].split("</ul>")[0], re.S)
    assert len(items) == 2
    assert '<strong class="filter-name">EU batteries</strong>' in items[0]
    assert "HS 8507" in items[0] and "EU" in items[0] and "excludes" in items[0] and "lead-acid" in items[0]
    assert "海湾电子烟" in items[1] and "电子烟" in items[1] and "excludes" not in items[1]
    link = re.search(r'id="manage-filters" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    filters_page = client.get(link)
    assert filters_page.status_code == 200 and "EU batteries" in filters_page.text  # the same token opens it


def test_language_and_frequency_change(client, token, web_settings):
    from alerts import subscriptions

    page = client.get("/subscriptions/manage", params={"token": token}).text
    done = client.post("/subscriptions/manage", data={"token": token, "lang": "both", "frequency": "weekly",
                                                      "csrf_token": csrf_of(page)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("&done=saved")
    stored = subscriptions.get_subscriber(web_settings, EMAIL)
    assert (stored.lang, stored.frequency) == ("both", "weekly") and len(stored.filters) == 2
    shown = client.get(done.headers["location"]).text
    assert 'id="preferences-saved"' in shown
    assert '<option value="both" selected>' in shown and '<option value="weekly" selected>' in shown


@pytest.mark.parametrize("form, status, message", [
    ({"lang": "klingon"}, 400, "klingon"),
    ({"frequency": "hourly"}, 400, "hourly"),
    ({"token": "forged.token", "lang": "en"}, 400, "signature is not valid"),
    ({"lang": "en", "csrf_token": "forged"}, 403, "reload the page"),
])
def test_bad_changes_are_refused_and_change_nothing(client, token, web_settings, form, status, message):
    from alerts import subscriptions

    before = subscriptions.get_subscriber(web_settings, EMAIL)
    page = client.get("/subscriptions/manage", params={"token": token}).text
    response = client.post("/subscriptions/manage", data={"token": token, "csrf_token": csrf_of(page), **form})
    assert response.status_code == status and message in response.text
    after = subscriptions.get_subscriber(web_settings, EMAIL)
    assert (after.lang, after.frequency) == (before.lang, before.frequency)


@pytest.mark.slow
def test_change_frequency_in_a_browser(page, token, web_settings):
    from alerts import subscriptions

    page.goto(f"/subscriptions/manage?token={token}")
    page.select_option("#preferences select[name=frequency]", "immediate")
    page.click("#preferences button[type=submit]")
    page.wait_for_selector("#preferences-saved")
    assert subscriptions.get_subscriber(web_settings, EMAIL).frequency == "immediate"
    page.click("#manage-filters")
    page.wait_for_url("**/filters?token=*")
    assert "EU batteries" in page.inner_text("main")

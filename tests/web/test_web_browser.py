"""The web app in a real headless Chromium (Debian's package, driven by Playwright's Python client).

The browser fixtures (``conftest.py``) run one uvicorn server on a free loopback
port and one browser per module, a new browser context (own cookies) per test,
and watch every page for Content-Security-Policy violations and script errors:
the pages must work under the CSP with no inline script or style.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from webtools import PASSWORD, XSS_TITLE, link_in, outbox_messages

pytestmark = pytest.mark.slow


def test_search_in_english_with_highlights(page):
    page.goto("/search?q=battery")
    assert page.inner_text("#total") == "4 results"  # with the Chinese toy standard (锂电池供电玩具)
    assert page.inner_text("#also-searched") == "also searched: 电池, 蓄电器, HS 8506"
    marks = page.locator("mark").all_inner_texts()
    assert marks and all(m.lower().startswith("batter") or m == "电池" for m in marks)


def test_search_in_chinese_from_the_home_page(page):
    page.goto("/")
    page.fill("input[name=q]", "玩具")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.inner_text("#total") == "1 results"
    assert page.locator(".hit h3 a").all_inner_texts() == ["G/TBT/N/CHN/1900"]
    assert "玩具" in page.locator("mark").all_inner_texts()


def test_filter_and_open_a_notice(page):
    page.goto("/search")
    page.select_option("select[name=area]", "TBT")
    page.fill("input[name=hs]", "8507")
    page.click("fieldset.filters button[type=submit]")
    page.wait_for_url("**hs=8507**")
    assert page.locator(".hit h3 a").all_inner_texts() == ["G/TBT/N/EU/1132"]
    page.click("text=G/TBT/N/EU/1132")
    page.wait_for_url("**/notices/G/TBT/N/EU/1132")
    assert page.inner_text("h3.notice-title >> nth=0") == "Draft regulation on batteries and waste batteries"
    assert "电池和废电池法规草案" in page.inner_text(".texts")
    assert "G/TBT/N/EU/1132/Add.1" in page.inner_text("ol.history")
    page.click("a.lang")
    assert "通报要素" in page.inner_text("main")


def test_export_csv_download(page):
    page.goto("/search?q=battery&sort=date")
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    text = download.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["symbol"] for r in rows] == ["G/TBT/N/USA/2034", "G/TBT/N/EU/1132/Add.1", "G/TBT/N/CHN/1900",
                                           "G/TBT/N/EU/1132"]
    assert download.suggested_filename.endswith(".csv")


def test_subscribe_with_hs_lookup_and_confirm(page, web_settings):
    page.goto("/subscribe")
    page.fill("input[name=email]", "browser-buyer@example.com")
    page.type("#hs-input", "8507")  # app.js asks /api/hs and fills the datalist
    if web_settings.paths.hs_nomenclature.exists():
        page.locator("#hs-suggestions option").first.wait_for(state="attached")  # (the CSP forbids eval)
        assert page.locator("#hs-suggestions option").first.get_attribute("value") == "8507"
    page.check("input[name=product_lines][value=batteries]")
    page.fill("input[name=keywords]", "锂电池")
    page.select_option("select[name=lang]", "both")
    before = len(outbox_messages(web_settings))
    page.click("form.subscribe button[type=submit]")
    page.wait_for_selector("#check-inbox")
    deadline = time.monotonic() + 5
    while len(outbox_messages(web_settings)) == before and time.monotonic() < deadline:
        time.sleep(0.05)  # the confirmation is delivered just after the response
    link = link_in(outbox_messages(web_settings)[-1], "/subscriptions/confirm")
    page.goto(link)
    page.click("#confirm-button")
    assert "browser-buyer@example.com" in page.inner_text("#confirmed")
    page.click("text=Manage your subscription")
    assert page.inner_text("#subscriber-status") == "active"


def test_login_and_change_a_review_status(page):
    page.goto("/review")
    page.wait_for_url("**/login?next=/review")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/review")
    row = page.locator("tr[data-symbol='G/TBT/N/EU/1132']")
    row.locator("select[name=status]").select_option("comment_drafted")
    row.locator("input[name=note]").fill("draft sent to the ministry")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.locator("tr[data-symbol='G/TBT/N/EU/1132']")
    assert "Comment drafted" in row.locator("td.status").inner_text()
    page.goto("/notices/G/TBT/N/EU/1132")
    assert "draft sent to the ministry (alice)" in page.inner_text("pre.notes")


def test_a_tampered_csrf_token_is_refused(page, problems):
    page.goto("/login")
    page.eval_on_selector("input[name=csrf_token]", "e => e.value = 'forged'")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    assert "reload the page" in page.inner_text("main")
    assert problems == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
    problems.clear()
    page.goto("/review")
    assert "/login" in page.url  # not logged in


def test_a_script_in_a_notice_title_stays_text(page):
    for url in ("/notices/G/TBT/N/USA/2034", "/search?q=charger", "/"):
        page.goto(url)
        assert page.evaluate("window.__xss") is None, url
        assert page.locator("main img").count() == 0, url
    page.goto("/notices/G/TBT/N/USA/2034")
    assert page.inner_text("h3.notice-title") == XSS_TITLE


def test_the_api_documentation_works_offline(page, server):
    """Swagger UI from the app's own files (no CDN request leaves 127.0.0.1), listing the API's operations."""
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=10000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/search" in paths and any(p.startswith("/api/notices/") for p in paths)
    assert requested and all(url.startswith(server) for url in requested)


def test_the_subscribe_form_groups_and_filters_the_product_lines(page):
    """52 lines in a dozen HS-chapter groups, a filter box that knows both languages, the button in view."""
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto("/subscribe?lang=en")
    groups = page.locator("fieldset.line-group")
    assert groups.count() >= 5
    assert page.locator("label.check:visible", has=page.locator("input[name=product_lines]")).count() >= 40
    page.fill("#line-filter", "电池")  # Chinese words in the English interface
    shown = page.locator("fieldset.line-group label.check:visible").all_inner_texts()
    assert shown and all(("atter" in s) or ("ell" in s) or ("power" in s.lower()) or ("olar" in s) or
                         ("ehicle" in s) for s in shown), shown
    assert "Toys" not in " ".join(shown)
    page.fill("#line-filter", "")
    page.locator("fieldset.line-group").last.scroll_into_view_if_needed()
    button = page.locator(".submit-bar button").bounding_box()
    assert 0 <= button["y"] and button["y"] + button["height"] <= 800, "the submit button left the screen"

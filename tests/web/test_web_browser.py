"""The web app in a real headless Chromium (Debian's package, driven by Playwright's Python client).

One uvicorn server on a free loopback port and one browser for the module; a new
browser context (own cookies) per test. Every page is also watched for
Content-Security-Policy violations and script errors: the pages must work under
the CSP with no inline script or style.
"""

from __future__ import annotations

import csv
import io
import shutil
import threading
import time

import pytest
from webtools import PASSWORD, XSS_TITLE, link_in, outbox_messages

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


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


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; `make test` does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python client is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


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


def test_search_in_english_with_highlights(page):
    page.goto("/search?q=battery")
    assert page.inner_text("#total") == "3 results"
    marks = page.locator("mark").all_inner_texts()
    assert marks and all(m.lower().startswith("batter") for m in marks)


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
    assert [r["symbol"] for r in rows] == ["G/TBT/N/USA/2034", "G/TBT/N/EU/1132/Add.1", "G/TBT/N/EU/1132"]
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
    assert "Comment drafted" in row.locator("td").nth(4).inner_text()
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

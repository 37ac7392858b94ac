"""One hostile notice through the whole product: imported, classified, alerted, digested and shown on the web.

Crawled text is untrusted. Figures proved: the alert and digest e-mails carry no header injected from the
notice (no ``Bcc``, every header one line, only the headers the builder sets), their HTML parts, the digest
file and the web notice page show the hostile text escaped - as visible text - with no live ``<script>``,
no event-handler attribute and no ``javascript:`` link (parsed with lxml, not searched as strings), and the
Chinese title's control characters never reach a header.
"""

from __future__ import annotations

import datetime as dt
import email
import json
from email.message import EmailMessage
from email.policy import default as default_policy

import lxml.html
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alerts import run, subscriptions
from alerts.validation import Vocabulary
from archive.sqlite_store import SqliteStore
from commands import pipeline
from commands.cli import app
from tbtwatch.model import notice_from_dict
from tbtwatch.settings import get_settings

DAY = dt.date(2026, 3, 2)
SYMBOL = "G/TBT/N/EU/9001"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
INJECTED = "\r\nBcc: victim@example.org"
ZH_TITLE = "电动玩具\x07安全\x1b[31m要求\u2028<script>alert(2)</script>\x00草案"
HOSTILE = {
    "symbol": SYMBOL, "member": "European Union", "distribution_date": DAY.isoformat(),
    "comment_deadline": (DAY + dt.timedelta(days=60)).isoformat(), "language": "en",
    "title": f"{SCRIPT} Safety of electric toys with lithium batteries",
    "description": f"{IMG} Requirements for lithium-ion batteries in electric toys and their chargers.",
    "products": f"Electric toys (HS 9503){INJECTED}",
    "hs_codes": ["9503"],
    "translations": {"zh": {"title": ZH_TITLE, "description": f"{IMG} 电动玩具锂电池要求", "products": f"{IMG} 电动玩具"}},
    "url": "javascript:alert(1)",
}
BUILDER_HEADERS = {"subject", "from", "to", "date", "message-id", "auto-submitted", "list-unsubscribe",
                   "list-unsubscribe-post", "mime-version", "content-type", "content-transfer-encoding"}


def assert_inert(html: str, where: str) -> None:
    """No live markup from the notice: scripts, event handlers and javascript: links are absent as elements;
    the hostile strings are there as text a reader sees."""
    tree = lxml.html.document_fromstring(html)
    scripts = [s.text_content() for s in tree.iter("script")]
    assert not any("alert(" in text for text in scripts), f"{where}: a script element carries notice text"
    handlers = [(el.tag, name) for el in tree.iter() if isinstance(el.tag, str)
                for name in el.attrib if name.lower().startswith("on")]
    assert handlers == [], f"{where}: event-handler attributes {handlers}"
    assert not [el for el in tree.iter("img") if el.get("src") == "x"], f"{where}: the notice's <img> is live"
    links = [el.get(attr, "") for el in tree.iter() if isinstance(el.tag, str) for attr in ("href", "src")]
    assert not any(link.strip().lower().startswith("javascript:") for link in links), f"{where}: javascript: link"
    text = tree.text_content()
    assert SCRIPT in text and IMG in text, f"{where}: the hostile text is not shown as text"


def assert_clean_headers(message: EmailMessage, raw: bytes, where: str) -> None:
    names = {name.lower() for name in message}
    assert names <= BUILDER_HEADERS, f"{where}: unexpected headers {names - BUILDER_HEADERS}"
    header_block = raw.split(b"\r\n\r\n", 1)[0].lower()  # (the body may show the text on a line of its own)
    assert message["Bcc"] is None and b"\nbcc:" not in header_block and b"victim" not in header_block
    for name, value in message.items():
        assert "\r" not in str(value) and "\n" not in str(value), f"{where}: {name} spans lines"
        assert not any(ord(c) < 32 or c in "\x7f\u2028" for c in str(value)), f"{where}: control char in {name}"


@pytest.fixture
def hostile_day(home, monkeypatch, tmp_path):
    """The hostile notice imported with the CLI, classified, alerted to a subscriber, and the day's digest."""
    monkeypatch.setenv("TBTWATCH_ALERTS_WORKING_GROUP", "tbt-working-group@example.org")
    get_settings.cache_clear()
    settings = get_settings()
    source = tmp_path / "hostile.jsonl"
    source.write_text(json.dumps(HOSTILE, ensure_ascii=False) + "\n", encoding="utf-8")
    imported = CliRunner().invoke(app, ["import", str(source)])
    assert imported.exit_code == 0 and "1 new" in imported.output, imported.output
    classified = pipeline.classify_pending(settings, DAY)
    assert classified.status == pipeline.DONE, classified.summary
    store = SqliteStore(settings.archive_db)
    assessment = store.get_assessment(SYMBOL)
    assert assessment and assessment["relevant"], assessment  # toys and lithium batteries: a real alert follows
    subscriptions.subscribe(settings, "exporter@example.org", Vocabulary(settings).rule(hs=["9503"]),
                            lang="both", frequency="immediate", confirmed=True)
    alerts = run.send_alerts(settings, DAY, store=store)
    assert len(alerts.delivery.sent) == 1, alerts.summary()
    digest = run.build_digest(settings, DAY, store=store)
    yield settings, store, digest
    store.close()


def test_emails_carry_no_injected_header_and_no_live_markup(hostile_day, home):
    messages = {path.stem.split("-", 1)[1]: (path, path.read_bytes()) for path in (home / "outbox").rglob("*.eml")}
    assert sorted(messages) == ["alert", "digest"]
    for kind, (path, raw) in messages.items():
        message = email.message_from_bytes(raw, policy=default_policy)
        assert_clean_headers(message, raw, path.name)
        assert message["To"] == {"alert": "exporter@example.org", "digest": "tbt-working-group@example.org"}[kind]
        html = message.get_body(("html",)).get_content()
        assert SYMBOL in html and "&lt;script&gt;" in html
        assert_inert(html, f"{path.name} HTML part")
        if kind == "alert":
            assert SYMBOL in message["Subject"]


def test_the_digest_file_escapes_the_notice(hostile_day):
    _, _, digest = hostile_day
    html = digest.read_text(encoding="utf-8")
    assert SYMBOL in html
    assert_inert(html, digest.name)


def test_the_web_notice_page_and_search_escape_the_notice(hostile_day):
    from webapp.app import create_app

    settings, store, _ = hostile_day
    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as client:
        page = client.get(f"/notices/{SYMBOL}")
        assert page.status_code == 200
        assert_inert(page.text, "the notice page")
        assert "电动玩具" in page.text
        results = client.get("/search", params={"q": "electric toys"})
        assert results.status_code == 200 and SYMBOL in results.text
        tree = lxml.html.document_fromstring(results.text)
        assert not any("alert(" in s.text_content() for s in tree.iter("script"))
        assert not [el for el in tree.iter("img") if el.get("src") == "x"]
        api = client.get(f"/api/notices/{SYMBOL}").json()  # the API gives the text as data, unchanged
        assert SCRIPT in json.dumps(api, ensure_ascii=False)


def test_private_use_characters_in_a_notice_forge_no_highlight(home):
    """U+E000/U+E001 were the store's highlight marks: crawled text carrying them must stay text (issue 15)."""
    from webapp.app import create_app

    settings = get_settings()
    store = SqliteStore(settings.archive_db)
    store.upsert([notice_from_dict({"symbol": "G/TBT/N/EU/9002", "distribution_date": DAY.isoformat(),
                                    "title": "Battery \ue000rules\ue001 for \ue000toys",
                                    "products": "\ue001\ue000 batteries \ue000"})])
    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as client:
        page = client.get("/search", params={"q": "battery"})
    assert page.status_code == 200
    tree = lxml.html.document_fromstring(page.text)
    marks = [el.text_content() for el in tree.iter("mark")]
    assert marks and {m.lower() for m in marks} <= {"battery", "batteries"}, marks  # only the query's hits
    assert "\ue000rules\ue001" in tree.text_content()  # the characters are shown as the notice has them
    store.close()

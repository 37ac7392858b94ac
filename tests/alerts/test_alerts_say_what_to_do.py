"""Alerts that say what to do: the internal cut-off and where comments go, the notified document itself, the
compliance date of an adoption first, a manage link that opens a working page, a batch that opens with its list.

Sent through a real SMTP server (aiosmtpd) from a real SQLite archive; the manage link is opened in the web app.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from alerts import run, subscriptions
from alerts.context import MessageContext, Names, notice_item
from alerts.messages import render
from alerts.validation import Vocabulary
from tbtwatch.members import default_members
from tbtwatch.model import notice_from_dict
from tbtwatch.settings import get_settings
from tbtwatch.symbols import document_url, parse_symbol

from .conftest import DAY
from .test_delivery import bodies

CONTACT = "tbt-enquiry@example.cn"


@pytest.fixture
def with_contact(home, monkeypatch):
    monkeypatch.setenv("TBTWATCH_ALERTS_ENQUIRY_POINT_CONTACT", CONTACT)
    get_settings.cache_clear()
    return get_settings()


def _subscribe(settings, email, frequency, lang="zh"):
    rule = Vocabulary(settings).rule(areas=["TBT"])
    subscriptions.subscribe(settings, email, rule, lang=lang, frequency=frequency, confirmed=True)


@pytest.mark.parametrize(("symbol", "file"), [
    ("G/SPS/N/CHL/900", "q:/G/SPS/N/CHL900.pdf"),  # the names WTO Documents Online gives its files
    ("G/TBT/N/TPKM/530/Add.1", "q:/G/TBT/N/TPKM530A1.pdf"),
    ("G/TBT/N/EU/1132/Rev.1/Add.2", "q:/G/TBT/N/EU1132R1A2.pdf"),
])
def test_the_notified_document_is_linked_by_its_file(symbol, file):
    assert document_url(parse_symbol(symbol)).endswith("?filename=" + file)


def test_an_alert_says_when_and_where_to_comment(store, smtp_server, with_contact):
    _subscribe(with_contact, "exporter@example.org", "immediate")
    run.send_alerts(with_contact, DAY, store=store)
    texts = {m.message["Subject"]: bodies(m) for m in smtp_server.messages}
    [(text, html)] = [v for k, v in texts.items() if "EU/1100" in k]
    first_lines = text.split("== G/TBT/N/EU/1100", 1)[0]
    assert "内部截止日期 2026-04-28 前" in first_lines and CONTACT in first_lines and "评议截止日期 2026-05-01" in first_lines
    assert 'href="https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename=q:/G/TBT/N/EU1100.pdf"' in html
    assert "eping.wto.org/en/Search" not in html


def test_the_manage_link_opens_the_subscribers_page(store, smtp_server, with_contact):
    from webapp.app import create_app

    _subscribe(with_contact, "exporter@example.org", "immediate")
    run.send_alerts(with_contact, DAY, store=store)
    _, html = bodies(smtp_server.messages[0])
    manage = html.split('">管理订阅', 1)[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    unsubscribe = html.split('">退订', 1)[0].rsplit('href="', 1)[1]
    assert "/subscriptions/manage?token=" in manage and "/unsubscribe?token=" in unsubscribe
    with TestClient(create_app(with_contact), base_url="http://127.0.0.1") as client:
        page = client.get(manage.removeprefix(with_contact.alerts.base_url))
    assert page.status_code == 200 and "exporter@example.org" in page.text
    assert 'id="manage-filters"' in page.text  # change or drop a filter from there


def test_a_daily_batch_opens_with_its_list_highest_level_first(store, smtp_server, with_contact):
    _subscribe(with_contact, "daily@example.org", "daily")
    run.send_alerts(with_contact, DAY, "daily", store=store)
    [message] = smtp_server.messages
    text, _ = bodies(message)
    listing = text.split("本批通报（按预警等级排序）:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    levels = [line.split(" · ")[2] for line in listing]
    assert len(listing) >= 3 and levels == sorted(levels, key=["高", "中", "低", "无"].index)
    assert listing[0].startswith("  G/TBT/N/EU/1100 · 欧盟 · 高 · 内部截止日期 2026-04-28")


def test_an_adoption_leads_with_its_compliance_date():
    notice = notice_from_dict({"symbol": "G/TBT/N/KOR/900/Add.1", "member": "Korea, Republic of",
                               "title": "Adoption of the safety standard for lithium batteries",
                               "entry_into_force": "2026-06-01"})
    item = notice_item(notice, {"level": "high"}, day=DAY, base_url="", names=Names(default_members()))
    _, text, html = render("alert", MessageContext(languages=["en"], items=[item], day=str(DAY)))
    head = text.split("Adoption of the safety standard", 1)[0]
    assert "Comply by: 2026-06-01" in head
    assert html.index("Comply by: 2026-06-01") < html.index("Adoption of the safety standard")
    assert dt.date.fromisoformat(item.compliance_date) > DAY


def test_a_filter_paused_from_the_manage_link_sends_nothing_until_resumed(store, smtp_server, with_contact):
    import re

    from webapp.app import create_app

    _subscribe(with_contact, "exporter@example.org", "immediate")
    settings = with_contact
    manage = subscriptions.manage_url(settings, "exporter@example.org").removeprefix(settings.alerts.base_url)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        page = client.get(manage).text
        filters_url = re.search(r'id="manage-filters" href="([^"]+)"', page).group(1).replace("&amp;", "&")
        filters = client.get(filters_url).text
        form = re.search(r'<form method="post" action="(/filters/\d+/pause)".*?</form>', filters, re.S)
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
        assert fields["paused"] == "1" and 'class="paused"' not in filters
        assert client.post(form.group(1), data=fields, follow_redirects=True).status_code == 200
        assert 'class="paused"' in client.get(filters_url).text
    [flt] = subscriptions.get_subscriber(settings, "exporter@example.org").filters
    assert flt.paused
    assert run.send_alerts(settings, DAY, store=store).queued == [] and smtp_server.messages == []
    subscriptions.set_filter_paused(settings, "exporter@example.org", flt.id, False)
    assert run.send_alerts(settings, DAY, store=store).queued and smtp_server.messages

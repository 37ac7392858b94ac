"""Atom feeds: valid Atom 1.0 read back with feedparser (ids = WTO symbols, updated times that move with an
addendum, links, Chinese text), public line/member feeds, personal filter feeds behind a signed token."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import feedparser
import pytest

from alerts import feeds, subscriptions
from alerts.rules import Rule
from alerts.validation import Vocabulary
from tbtwatch.model import notice_from_dict

from .conftest import DAY, assessment


def parse(response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    ET.fromstring(response.content)  # well-formed XML
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_line_feed_is_valid_atom_with_stable_ids_links_and_chinese(client):
    parsed = parse(client.get("/feeds/lines/lithium_batteries.atom?lang=zh"))
    assert parsed.feed.id == "urn:tbtwatch:feed:line:lithium_batteries"
    assert parsed.feed.title == "tbtwatch · 锂电池"
    assert any(
        link.rel == "self" and "/feeds/lines/lithium_batteries.atom" in link.href
        for link in parsed.feed.links
    )
    entries = {e.id: e for e in parsed.entries}
    entry = entries["urn:tbtwatch:notice:G/TBT/N/EU/2001"]
    assert entry.title == "G/TBT/N/EU/2001 关于轻型交通工具用可充电锂离子电池的法规草案"
    assert "规定锂离子电池的标签" in entry.summary and "评议截止日期: 2026-05-01" in entry.summary
    assert entry.updated_parsed[:3] == (2026, 3, 2) and entry.published_parsed[:3] == (2026, 3, 2)
    assert entry.link == "http://127.0.0.1:8000/notices/G/TBT/N/EU/2001"
    assert [link.href for link in entry.links if link.rel == "related"] == [
        "https://docs.example.org/G/TBT/N/EU/2001.pdf"
    ]
    assert {t.term for t in entry.tags} >= {"850760", "lithium_batteries"}
    assert entry.author == "欧盟"
    english = parse(client.get("/feeds/lines/lithium_batteries.atom?lang=en"))
    assert {e.id for e in english.entries} == set(entries)  # the same ids whatever the language
    assert english.entries[0].title.startswith("G/TBT/N/")


def test_updated_moves_when_an_addendum_arrives_and_the_id_stays(client, store):
    before = {e.id: e for e in parse(client.get("/feeds/members/EU.atom")).entries}
    addendum = notice_from_dict(
        {
            "symbol": "G/TBT/N/EU/2001/Add.1",
            "member": "European Union",
            "language": "en",
            "distribution_date": (DAY + dt.timedelta(days=20)).isoformat(),
            "comment_deadline": "2026-06-30",
            "title": "Comment period extended",
            "description": "The final date for comments is extended.",
        }
    )
    store.upsert([addendum])
    after = parse(client.get("/feeds/members/EU.atom?lang=en"))
    entries = {e.id: e for e in after.entries}
    assert set(entries) == set(before)  # folded into its base's entry, no new id
    entry = entries["urn:tbtwatch:notice:G/TBT/N/EU/2001"]
    assert entry.updated_parsed[:3] == (2026, 3, 22) and before[entry.id].updated_parsed[:3] == (2026, 3, 2)
    assert "G/TBT/N/EU/2001/Add.1" in entry.summary and "2026-06-30" in entry.summary
    assert after.feed.updated_parsed[:3] == (2026, 3, 22)
    assert after.entries[0].id == entry.id  # newest update first


def test_member_feed_by_name_and_unknown_feeds(client):
    gulf = parse(client.get("/feeds/members/沙特阿拉伯.atom?lang=zh"))
    assert [e.id for e in gulf.entries] == ["urn:tbtwatch:notice:G/TBT/N/SAU/1400"]
    assert "电子烟" in gulf.entries[0].title
    assert client.get("/feeds/members/Atlantis.atom").status_code == 404
    missing = client.get("/feeds/lines/flying_cars.atom")
    assert missing.status_code == 404 and "flying_cars" in missing.text
    assert client.get("/feeds/lines/toys.atom?lang=fr").status_code == 400


def test_index_lists_every_public_feed(client):
    page = client.get("/feeds/?lang=en")
    assert page.status_code == 200
    assert 'href="/feeds/lines/lithium_batteries.atom?lang=zh"' in page.text
    assert 'href="/feeds/members/EU.atom?lang=en"' in page.text and "(KEN, 2)" in page.text


def test_personal_filter_feed_needs_its_token_and_applies_exclusions(client, settings):
    vocabulary = Vocabulary(settings)
    result = subscriptions.subscribe(
        settings,
        "a@example.org",
        vocabulary.rule(hs="8507"),
        name="EU batteries",
        exclude=[vocabulary.exclusion(keywords="lead-acid")],
        confirmed=True,
    )
    other = subscriptions.subscribe(settings, "b@example.org", Rule(hs=["85"]), confirmed=True)
    url = feeds.filter_feed_url(settings, result.filter.id, "en")
    path = url.removeprefix(settings.alerts.base_url)
    parsed = parse(client.get(path))
    symbols = {e.id.rsplit(":", 1)[1] for e in parsed.entries}
    assert "G/TBT/N/EU/2001" in symbols and "G/TBT/N/EU/2002" not in symbols  # lead-acid excluded
    assert "G/TBT/N/BDI/1900" in symbols  # power banks 850760
    assert client.get(path).headers["cache-control"].startswith("private")
    assert client.get(f"/feeds/filters/{result.filter.id}.atom").status_code == 403
    token = path.split("token=")[1]
    assert client.get(f"/feeds/filters/{other.filter.id}.atom?token={token}").status_code == 403  # not theirs
    assert client.get(path[:-3] + "xyz").status_code == 403  # tampered
    subscriptions.unsubscribe(settings, "a@example.org")
    closed = client.get(path)
    assert closed.status_code == 403 and "unsubscribed" in closed.text


def test_crawled_control_characters_and_markup_cannot_break_the_feed(client, store):
    hostile = notice_from_dict(
        {
            "symbol": "G/TBT/N/EU/2050",
            "member": "European Union",
            "language": "en",
            "distribution_date": DAY.isoformat(),
            "title": "Batteries <script>alert(1)</script> \x00\x1b[31m & more",
            "description": "]]></summary><entry>injected</entry>",
            "products": "Batteries",
            "hs_codes": ["850760"],
        }
    )
    store.upsert([hostile])
    store.put_assessments([assessment(hostile.symbol, "low", [("lithium_batteries", 0.5, "Batteries")])])
    parsed = parse(client.get("/feeds/members/EU.atom?lang=en"))
    entry = next(e for e in parsed.entries if e.id.endswith("EU/2050"))
    # carried as text (escaped in the XML), never as markup or as an extra element
    assert entry.title == "G/TBT/N/EU/2050 Batteries <script>alert(1)</script> [31m & more"
    assert entry.title_detail.type == "text/plain" and b"<script>" not in response_bytes(client)
    assert entry.summary.endswith("]]></summary><entry>injected</entry>") and len(parsed.entries) == 3


def response_bytes(client) -> bytes:
    return client.get("/feeds/members/EU.atom?lang=en").content


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_render_atom_without_entries_is_still_valid(settings, store, lang):
    feed = feeds.Feed(
        id="urn:tbtwatch:feed:test",
        title="空 empty",
        self_url="http://x/feeds/t.atom",
        page_url="http://x/",
        entries=[],
        lang=lang,
    )
    parsed = feedparser.parse(
        feeds.render_atom(feed, base_url="http://x", members=Vocabulary(settings).members)
    )
    assert not parsed.bozo and parsed.feed.title == "空 empty" and parsed.entries == []

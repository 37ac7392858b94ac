"""What a notice page and the review queue add to the notified fields: the near-duplicate group (also on each
search hit), the final date for comments after an extending addendum with the internal cut-off before it,
and the assessment's reasons in Chinese.

This module adds its own notices to its (module-scoped) archive: two EAC copies of one text, grouped by
``alerts.grouping.refresh_groups`` as the daily run does, and an addendum extending a comment period.
"""

from __future__ import annotations

import datetime as dt

import pytest
from webtools import day, login

KEN, UGA = "G/TBT/N/KEN/1801", "G/TBT/N/UGA/1802"
TOOTHBRUSH = {
    "title": "DEAS 1300:2025 Toothbrushes - Specification",
    "description": "This Draft East African Standard specifies requirements, sampling and test methods for "
                   "manual toothbrushes with nylon bristles for adults and children.",
    "products": "Toothbrushes (HS 9603.21)", "hs_codes": ["960321"],
    "distribution_date": day(-2), "comment_deadline": day(58),
}
EXTENSION = {"symbol": "G/TBT/N/CHN/1900/Add.1", "member": "中国", "language": "zh", "distribution_date": day(-1),
             "comment_deadline": day(80), "title": "电动玩具安全技术规范 评议期延长",
             "description": "评议截止日期延长至新的日期。"}
REASON_EN, REASON_ZH = "toothbrushes are a Shenzhen export line", "牙刷是深圳的出口产品"


@pytest.fixture(scope="module", autouse=True)
def grouped_and_extended(web_settings):
    from alerts.grouping import refresh_groups
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    store = SqliteStore(web_settings.archive_db)
    copies = [notice_from_dict({"symbol": KEN, "member": "Kenya", **TOOTHBRUSH}),
              notice_from_dict({"symbol": UGA, "member": "Uganda", **TOOTHBRUSH}),
              notice_from_dict(EXTENSION)]
    store.upsert(copies)
    store.put_assessments([{"symbol": KEN, "notice_hash": copies[0].content_hash(), "level": "low",
                            "relevant": True, "reasons": [REASON_EN], "reasons_zh": [REASON_ZH],
                            "product_lines": [], "hs_inferred": []}])
    refresh_groups(web_settings, store, [copies[0].distribution_date])


def test_notice_page_shows_the_group_and_who_holds_its_review(client):
    lead = client.get(f"/notices/{KEN}", params={"lang": "en"}).text
    aside = lead[lead.index('<aside class="notice-group"'):lead.index("</aside>")]
    assert "Also notified as" in aside and f'href="/notices/{UGA}"' in aside and "reviewed under" not in aside
    assert lead.index("notice-group") > lead.index('class="fields"')  # under the notified fields
    copy = client.get(f"/notices/{UGA}").text
    assert f'reviewed under <a href="/notices/{KEN}">' in copy
    assert "notice-group" not in client.get("/notices/G/TBT/N/EU/1132").text  # a notice of its own


def test_search_hits_show_their_group_with_one_lookup_per_page(client, monkeypatch):
    from alerts.grouping import NoticeGroups

    calls = {"groups_of": 0, "group_of": 0}
    for name in calls:
        original = getattr(NoticeGroups, name)

        def counted(self, *args, _name=name, _original=original):
            calls[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(NoticeGroups, name, counted)
    page = client.get("/search", params={"q": "toothbrushes", "lang": "en"}).text
    assert calls["groups_of"] == 1 and calls["group_of"] == 0
    [hit] = page.split('<article class="hit">')[1:]  # one text, one result: the group's lead
    assert f'href="/notices/{KEN}"' in hit and "Also notified as" in hit and f'href="/notices/{UGA}"' in hit
    assert 'id="folded"' in page
    battery = client.get("/search", params={"q": "battery"}).text
    assert "notice-group" not in battery
    assert client.get("/search", params={"q": "nothingmatchesthis"}).status_code == 200  # no hits, no look-up


def test_notice_page_shows_the_extended_deadline_and_the_cutoff(client, web_settings):
    from alerts.cutoff import calendar_for

    extended = dt.date.fromisoformat(day(80))
    page = client.get("/notices/G/TBT/N/CHN/1900", params={"lang": "en"}).text
    deadline = page[page.index('id="comment-deadline"'):page.index("</dd>", page.index('id="comment-deadline"'))]
    assert day(80) in deadline and f"extended by addendum; first notified {day(50)}" in deadline
    cutoff = dt.date.fromisoformat(page.split('id="internal-cutoff">')[1][:10])
    calendar = calendar_for(web_settings)
    assert cutoff < extended and calendar.is_working_day(cutoff)
    working_days_between = sum(calendar.is_working_day(cutoff + dt.timedelta(days=i))
                               for i in range(1, (extended - cutoff).days))
    assert working_days_between == web_settings.alerts.cutoff_working_days - 1  # the final day itself is not counted
    unextended = client.get("/notices/G/TBT/N/EU/1132", params={"lang": "zh"}).text
    assert day(40) in unextended and "已由补遗延期" not in unextended and "内部截止" in unextended
    no_deadline = client.get("/notices/G/SPS/N/JPN/1200").text
    assert 'id="internal-cutoff"' not in no_deadline


def test_review_queue_orders_by_effective_deadline_and_shows_cutoffs(client):
    assert login(client).status_code == 303
    page = client.get("/review", params={"lang": "en"}).text
    rows = page.split("<tr data-symbol=")[1:]
    assert [r.split('"')[1] for r in rows] == ["G/TBT/N/EU/1132", "G/TBT/N/CHN/1900"]  # day 40, then day 80
    chn = rows[1]
    assert day(80) in chn.split('class="deadline"')[1] and "first notified" in chn
    cutoff = chn.split('<td class="cutoff">')[1][:10]
    assert day(70) <= cutoff < day(80)  # three working days before, whatever the holidays


def test_reasons_follow_the_interface_language(client):
    zh = client.get(f"/notices/{KEN}", params={"lang": "zh"}).text
    assert REASON_ZH in zh and REASON_EN not in zh
    en = client.get(f"/notices/{KEN}", params={"lang": "en"}).text
    assert REASON_EN in en and REASON_ZH not in en
    no_translation = client.get("/notices/G/TBT/N/EU/1132", params={"lang": "zh"}).text
    assert "batteries are a main Shenzhen export line" in no_translation  # no reasons_zh: the English ones


@pytest.mark.slow
def test_group_in_a_browser_from_search_to_the_copy(page):
    page.goto("/search?q=toothbrush&lang=en")
    hit = page.locator("article.hit", has=page.locator(f"h3 a:text-is('{KEN}')"))
    assert "Also notified as" in hit.locator(".notice-group").inner_text()
    hit.locator(f".notice-group a:text-is('{UGA}')").click()
    page.wait_for_url(f"**/notices/{UGA}")
    assert KEN in page.inner_text(".notice-group")
    page.goto("/notices/G/TBT/N/CHN/1900")
    assert day(70) <= page.inner_text("#internal-cutoff")[:10] < day(80)


def test_a_notice_stored_under_each_joint_symbol_is_one_result(client, web_settings):
    """A source that lists several symbols for one text (the store keeps a copy under each): one search hit."""
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    joint = ["G/TBT/N/BDI/77", "G/TBT/N/RWA/77", "G/TBT/N/TZA/77"]
    SqliteStore(web_settings.archive_db).upsert([
        notice_from_dict({"symbol": s, "symbols": joint, "distribution_date": day(-2),
                          "title": "EAC draft standard for motorcycle helmets"}) for s in joint])
    page = client.get("/search", params={"q": "helmets", "lang": "en"}).text
    hits = page.split('<article class="hit">')[1:]
    assert len(hits) == 1 and "Also notified as" in hits[0]
    assert all(f'href="/notices/{s}"' in hits[0] for s in joint)


def test_a_joint_notification_is_one_item_in_the_api_and_the_exports(client):
    """KEN and UGA notified the same text (the fixture's near-duplicate group): one item everywhere."""
    import csv
    import io

    body = client.get("/api/search", params={"q": "toothbrushes"}).json()
    [hit] = body["hits"]
    assert body["folded"] == 1 and hit["symbol"] == KEN and hit["also_notified_as"] == [UGA]
    exported = client.get("/export.csv", params={"q": "toothbrushes"}).text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported)))
    # a streamed export keeps the first of the text's notifications in the set's order, the others beside it
    [row] = rows
    assert {row["symbol"], row["also_notified_as"]} == {KEN, UGA}
    [item] = client.get("/export.json", params={"q": "toothbrushes"}).json()
    assert item["symbol"] == row["symbol"] and {item["symbol"], *item["also_notified_as"]} == {KEN, UGA}
    [single] = client.get("/api/search", params={"q": "battery", "limit": 1}).json()["hits"]
    assert single["also_notified_as"] == []


def test_a_member_has_one_name_however_the_source_spelt_it(client, web_settings):
    import csv
    import io

    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    SqliteStore(web_settings.archive_db).upsert([notice_from_dict(
        {"symbol": "G/TBT/N/USA/2999", "member": "UNITED STATES OF AMERICA", "distribution_date": day(-1),
         "title": "Energy conservation program for dehumidifiers"})])
    page = client.get("/notices/G/TBT/N/USA/2999", params={"lang": "en"}).text
    assert "United States (USA)" in page and "UNITED STATES OF AMERICA" not in page
    rows = list(csv.DictReader(io.StringIO(client.get("/export.csv", params={"q": "dehumidifiers"}).text.lstrip("\ufeff"))))
    assert (rows[0]["member"], rows[0]["member_zh"]) == ("United States", "美国")


def test_traditional_script_is_simplified_in_the_chinese_interface(client, web_settings):
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    SqliteStore(web_settings.archive_db).upsert([notice_from_dict(
        {"symbol": "G/TBT/N/TPKM/650", "member": "Chinese Taipei", "distribution_date": day(-1),
         "title": "Inspection of power banks", "translations": {"zh": {"title": "行動電源商品檢驗規定"}}})])
    zh = client.get("/notices/G/TBT/N/TPKM/650", params={"lang": "zh"}).text
    assert "行动电源商品检验规定" in zh and "行動電源" not in zh
    hits = client.get("/search", params={"q": "power banks", "lang": "zh"}).text
    assert "行动电源商品检验规定" in hits
    assert "行動電源商品檢驗規定" in client.get("/notices/G/TBT/N/TPKM/650", params={"lang": "en"}).text

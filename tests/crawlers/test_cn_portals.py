"""The Chinese portals: detail pages found by their URL shape, read by their numbered labels, loud when empty."""

from __future__ import annotations

import datetime as dt

import pytest

from crawlers.replay import ReplayServer
from archive.raw_pages import RawPages
from tbtwatch.settings import get_settings

from .conftest import crawl, store

pytestmark = pytest.mark.slow


def test_both_portals_yield_translations_from_real_shaped_pages(fresh_home):
    with ReplayServer() as server:
        report = crawl(server, "eping_bulk", "cn_wzisps", "cn_zstbt")
        requests = list(server.requests)
    assert report.sources["cn_wzisps"].items == 5 and report.sources["cn_zstbt"].items == 2
    assert not any("/Home/About" in r or "/Account/" in r or "SpsNotifyList" in r for r in requests)  # only
    # the links whose URL says they are notifications (or list pages) are followed
    assert "/tbt/index_2.html" in requests  # the next list page, found by its URL
    archive = store()
    eu = archive.get("G/TBT/N/EU/1150")  # the WTO's English text, the second portal's Chinese beside it
    assert eu.language == "en" and eu.translations["zh"].title == "外部电源生态设计要求委员会条例草案"
    thailand = archive.get("G/TBT/N/THA/800")  # only on the second portal
    assert thailand.language == "zh" and thailand.member == "泰国" and thailand.source == "cn_zstbt"
    assert thailand.distribution_date == dt.date(2025, 7, 21) and thailand.comment_deadline == dt.date(2025, 9, 19)
    assert thailand.hs_codes == ["850760"] and thailand.ics_codes == ["29.220.30"]
    assert thailand.description.startswith("本标准草案规定了电动自行车用锂离子电池组")


def test_a_page_that_yields_nothing_fails_loudly(fresh_home, fixture_copy):
    article = fixture_copy / "zstbt.net.cn/tbt/2025-07-21/7351820530021109802.html"
    article.write_text("<html><body><h1>G/TBT/N/THA/800</h1><p>页面改版,敬请期待</p></body></html>", encoding="utf-8")
    listing = fixture_copy / "wzisps.org.cn/Tbt/TbtNotifyList.page2.html"
    listing.write_text("<html><body><a href='/Tbt/TbtNotifyList?page=1'>1</a></body></html>", encoding="utf-8")
    with ReplayServer(root=fixture_copy) as server:
        report = crawl(server, "cn_wzisps", "cn_zstbt")
    assert report.sources["cn_zstbt"].parse_failures == 1 and report.sources["cn_zstbt"].items == 1
    assert report.sources["cn_wzisps"].parse_failures == 1 and report.sources["cn_wzisps"].items == 3
    failed = {p.source: p.error for p in RawPages(get_settings().archive_db).failed()}
    assert "names G/TBT/N/THA/800 but no title, products or description" in failed["cn_zstbt"]
    assert "no notification links" in failed["cn_wzisps"] and "NotifyDetail" in failed["cn_wzisps"]

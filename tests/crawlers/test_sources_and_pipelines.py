"""Configuration consistency, the replay server, the redirect guard and the pipelines (real SQLite archive)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Request
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from crawlers.items import NoticeItem, PageItem
from crawlers.sources import SourceConfigError, load_sources, rebase, resolve_base_url
from tbtwatch.settings import PROJECT_ROOT, get_settings

SPIDER_DIR = PROJECT_ROOT / "crawlers" / "spiders"


def _spider_loader() -> SpiderLoader:
    from scrapy.settings import Settings

    return SpiderLoader(Settings({"SPIDER_MODULES": ["crawlers.spiders"]}))


def test_every_source_has_a_spider_and_every_spider_a_source():
    sources = load_sources()
    spiders = set(_spider_loader().list())
    assert spiders == set(sources)
    for name, source in sources.items():
        if source.kind != "feed":  # a non-feed source is one file named after it, holding its spider
            module = importlib.import_module(f"crawlers.spiders.{name}")
            classes = [c for _, c in inspect.getmembers(module, inspect.isclass) if getattr(c, "name", None) == name]
            assert classes, f"crawlers/spiders/{name}.py defines no spider named {name}"
    files = {p.stem for p in SPIDER_DIR.glob("*.py")} - {"__init__", "feeds"}
    assert files == {n for n, s in sources.items() if s.kind != "feed"}


def test_a_feed_needs_only_a_sources_entry(tmp_path, monkeypatch):
    config = tmp_path / "sources.yaml"
    config.write_text((PROJECT_ROOT / "config" / "sources.yaml").read_text(encoding="utf-8") + """
  eu_tbt_feed:
    kind: feed
    base_url: https://example.org
    start: /tbt.rss
    language: en
""", encoding="utf-8")
    monkeypatch.setenv("TBTWATCH_PATHS_SOURCES", str(config))
    get_settings.cache_clear()
    try:
        from crawlers.spiders import feeds

        importlib.reload(feeds)
        assert "eu_tbt_feed" in _spider_loader().list()
    finally:
        monkeypatch.delenv("TBTWATCH_PATHS_SOURCES")
        get_settings.cache_clear()
        importlib.reload(importlib.import_module("crawlers.spiders.feeds"))


def test_bad_entries_are_named(tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  x:\n    kind: ftp\n    base_url: https://a\n    start: /\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="source 'x' has kind 'ftp'"):
        load_sources(config)
    config.write_text("sources:\n  y:\n    kind: feed\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="lacks base_url, start"):
        load_sources(config)


def test_expected_counts_warn_by_name():
    source = load_sources()["wto_docs"]
    assert source.count_warning(0) == "source wto_docs: 0 items, fewer than the expected minimum 1"
    assert source.count_warning(5) is None


def test_base_url_override_order(monkeypatch):
    source = load_sources()["eping_bulk"]
    assert resolve_base_url(source) == "https://eping.wto.org"
    monkeypatch.setenv("TBTWATCH_SOURCE_EPING_BULK_URL", "http://127.0.0.1:9/")
    assert resolve_base_url(source) == "http://127.0.0.1:9"
    assert resolve_base_url(source, "http://127.0.0.1:8") == "http://127.0.0.1:8"
    assert rebase("https://eping.wto.org/a/b.xlsx?x=1", "http://127.0.0.1:8") == "http://127.0.0.1:8/a/b.xlsx?x=1"


def test_replay_server_routes_keys_and_faults(replay):
    def get(path, headers=None):
        request = urllib.request.Request(replay.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    status, body = get("/eping/notifications/search?language=1&page=2")
    assert status == 401 and b"subscription key" in body  # the API portal's answer without a key
    status, body = get("/eping/notifications/search?language=1&page=2", {"Ocp-Apim-Subscription-Key": "k"})
    assert status == 200 and b"G/TBT/N/MEX/560" in body
    assert get("/Tbt/TbtNotifyDetail?gid=Hs9Bv3cXe6yUq0pWo2nRkg")[0] == 404  # SPS pages live under SpsNotifyDetail
    assert get("/library/rss/latest_news_e.xml", {"X-Forwarded-Host": "www.wto.org"})[0] == 200
    assert get("/../config/settings.toml")[0] == 404
    replay.fault("latest_news", "500", times=1)
    assert get("/library/rss/latest_news_e.xml")[0] == 500
    assert get("/library/rss/latest_news_e.xml")[0] == 200  # the fault was for one request
    with pytest.raises(ValueError, match="unknown fault"):
        replay.fault("x", "teapot")


def _crawler(name: str = "eping_bulk"):
    crawler = get_crawler(_spider_loader().load(name))
    crawler.spider = crawler._create_spider()
    return crawler


def _redirect(location: str, url: str = "https://eping.wto.org/NotificationExcelFiles/Notification_EN.xlsx"):
    request = Request(url)
    return request, HtmlResponse(url, status=302, headers={"Location": location}, request=request)


def test_redirects_off_the_allowed_domains_or_to_private_addresses_are_refused():
    from crawlers.middlewares import RedirectGuard, RedirectRefused, is_private_host

    assert is_private_host("127.0.0.1") and is_private_host("10.1.2.3") and not is_private_host("8.8.8.8")
    crawler = _crawler()
    guard = RedirectGuard(crawler)
    for location, reason in (("http://192.168.1.1/admin", "offsite redirect refused"),
                             ("http://8.8.8.8/x", "offsite redirect refused"),
                             ("https://wto.org.evil.example/x", "offsite redirect refused"),
                             ("https://eping.wto.org.evil.example/x", "offsite redirect refused")):
        request, redirect = _redirect(location)
        with pytest.raises(RedirectRefused, match=reason) as refused:
            guard.process_response(request, redirect)
        assert f"{request.url} -> {location}" in str(refused.value) and refused.value.response is redirect
    assert crawler.stats.get_value("tbtwatch/refused_redirects") == 4
    request, redirect = _redirect("http://evil.example/\x1b[2Jx\ty")  # a hostile Location, kept and logged
    with pytest.raises(RedirectRefused, match="-> http://evil.example/%1B") as refused:
        guard.process_response(request, redirect)
    assert not any(ord(c) < 32 or ord(c) == 127 for c in str(refused.value))
    for location in ("https://eping.wto.org/files/Notification_EN.xlsx", "/moved", "https://cdn.eping.wto.org/x"):
        request, redirect = _redirect(location)
        assert guard.process_response(request, redirect) is redirect  # the source's host and its subdomains


def test_an_allowed_host_resolving_to_a_private_address_is_refused():
    from crawlers.middlewares import RedirectGuard, RedirectRefused

    crawler = _crawler()
    crawler.spider.allowed_domains = ["eping.wto.org", "localhost"]  # a domain that resolves to loopback
    request, redirect = _redirect("http://localhost/admin")
    with pytest.raises(RedirectRefused, match=r"private-address redirect refused: .* \(localhost\)"):
        RedirectGuard(crawler).process_response(request, redirect)


def test_replay_host_is_allowed_only_when_a_base_url_is_given():
    from crawlers.middlewares import RedirectGuard, RedirectRefused

    crawler = get_crawler(_spider_loader().load("eping_bulk"))
    crawler.spider = crawler._create_spider(base_url="http://127.0.0.1:8765")
    assert crawler.spider.allowed_domains == ["eping.wto.org", "127.0.0.1"]
    request, redirect = _redirect("http://127.0.0.1:8765/y", "http://127.0.0.1:8765/x")
    assert RedirectGuard(crawler).process_response(request, redirect) is redirect
    request, redirect = _redirect("http://127.0.0.2:8765/y", "http://127.0.0.1:8765/x")
    with pytest.raises(RedirectRefused, match="offsite"):
        RedirectGuard(crawler).process_response(request, redirect)


def test_the_development_cache_never_keeps_a_cut_body():
    from scrapy.settings import Settings
    from scrapy.utils.misc import load_object

    from crawlers import settings as project_settings

    policy = load_object(project_settings.HTTPCACHE_POLICY)(Settings(vars(project_settings)))
    request = Request("https://docs.wto.org/x.DOCX")
    whole = HtmlResponse(request.url, body=b"PK...", request=request)
    assert policy.should_cache_response(whole, request)
    assert not policy.should_cache_response(whole.replace(flags=["dataloss"]), request)
    assert not policy.should_cache_response(whole.replace(status=503), request)


@pytest.mark.parametrize(("base_url", "local"), [
    (None, False), ("https://mirror.example.org", False), ("http://10.0.0.5:8080", False),
    ("http://127.0.0.1:8765", True), ("http://localhost:8765", True), ("http://[::1]:8765", True)])
def test_politeness_delays_are_dropped_only_for_a_replay_on_loopback(base_url, local):
    from scrapy.crawler import AsyncCrawlerRunner

    from crawlers.base import LOCAL_REPLAY_SETTINGS

    shipped = {"AUTOTHROTTLE_ENABLED": True, "DOWNLOAD_DELAY": 1.5, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
               "ROBOTSTXT_OBEY": True}
    crawler = AsyncCrawlerRunner(shipped).create_crawler(_spider_loader().load("cn_wzisps"))  # as a crawl starts
    crawler.spider = crawler._create_spider(**({"base_url": base_url} if base_url else {}))
    assert crawler.spider.replays_locally is local
    expected = LOCAL_REPLAY_SETTINGS if local else {k: v for k, v in shipped.items() if k in LOCAL_REPLAY_SETTINGS}
    assert {key: crawler.settings[key] for key in expected} == expected
    assert crawler.settings.getbool("ROBOTSTXT_OBEY") is True  # robots.txt is obeyed by every crawl


def _item(fields, source="eping_bulk", **kwargs) -> NoticeItem:
    return NoticeItem(source, "https://example.org/n", {"source": source, **fields}, **kwargs)


def test_normalise_strips_html_reads_dates_and_keeps_bad_codes(home):
    from crawlers.pipelines.normalise import NormaliseNotice

    item = _item({"symbol": " G/TBT/N/CAN/750", "title": "<p style='x'>Radio &amp; TV</p>",
                  "distribution_date": "2025-07-21T00:00:00+00:00", "comment_deadline": dt.datetime(2025, 9, 19),
                  "hs_codes": ["851762", "see annex"], "adoption_date": "01/12/2025"})
    NormaliseNotice(_crawler()).process_item(item)
    assert item.fields["title"] == "Radio & TV" and item.fields["symbol"] == "G/TBT/N/CAN/750"
    assert item.fields["distribution_date"] == dt.date(2025, 7, 21)
    assert item.fields["comment_deadline"] == dt.date(2025, 9, 19)
    assert item.fields["hs_codes"] == ["851762"] and item.leftovers["unreadable_hs_codes"] == ["see annex"]
    assert item.fields["adoption_date"] == "2025-12-01"


def test_validate_drops_a_half_empty_notice_and_keeps_its_page(home):
    from archive.raw_pages import RawPages
    from crawlers.pipelines.validate import ValidateNotice

    pipeline = ValidateNotice(_crawler())
    pipeline.open_spider()
    page = PageItem("eping_bulk", "https://eping.wto.org/x#row=9", b'{"symbol": "G/TBT/N/USA/1"}')
    with pytest.raises(DropItem, match="no title, description or products"):
        pipeline.process_item(_item({"symbol": "G/TBT/N/USA/1"}, page=page))
    failed = RawPages(get_settings().archive_db).failed("eping_bulk")
    assert [p.url for p in failed] == ["https://eping.wto.org/x#row=9"]


def test_store_keeps_the_higher_ranked_text_and_adds_translations(home):
    from archive.backends import open_store
    from crawlers.pipelines.store import UpsertNotice
    from tbtwatch.model import notice_from_dict

    def upsert(source, fields, sparse=False):
        crawler = _crawler(source)
        pipeline = UpsertNotice(crawler)
        pipeline.open_spider()
        item = _item(fields, source=source, sparse=sparse)
        item.notice = notice_from_dict(item.fields)
        pipeline.process_item(item)
        pipeline.close_spider()
        return crawler.stats.get_stats()

    base = {"symbol": "G/TBT/N/JPN/880", "distribution_date": dt.date(2025, 7, 21)}
    upsert("wto_docs", {**base, "title": "Form title", "member": "JAPAN", "language": "en"})
    stats = upsert("eping_bulk", {**base, "title": "Bulk title", "member": "Japan", "language": "en"})
    assert stats["tbtwatch/unchanged"] == 1  # lower rank, same language: the form's text stays
    upsert("cn_wzisps", {**base, "title": "电器技术要求", "member": "日本", "language": "zh",
                         "entry_into_force": "待定"})
    stored = open_store(get_settings()).get("G/TBT/N/JPN/880")
    assert stored.title == "Form title" and stored.member == "JAPAN" and stored.source == "wto_docs"
    assert stored.translations["zh"].title == "电器技术要求" and stored.entry_into_force == "待定"
    stats = upsert("wto_news", {**base, "title": "News headline", "language": "en"}, sparse=True)
    assert stats["tbtwatch/unchanged"] == 1 and open_store(get_settings()).get("G/TBT/N/JPN/880").title == \
        "Form title"


def test_fixture_readme_names_every_source():
    readme = (Path(__file__).parents[1] / "fixtures" / "README.md").read_text(encoding="utf-8")
    for name in load_sources():
        assert f"`{name}`" in readme, f"tests/fixtures/README.md says nothing about where {name}'s shape came from"

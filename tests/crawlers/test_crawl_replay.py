"""Real crawls: every spider through Scrapy (a subprocess) against the replay server on 127.0.0.1.

One module-scoped archive: the first crawl fills it, later tests read it and
crawl again (idempotence, windows, faults and their recovery).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys

import pytest

from archive.raw_pages import RawPages
from crawlers.replay import FIXTURE_ROOT, RECORDED_DAY, ReplayServer
from tbtwatch.settings import PROJECT_ROOT, get_settings

from .conftest import FAST, crawl, store

pytestmark = pytest.mark.slow
EXPECTED_SYMBOLS = 27  # distinct notices across all sources on the demo day (see tests/fixtures/README.md)


@pytest.fixture(scope="module")
def first_run(module_home):
    with ReplayServer() as server:
        report = crawl(server, args=("eping_api.page_size=2",))
    return report


def test_first_crawl_fills_the_archive(first_run):
    report = first_run
    assert report.errors == [] and report.ok
    assert report.total("errors") == 0 and report.total("parse_failures") == 0
    items = {name: s.items for name, s in report.sources.items()}
    # eping_bulk: 10 rows and one joint row of 5 symbols; eping_api with page_size=2: two pages, four records,
    # one of them joint (5 symbols); wto_docs: 8 catalogue lines (one joint of 5, the restricted one skipped)
    # and 8 from 4 documents (the joint one's form for each of its symbols)
    assert items == {"eping_bulk": 15, "eping_api": 8, "wto_docs": 16, "cn_wzisps": 5, "wto_news": 1,
                     "notified_docs": 4, "cn_zstbt": 2}
    assert report.sources["eping_api"].pages == 2
    assert report.sources["cn_wzisps"].pages == 7  # two list pages, five detail pages
    assert report.sources["eping_bulk"].invalid_notices == 1  # the row whose symbol has no number
    assert "Keywords" in report.sources["eping_bulk"].leftover_names  # an unclaimed column is counted
    assert store().count() == EXPECTED_SYMBOLS
    assert report.total("inserted") == EXPECTED_SYMBOLS


def test_second_identical_crawl_changes_nothing(first_run):
    with ReplayServer() as server:
        report = crawl(server, args=("eping_api.page_size=2",))
    assert report.total("inserted") == 0 and report.total("updated") == 0
    assert report.total("unchanged") == sum(s.items for s in report.sources.values())
    assert store().count() == EXPECTED_SYMBOLS


def test_english_fields_from_the_bulk_file_api_and_documents(first_run):
    archive = store()
    usa = archive.get("G/TBT/N/USA/2210")
    assert usa.source == "wto_docs"  # the document's form outranks the bulk file and the API
    assert usa.member == "UNITED STATES OF AMERICA"
    assert usa.distribution_date == dt.date(2025, 7, 21) and usa.comment_deadline == dt.date(2025, 9, 19)
    assert usa.hs_codes[:2] == ["850610", "850680"]
    assert usa.entry_into_force == "180 days after publication of the final rule"
    assert "https://www.regulations.gov/docket/CPSC-2025-0012" in usa.urls
    mex = archive.get("G/TBT/N/MEX/560")  # only the API has it (second page); HTML stripped
    assert mex.title == "Draft Mexican Official Standard PROY-NOM-208-SCFI-2025"
    assert mex.hs_codes == ["851762", "852990"] and "<" not in mex.description
    chl = archive.get("G/SPS/N/CHL/900")
    assert chl.area == "SPS" and chl.objectives == ["food safety"] and chl.entry_into_force == "2026-06-01"
    addendum = archive.get("G/TBT/N/TPKM/530/Add.1")
    assert addendum.kind == "addendum" and addendum.base_symbol == "G/TBT/N/TPKM/530"
    assert addendum.adoption_date == "2025-07-15"


def test_chinese_portal_fields_and_translations(first_run):
    archive = store()
    usa = archive.get("G/TBT/N/USA/2210")
    assert usa.language == "en"
    assert usa.translations["zh"].title == "纽扣电池或硬币电池及含有此类电池的消费品安全标准"
    assert usa.translations["zh"].products == "纽扣电池和硬币电池;含有此类电池的消费品"
    vnm = archive.get("G/TBT/N/VNM/330")  # only on the portal, served GBK-encoded
    assert vnm.language == "zh" and vnm.member == "越南"
    assert vnm.description == "本法规草案规定了移动电话和平板电脑用锂离子电池的安全要求及合格评定程序。"
    assert vnm.comment_deadline == dt.date(2025, 9, 19)  # 通报之后60天
    assert vnm.hs_codes == ["850760"] and vnm.entry_into_force == "2026-07-01"
    kor = archive.get("G/SPS/N/KOR/820")
    assert kor.translations["zh"].products.startswith("柑橘类水果")
    taipei = archive.get("G/TBT/N/TPKM/530/Add.1")  # traditional characters
    assert taipei.translations["zh"].description.startswith("此前在G/TBT/N/TPKM/530號文件中通報")


EAC_BULK = {"G/TBT/N/BDI/560": "Burundi", "G/TBT/N/KEN/1850": "Kenya", "G/TBT/N/RWA/1200": "Rwanda",
            "G/TBT/N/TZA/1300": "Tanzania", "G/TBT/N/UGA/2100": "Uganda"}


def test_eac_joint_notices_and_feed_entries(first_run):
    archive = store()
    for symbol, member in EAC_BULK.items():
        notice = archive.get(symbol)
        assert notice.hs_codes == ["9503"] and notice.member == member
        assert notice.member_code == symbol.split("/")[3]
        assert notice.symbols[0] == symbol and sorted(notice.symbols) == sorted(EAC_BULK)
    assert archive.get("G/TBT/N/KEN/1850").translations["zh"].title.startswith("DEAS 1234:2025 玩具")
    india = archive.get("G/TBT/N/IND/330")  # the one feed entry that names a notification
    assert india.source == "wto_news" and india.distribution_date == dt.date(2025, 7, 21)


def test_invalid_row_is_kept_raw_with_its_error(first_run):
    failed = RawPages(get_settings().archive_db).failed("eping_bulk")
    assert len(failed) == 1
    assert failed[0].url.endswith("#row=12") and "G/TBT/N/MEX/" in failed[0].body.decode()
    assert "symbol" in failed[0].error


def test_date_window(first_run):
    with ReplayServer() as server:
        report = crawl(server, "eping_bulk", since="2025-07-22", until="2025-07-22")
    line = report.sources["eping_bulk"]
    assert line.items == 2 and line.outside_window == 10  # the addendum and CHN/2050; the other rows are outside


def test_api_without_key_is_skipped_with_a_message(first_run, monkeypatch):
    monkeypatch.delenv("TBTWATCH_EPING_API_KEY")
    with ReplayServer() as server:
        report = crawl(server, "eping_api")
    line = report.sources["eping_api"]
    assert line.pages == 0 and "TBTWATCH_EPING_API_KEY" in line.skipped
    assert not line.failed


def raw_rows(url_part: str) -> list[tuple[int, int | None, str | None]]:
    """(id, status, error) of every raw page kept for URLs containing ``url_part``, oldest first."""
    with sqlite3.connect(get_settings().archive_db) as conn:
        return conn.execute("SELECT id, status, error FROM raw_pages WHERE instr(url, ?) ORDER BY id",
                            (url_part,)).fetchall()


def test_faults_are_reported_by_source_and_a_rerun_fills_the_gap(fresh_home, first_run):
    """500, 404, reset, timeout and a truncated body at once: each counted for its source, kept raw, none fatal."""
    with ReplayServer() as server:
        server.fault("Notification_EN.xlsx", "500")
        server.fault("gid=Jk4Pq7sLd2xNw8eRf1mTzA", "404")
        server.fault("latest_news_e.xml", "reset")
        server.fault("search?language=1&page=2", "slow", delay=3)  # DOWNLOAD_TIMEOUT is 2 s in tests: a timeout
        server.fault("CHL900", "truncate")
        broken = crawl(server, args=("eping_api.page_size=2",))
        assert server.requests.count("/NotificationExcelFiles/Notification_EN.xlsx") == 3  # retried twice
        assert sum("CHL900" in r for r in server.requests) == 3  # a cut body is retried too
        s = broken.sources
        assert s["eping_bulk"].errors == 1 and s["eping_bulk"].items == 0 and s["eping_bulk"].failed
        assert s["cn_wzisps"].errors == 1 and s["cn_wzisps"].items == 4
        assert s["wto_news"].errors == 1 and s["wto_news"].failed
        assert s["eping_api"].errors == 1 and s["eping_api"].items == 2  # page 2 (MEX and the joint record) lost
        assert s["wto_docs"].errors == 1 and s["wto_docs"].items == 15
        assert not broken.ok
        partial = store().count()
        assert partial < EXPECTED_SYMBOLS

        # every failed download is kept raw: its real URL, status (None: nothing came back), error and body
        kept = {page.source: page for page in RawPages(get_settings().archive_db).failed()}
        assert len(kept) == len(RawPages(get_settings().archive_db).failed()) == 5  # one row per fault
        bulk, portal, feed, api, docs = (kept[n] for n in ("eping_bulk", "cn_wzisps", "wto_news", "eping_api",
                                                            "wto_docs"))
        assert (bulk.url, bulk.status, bulk.error, bulk.body) == (
            "https://eping.wto.org/NotificationExcelFiles/Notification_EN.xlsx", 500, "HTTP 500", b"replay fault 500")
        assert (portal.url, portal.status, portal.error) == (
            "https://wzisps.org.cn/Tbt/TbtNotifyDetail?gid=Jk4Pq7sLd2xNw8eRf1mTzA", 404, "HTTP 404")
        assert (feed.status, feed.body) == (None, b"") and feed.error.startswith("DownloadFailedError: Connection")
        assert (api.status, api.body) == (None, b"") and api.error.startswith("DownloadTimeoutError: ")
        assert "page=2" in api.url and api.url.startswith("https://api.wto.org/")
        whole = (FIXTURE_ROOT / "docs.wto.org/dol2fe/Pages/SS/directdoc/NCHL900.pdf").read_bytes()
        assert docs.status == 200 and docs.body == whole[: len(whole) // 2]  # the bytes that did arrive
        assert docs.error == (f"ResponseDataLossError: body cut off mid-transfer, {len(whole) // 2} of "
                              f"{len(whole)} bytes arrived")

        server.clear_faults()
        healed = crawl(server, args=("eping_api.page_size=2",))
    assert healed.ok
    assert store().count() == EXPECTED_SYMBOLS  # the gap is filled, nothing doubled
    assert healed.total("inserted") == EXPECTED_SYMBOLS - partial
    # the failures stay as they were; each page fetched now is a row of its own (the bulk file keeps only failures)
    assert [row[1:] for row in raw_rows("gid=Jk4Pq7sLd2xNw8eRf1mTzA")] == [(404, "HTTP 404"), (200, None)]
    assert [row[1] for row in raw_rows("latest_news_e.xml")] == [None, 200]
    assert [row[1] for row in raw_rows("CHL900")] == [200, 200] and raw_rows("CHL900")[1][2] is None
    bulk_rows = raw_rows("Notification_EN.xlsx")  # the parsed file is not kept (keep_raw: failures); its bad row is
    assert bulk_rows[0] == (bulk.id, 500, "HTTP 500") and len(bulk_rows) == 2 and "symbol" in bulk_rows[1][2]


def test_a_repeated_failure_updates_its_row_and_a_later_fetch_is_its_own(fresh_home, first_run):
    """The same URL failing again with nothing received is one row saying how it failed last."""
    quick = ("DOWNLOAD_TIMEOUT=0.5",)
    with ReplayServer() as server:
        server.fault("latest_news_e.xml", "reset")
        assert crawl(server, "wto_news", settings=quick).sources["wto_news"].failed
        [(first, status, error)] = raw_rows("latest_news_e.xml")
        assert status is None and error.startswith("DownloadFailedError: ")

        server.clear_faults()
        server.fault("latest_news_e.xml", "slow", delay=1)
        assert crawl(server, "wto_news", settings=quick).sources["wto_news"].failed
        [(again, status, error)] = raw_rows("latest_news_e.xml")
        assert again == first and status is None and error.startswith("DownloadTimeoutError: ")

        server.clear_faults()
        assert crawl(server, "wto_news", settings=quick).sources["wto_news"].items == 1
    assert [row[1:] for row in raw_rows("latest_news_e.xml")] == [(None, error), (200, None)]


def test_a_redirect_off_the_sources_domains_is_refused_counted_and_named(fresh_home, first_run):
    """A feed moved to another domain fails its source (the digest names it); a portal page moved there is one
    error of a source that otherwise worked. Both are kept raw with where they were sent."""
    from commands.pipeline import DailyReport, crawl_sources

    elsewhere = "http://tbtwatch-offsite.invalid/moved"  # .invalid never resolves: nothing can leave the machine
    with ReplayServer() as server:
        server.fault("latest_news_e.xml", "redirect", location=elsewhere + "/feed.xml")
        server.fault("gid=Jk4Pq7sLd2xNw8eRf1mTzA", "redirect", location=elsewhere + "/ken-1850")
        results = crawl_sources(["wto_news", "cn_wzisps"], None, None, server.url)  # the pipeline's crawl stage
    report = DailyReport(RECORDED_DAY, None, None, True, sources=results)
    assert report.failed_sources == ["wto_news"]
    feed, portal = results
    assert feed.counts["errors"] == feed.counts["refused_redirects"] == 1 and "redirects refused" in feed.error
    assert portal.ok and portal.counts["items"] == 4
    assert portal.counts["errors"] == portal.counts["refused_redirects"] == 1
    failed = {page.source: page for page in RawPages(get_settings().archive_db).failed()}
    assert failed["wto_news"].status == failed["cn_wzisps"].status == 302
    assert failed["wto_news"].error == ("offsite redirect refused: https://www.wto.org/library/rss/latest_news_e.xml"
                                        f" -> {elsewhere}/feed.xml")
    assert failed["cn_wzisps"].error == ("offsite redirect refused: https://wzisps.org.cn/Tbt/TbtNotifyDetail?"
                                         f"gid=Jk4Pq7sLd2xNw8eRf1mTzA -> {elsewhere}/ken-1850")


def test_layout_change_wrong_charset_and_cut_spreadsheet(fresh_home, first_run, fixture_copy):
    detail = fixture_copy / "wzisps.org.cn" / "Tbt" / "TbtNotifyDetail.tbt-usa-2210.html"
    detail.write_text("<html><body><div class='new-layout'>改版</div></body></html>", encoding="utf-8")
    routes = fixture_copy / "routes.yaml"  # the GBK page now declared UTF-8 in the header: a lying charset
    routes.write_text(routes.read_text(encoding="utf-8").replace(
        "file: wzisps.org.cn/Tbt/TbtNotifyDetail.tbt-vnm-330.html\n  content_type: text/html\n",
        "file: wzisps.org.cn/Tbt/TbtNotifyDetail.tbt-vnm-330.html\n  content_type: text/html; charset=utf-8\n"),
        encoding="utf-8")
    workbook = fixture_copy / "eping.wto.org" / "NotificationExcelFiles" / "Notification_EN.xlsx"
    workbook.write_bytes(workbook.read_bytes()[:4000])  # a cut file served whole: not a readable workbook
    with ReplayServer(root=fixture_copy) as server:
        report = crawl(server, "cn_wzisps", "eping_bulk")
    cn, bulk = report.sources["cn_wzisps"], report.sources["eping_bulk"]
    assert cn.parse_failures == 1 and cn.items == 4
    assert bulk.parse_failures == 1 and bulk.items == 0 and bulk.failed
    assert store().get("G/TBT/N/VNM/330").member == "越南"  # re-decoded as GB18030
    pages = RawPages(get_settings().archive_db)
    assert "no WTO notification symbol" in pages.failed("cn_wzisps")[0].error  # a changed page fails loudly
    assert "zip" in pages.failed("eping_bulk")[0].error.lower()

    with ReplayServer() as server:  # the portal and the file are fixed: the re-run fills the gap
        fixed = crawl(server, "cn_wzisps", "eping_bulk")
    assert fixed.sources["cn_wzisps"].inserted + fixed.sources["eping_bulk"].inserted >= 1
    assert store().get("G/TBT/N/USA/2210") is not None


def test_scrapy_crawl_command_works_too(first_run, tmp_path):
    env = {**os.environ, "TBTWATCH_HOME": str(tmp_path / "scrapy-home")}
    with ReplayServer() as server:
        result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "wto_news", "-a", f"base_url={server.url}",
                                 "-a", "since=2025-07-01", "-a", "until=2025-07-31", "-s", "LOG_LEVEL=WARNING",
                                 "-s", "AUTOTHROTTLE_START_DELAY=0.05"],
                                cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    os.environ["TBTWATCH_HOME"], saved = env["TBTWATCH_HOME"], os.environ["TBTWATCH_HOME"]
    get_settings.cache_clear()
    try:
        assert store().get("G/TBT/N/IND/330") is not None
    finally:
        os.environ["TBTWATCH_HOME"] = saved
        get_settings.cache_clear()


def test_fast_settings_are_only_speed(first_run):
    """The tests change delays and timeouts only: politeness settings stay as shipped."""
    assert not any(flag.startswith(("ROBOTSTXT", "USER_AGENT", "RETRY_TIMES")) for flag in FAST)

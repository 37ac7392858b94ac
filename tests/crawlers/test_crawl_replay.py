"""Real crawls: every spider through Scrapy (a subprocess) against the replay server on 127.0.0.1.

One module-scoped archive: the first crawl fills it, later tests read it and
crawl again (idempotence, windows, faults and their recovery).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from archive.raw_pages import RawPages
from crawlers.replay import ReplayServer
from tbtwatch.settings import PROJECT_ROOT, get_settings

from .conftest import FAST, crawl, store

pytestmark = pytest.mark.slow
EXPECTED_SYMBOLS = 21  # distinct notices across all sources on the demo day (see tests/fixtures/README.md)


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
    # eping_api pages with page_size=2: two pages, three records; wto_docs: 3 catalogue lines + 3 documents
    assert items == {"eping_bulk": 15, "eping_api": 3, "wto_docs": 6, "cn_wzisps": 5, "wto_news": 1}
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


def test_eac_joint_notices_and_feed_entries(first_run):
    archive = store()
    for symbol in ("G/TBT/N/KEN/1850", "G/TBT/N/UGA/2100", "G/TBT/N/TZA/1300", "G/TBT/N/RWA/1200",
                   "G/TBT/N/BDI/560"):
        assert archive.get(symbol).hs_codes == ["9503"]
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
    assert line.items == 2 and line.outside_window == 14  # the addendum and CHN/2050; the rest are outside


def test_api_without_key_is_skipped_with_a_message(first_run, monkeypatch):
    monkeypatch.delenv("TBTWATCH_EPING_API_KEY")
    with ReplayServer() as server:
        report = crawl(server, "eping_api")
    line = report.sources["eping_api"]
    assert line.pages == 0 and "TBTWATCH_EPING_API_KEY" in line.skipped
    assert not line.failed


def test_faults_are_reported_by_source_and_a_rerun_fills_the_gap(module_home, first_run, tmp_path):
    """500, 404, reset, timeout and a truncated body at once: each counted for its source, none fatal."""
    os.environ["TBTWATCH_HOME"] = str(tmp_path / "fresh")
    get_settings.cache_clear()
    try:
        with ReplayServer() as server:
            server.fault("Notification_EN.xlsx", "500")
            server.fault("gid=tbt-ken-1850", "404")
            server.fault("latest_news_e.xml", "reset")
            server.fault("search?language=1&page=2", "slow", delay=3)  # DOWNLOAD_TIMEOUT is 2 s in tests: a timeout
            server.fault("CHL900", "truncate")
            broken = crawl(server, args=("eping_api.page_size=2",))
            assert server.requests.count("/NotificationExcelFiles/Notification_EN.xlsx") == 3  # retried twice
            s = broken.sources
            assert s["eping_bulk"].errors == 1 and s["eping_bulk"].items == 0 and s["eping_bulk"].failed
            assert s["cn_wzisps"].errors == 1 and s["cn_wzisps"].items == 4
            assert s["wto_news"].errors == 1 and s["wto_news"].failed
            assert s["eping_api"].errors == 1 and s["eping_api"].items == 2
            assert s["wto_docs"].errors == 1 and s["wto_docs"].items == 5
            assert not broken.ok
            partial = store().count()
            assert partial < EXPECTED_SYMBOLS

            server.clear_faults()
            healed = crawl(server, args=("eping_api.page_size=2",))
        assert healed.ok
        assert store().count() == EXPECTED_SYMBOLS  # the gap is filled, nothing doubled
        assert healed.total("inserted") == EXPECTED_SYMBOLS - partial
    finally:
        os.environ["TBTWATCH_HOME"] = str(module_home)
        get_settings.cache_clear()


def test_layout_change_wrong_charset_and_cut_spreadsheet(module_home, first_run, fixture_copy, tmp_path):
    os.environ["TBTWATCH_HOME"] = str(tmp_path / "fresh")
    get_settings.cache_clear()
    try:
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
        assert "notify-detail" in pages.failed("cn_wzisps")[0].error
        assert "zip" in pages.failed("eping_bulk")[0].error.lower()

        with ReplayServer() as server:  # the portal and the file are fixed: the re-run fills the gap
            fixed = crawl(server, "cn_wzisps", "eping_bulk")
        assert fixed.sources["cn_wzisps"].inserted + fixed.sources["eping_bulk"].inserted >= 1
        assert store().get("G/TBT/N/USA/2210") is not None
    finally:
        os.environ["TBTWATCH_HOME"] = str(module_home)
        get_settings.cache_clear()


def test_scrapy_crawl_command_works_too(first_run, tmp_path):
    env = {**os.environ, "TBTWATCH_HOME": str(tmp_path / "scrapy-home")}
    with ReplayServer() as server:
        result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "wto_news", "-a", f"base_url={server.url}",
                                 "-a", "since=2025-07-01", "-a", "until=2025-07-31", "-s", "LOG_LEVEL=WARNING",
                                 "-s", "AUTOTHROTTLE_START_DELAY=0.05"],
                                cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
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

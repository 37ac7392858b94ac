"""Source health: `tbtwatch sources check` (ok / drifted / failed), degraded sources, each invalid record named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.health import DRIFTED, FAILED, OK, SourceRuns, invalid_reason, verdict
from crawlers.replay import ReplayServer
from tbtwatch.settings import get_settings

from .conftest import store

CLI = Path(sys.executable).with_name("tbtwatch")


def test_degraded_when_items_fall_to_zero_after_yielding_or_too_many_are_invalid(tmp_path):
    runs = SourceRuns(tmp_path / "archive.sqlite3")
    assert [runs.record("portal", n, 0) for n in (5, 0, 4, 6, 3)] == [""] * 5  # a quiet day between: fine
    assert runs.record("portal", 0, 0) == "no items, after 3, 6, 4 in its last 3 runs"
    assert runs.record("portal", 0, 0) == ""  # already at 0: said once, not every day
    assert invalid_reason(95, 5) == "" and invalid_reason(15, 1) == "1 of 16 records invalid (6%, more than 5%)"


def test_verdicts():
    assert verdict("a", 1, 3, 0, 0, 0, [], []).status == OK
    assert verdict("a", 0, 0, 1, 0, 0, ["https://x/: HTTP 404"], []).missing == ["https://x/: HTTP 404"]
    assert verdict("a", 0, 0, 1, 0, 0, [], []).status == FAILED
    drifted = verdict("a", 1, 3, 0, 0, 0, [], ["distribution_date"])
    assert (drifted.status, drifted.missing) == (DRIFTED, ["no sampled record has distribution_date"])


def _check(base_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([str(CLI), "sources", "check", "--base-url", base_url], capture_output=True, text=True,
                          timeout=180, env=env, check=False)


@pytest.mark.slow
def test_sources_check_names_what_drifted_and_what_failed_and_stores_nothing(fresh_home, fixture_copy):
    from openpyxl import load_workbook

    workbook = fixture_copy / "eping.wto.org/NotificationExcelFiles/Notification_EN.xlsx"
    book = load_workbook(workbook)
    sheet = book.active
    for cell in sheet[1]:
        if cell.value == "Document symbol":
            cell.value = "Symbol(s)"  # the column renamed
    book.save(workbook)
    page = fixture_copy / "api.wto.org/eping/notifications/search.page1.json"
    data = json.loads(page.read_text(encoding="utf-8"))
    for item in data["items"]:
        item["distributionDateUtc"] = item.pop("distributionDate")  # a field renamed: records stay valid
    page.write_text(json.dumps(data), encoding="utf-8")
    (fixture_copy / "www.wto.org/library/rss/latest_news_e.xml").unlink()  # the feed is gone: 404
    with ReplayServer(root=fixture_copy) as server:
        result = _check(server.url)
    assert result.returncode == 1, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 4
            and line.split("│")[1].strip()}
    assert "drifted" in rows["eping_bulk"] and "header row lacks the column(s) for symbol" in rows["eping_bulk"]
    assert "drifted" in rows["eping_api"] and "no sampled record has distribution_date" in rows["eping_api"]
    assert "failed" in rows["wto_news"] and "HTTP 404" in rows["wto_news"]
    for name in ("wto_docs", "cn_wzisps", "cn_zstbt"):
        assert "│ ok " in rows[name]
    assert store().count() == 0  # a check stores nothing


@pytest.mark.slow
def test_sources_check_offline_is_all_ok(fresh_home):
    result = subprocess.run([str(CLI), "sources", "check", "--offline"], capture_output=True, text=True, timeout=180,
                            env={**os.environ, "COLUMNS": "250"}, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "drifted" not in result.stdout and "failed" not in result.stdout


@pytest.mark.slow
def test_crawl_lists_each_invalid_record_and_the_report_names_the_degraded_source(fresh_home):
    with ReplayServer() as server:
        result = subprocess.run([str(CLI), "crawl", "--source", "eping_bulk", "--base-url", server.url],
                                capture_output=True, text=True, timeout=180,
                                env={**os.environ, "COLUMNS": "250"}, check=False)
    assert result.returncode == 0, result.stderr
    listed = [line.strip() for line in result.stderr.splitlines() if "#row=12:" in line]
    assert listed and "notice G/TBT/N/MEX/: symbol:" in listed[0]  # the row and the reason, not just a count
    assert "looks degraded: 1 of 16 records invalid (6%, more than 5%)" in result.stderr.replace("\n", " ")
    assert SourceRuns(get_settings().archive_db).recent("eping_bulk") == [15]


@pytest.mark.slow
def test_the_daily_report_and_the_digest_name_a_degraded_source(fresh_home, fixture_copy):
    import datetime as dt

    from commands.pipeline import DailyReport, crawl_sources, make_digest

    with ReplayServer() as server:
        for _ in range(3):
            assert crawl_sources(["wto_news"], None, None, server.url)[0].counts["items"] == 1
    feed = fixture_copy / "www.wto.org/library/rss/latest_news_e.xml"  # still a feed, its notices no longer cited
    feed.write_text(feed.read_text(encoding="utf-8").replace("(G/TBT/N/IND/330)", "").replace(
        "under G/TBT/N/IND/330", ""), encoding="utf-8")
    with ReplayServer(root=fixture_copy) as server:
        results = crawl_sources(["wto_news"], None, None, server.url)
    assert results[0].ok and results[0].degraded == "no items, after 1, 1, 1 in its last 3 runs"
    report = DailyReport(dt.date(2025, 7, 22), None, None, True, sources=results)
    assert report.degraded_sources == ["wto_news: no items, after 1, 1, 1 in its last 3 runs"]
    result = make_digest(get_settings(), dt.date(2025, 7, 22), [], report.degraded_sources)
    digest = Path(result.outputs["digest"]).read_text(encoding="utf-8")
    assert "For the operator" in digest and "wto_news: no items, after 1, 1, 1 in its last 3 runs" in digest
    assert "names the degraded sources: wto_news" in result.summary

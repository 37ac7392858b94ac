"""Crawl faults the crawler tests do not inject, one or more per source kind, in one real crawl of every source.

``tests/crawlers/test_crawl_replay.py`` covers HTTP 500 (bulk file), 404 (portal page), a reset (feed), a
timeout (API page), a body cut on the wire (notification PDF), a changed portal layout, a lying charset on a
portal page and a spreadsheet cut short. Here, against the replay server (its fault injection and a
corrupted copy of its fixtures):

| source (kind)          | fault added here                                                        |
|------------------------|-------------------------------------------------------------------------|
| eping_bulk (xlsx)      | first download times out (retried), then a workbook whose sheet XML is malformed |
| eping_api (JSON API)   | page 2 answers 200 with an HTML gateway page instead of JSON             |
| wto_docs (XML + PDF)   | the Word fallback of a scanned PDF has malformed XML; a PDF times out    |
| cn_wzisps (HTML portal)| a detail page times out; another is binary garbage                      |
| wto_news (RSS)         | the feed declares UTF-8 but is sent in Windows-1252                      |

Figures proved: the run completes; every failure is counted for its source (timeouts as errors, unreadable
content as parse failures); every unreadable page, and every download given up after its retries, is kept
raw with its error; the rest of each source is stored; after the faults clear a re-run fills every gap, with
zero duplicates.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from archive.raw_pages import RawPages
from archive.sqlite_store import SqliteStore
from crawlers.replay import FIXTURE_ROOT, ReplayServer
from crawlers.runner import run_crawl
from tbtwatch.settings import get_settings

# Real settings, only quicker (politeness and retry counts stay as shipped): 1 s timeouts against loopback.
FAST = ["--set", "AUTOTHROTTLE_START_DELAY=0.05", "--set", "RETRY_BACKOFF_BASE=0.05", "--set", "DOWNLOAD_TIMEOUT=1",
        "--set", "LOG_LEVEL=WARNING"]
SLOW = 1.5  # seconds the replay server waits before answering: past DOWNLOAD_TIMEOUT
EXPECTED_SYMBOLS = 27  # distinct notices across all sources (tests/fixtures/README.md)


def rewrite_zip_member(path: Path, member: str, change) -> None:
    """Replace one member of a zip file (xlsx, docx) with ``change(old_bytes)``; the zip itself stays valid."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, change(data) if info.filename == member else data)
    path.write_bytes(buffer.getvalue())


def cut_xml(data: bytes) -> bytes:
    return data[: len(data) // 2]  # an unclosed element in the middle of the document


@pytest.fixture
def broken_fixtures(tmp_path) -> Path:
    root = tmp_path / "replay"
    shutil.copytree(FIXTURE_ROOT, root)
    rewrite_zip_member(root / "eping.wto.org/NotificationExcelFiles/Notification_EN.xlsx", "xl/worksheets/sheet1.xml",
                       cut_xml)
    (root / "api.wto.org/eping/notifications/search.page2.json").write_bytes(
        b"<html><head><title>502 Bad Gateway</title></head><body>upstream timed out</body></html>")
    rewrite_zip_member(root / "docs.wto.org/dol2fe/Pages/SS/directdoc/TPKM530A1.DOCX", "word/document.xml", cut_xml)
    (root / "wzisps.org.cn/Tbt/TbtNotifyDetail.tbt-tpkm-530-add1.html").write_bytes(bytes(range(256)) * 8)
    feed = root / "www.wto.org/library/rss/latest_news_e.xml"
    text = feed.read_text(encoding="utf-8").replace("India notifies", "Inde – Côte d’Ivoire: India notifies")
    feed.write_bytes(text.encode("cp1252"))  # still declares encoding="UTF-8"
    return root


@pytest.fixture
def crawl_home(home, monkeypatch):
    monkeypatch.setenv("TBTWATCH_EPING_API_KEY", "replay-test-key")
    get_settings.cache_clear()
    return get_settings()


def crawl(server: ReplayServer):
    return run_crawl(None, base_url=server.url, extra_args=[*FAST, "--arg", "eping_api.page_size=2"], timeout=120)


@pytest.mark.timeout(180)
def test_malformed_content_timeouts_and_wrong_encodings_are_counted_kept_and_refilled(crawl_home, broken_fixtures):
    with ReplayServer(root=broken_fixtures) as server:
        server.fault("Notification_EN.xlsx", "slow", times=1, delay=SLOW)
        server.fault("gid=Jk4Pq7sLd2xNw8eRf1mTzA", "slow", delay=SLOW)
        server.fault("NCHL900.pdf", "slow", delay=SLOW)
        broken = crawl(server)
        assert server.requests.count("/NotificationExcelFiles/Notification_EN.xlsx") == 2  # timed out, retried
        assert sum("gid=Jk4Pq7sLd2xNw8eRf1mTzA" in r for r in server.requests) == 3  # timed out three times: given up

    assert broken.errors == []  # the run itself completed
    s = broken.sources
    counts = {name: (line.items, line.errors, line.parse_failures) for name, line in s.items()}
    assert counts["eping_bulk"] == (0, 0, 1)  # the retry got the file; its sheet is unreadable
    assert counts["eping_api"] == (2, 0, 1)  # page 1's records; page 2 was not JSON
    assert counts["wto_docs"][1:] == (1, 1)  # one document timed out, one is malformed
    assert counts["cn_wzisps"][1:] == (1, 1)  # one page timed out, one is garbage
    assert counts["wto_news"] == (1, 0, 0)  # the mis-declared feed is still read
    assert not broken.ok

    db = crawl_home.archive_db
    failed = RawPages(db).failed()
    kept = {page.source: page for page in failed if page.status == 200}
    assert sorted(kept) == ["cn_wzisps", "eping_api", "eping_bulk", "wto_docs"]  # each unreadable page, raw
    assert "502 Bad Gateway" in kept["eping_api"].body.decode()
    timed_out = sorted((page.source, page.url) for page in failed if page.status is None)
    assert len(failed) == len(kept) + len(timed_out) == 6  # the retried-then-fetched workbook left no failure
    assert [source for source, _ in timed_out] == ["cn_wzisps", "wto_docs"]  # each given-up download, raw too
    assert "gid=Jk4Pq7sLd2xNw8eRf1mTzA" in timed_out[0][1] and "NCHL900.pdf" in timed_out[1][1]
    assert all(page.error.startswith("DownloadTimeoutError: ") and page.body == b""
               for page in failed if page.status is None)
    assert "TPKM530A1.DOCX" in kept["wto_docs"].url and kept["wto_docs"].body.startswith(b"PK")
    assert kept["cn_wzisps"].body == bytes(range(256)) * 8
    store = SqliteStore(db)
    assert "Côte d’Ivoire" in store.get("G/TBT/N/IND/330").title  # re-decoded as sent, not as declared
    partial = store.count()
    assert 0 < partial < EXPECTED_SYMBOLS

    with ReplayServer() as server:  # the sources are healthy again
        healed = crawl(server)
    assert healed.ok and healed.total("errors") == 0 and healed.total("parse_failures") == 0
    assert store.count() == EXPECTED_SYMBOLS
    assert healed.total("inserted") == EXPECTED_SYMBOLS - partial
    with sqlite3.connect(db) as conn:  # zero duplicates: one row per symbol, one search document per notice
        assert conn.execute("SELECT count(*) - count(DISTINCT symbol) FROM notices").fetchone() == (0,)
    assert store.integrity_check() == []
    store.close()

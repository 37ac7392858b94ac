"""The notified documents: fetched once, size-capped, domain-allowed, raw kept on failure, text searchable."""

from __future__ import annotations

import shutil

import pytest
import yaml

from archive.base import SearchQuery
from archive.documents import NotifiedDocuments
from archive.raw_pages import RawPages
from archive.text import MARK_END, MARK_START
from crawlers.replay import ReplayServer
from tbtwatch.settings import PROJECT_ROOT, get_settings

from .conftest import crawl, store

pytestmark = pytest.mark.slow
CAN = "G/TBT/N/CAN/750"
ATTACHMENTS = "/crnattachments/2025/TBT/"


def test_linked_drafts_are_fetched_once_and_a_phrase_inside_finds_the_notice(fresh_home):
    with ReplayServer() as server:
        first = crawl(server, "eping_api", "notified_docs", args=("eping_api.page_size=2",))
        fetched = [r for r in server.requests if r.startswith(ATTACHMENTS)]
        again = crawl(server, "eping_api", "notified_docs", args=("eping_api.page_size=2",))
        refetched = [r for r in server.requests if r.startswith(ATTACHMENTS)][len(fetched):]
        elsewhere = [r for r in server.requests if "regulations.gov" in r or "Regulations-Laws" in r]
    assert first.sources["notified_docs"].items == 2 and not first.sources["notified_docs"].failed
    assert sorted(fetched) == [ATTACHMENTS + "CAN/25_05001_00_e.pdf", ATTACHMENTS + "CAN/25_05001_00_f.pdf"]
    assert refetched == [] and again.sources["notified_docs"].items == 0  # once
    assert elsewhere == []  # the USA's links are on other domains: never fetched

    result = store().search(SearchQuery(text='"contention-based protocol"'))
    assert [hit.notice.symbol for hit in result.hits] == [CAN]  # the phrase is only inside the draft
    passage = result.hits[0].highlights["documents"]
    assert f"{MARK_START}contention-based protocol{MARK_END}" in passage and "5 925-7 125 MHz" in passage

    documents = NotifiedDocuments(get_settings().archive_db)
    assert documents.first_pages(CAN).startswith("Radio Standards Specification RSS-247, Issue 4 (draft)")
    french = [d for d in documents.of(CAN) if d.url.endswith("_f.pdf")][0]
    assert len(french.pages) > 1 and documents.first_pages(CAN, pages=1).count("Cahier des charges") == 1


def test_a_file_over_the_cap_and_a_scan_are_recorded_kept_raw_and_not_fetched_again(fresh_home, tmp_path,
                                                                                      monkeypatch, fixture_copy):
    config = tmp_path / "config"
    config.mkdir()
    sources = yaml.safe_load((PROJECT_ROOT / "config" / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"]["notified_docs"]["max_bytes"] = 2000  # the French draft has 3 pages, about 3 kB
    (config / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("TBTWATCH_PATHS_SOURCES", str(config / "sources.yaml"))
    get_settings.cache_clear()
    scan = fixture_copy / "docs.wto.org/dol2fe/Pages/SS/directdoc/TPKM530A1.pdf"  # a PDF without a text layer
    shutil.copy(scan, fixture_copy / "members.wto.org/crnattachments/2025/TBT/TPKM/final_measure/25_05140_00_x.pdf")
    with ReplayServer(root=fixture_copy) as server:
        report = crawl(server, "eping_api", "cn_wzisps", "notified_docs", args=("eping_api.page_size=2",))
        crawl(server, "notified_docs")
        tries = [r for r in server.requests if r.startswith(ATTACHMENTS)]
    line = report.sources["notified_docs"]
    assert line.items == 3 and line.errors == 1  # the capped file; the scan is a document without text
    documents = {d.url.rsplit("/", 1)[1]: d for d in NotifiedDocuments(get_settings().archive_db).of(CAN)}
    assert documents["25_05001_00_f.pdf"].error == "larger than the 2000-byte cap (max_bytes): not downloaded"
    assert documents["25_05001_00_e.pdf"].pages
    scan = NotifiedDocuments(get_settings().archive_db).of("G/TBT/N/TPKM/530/Add.1")
    assert [d.error for d in scan if d.url.endswith("_x.pdf")] == ["the PDF has no text layer (a scanned image?)"]
    kept = {p.url.rsplit("/", 1)[1]: p for p in RawPages(get_settings().archive_db).failed("notified_docs")}
    assert kept["25_05140_00_x.pdf"].body.startswith(b"%PDF") and "no text layer" in kept["25_05140_00_x.pdf"].error
    assert "cap" in kept["25_05001_00_f.pdf"].error
    assert len(tries) == len(set(tries))  # the second run asked for none of them again

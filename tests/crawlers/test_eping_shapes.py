"""ePing's API fields and bulk-export cells in their real shapes, crawled from the replay server."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.raw_pages import RawPages
from crawlers.cells import find_urls, split_objectives
from crawlers.pipelines.normalise import as_date
from crawlers.replay import ReplayServer
from tbtwatch.settings import get_settings

from .conftest import crawl, store

D = dt.date


@pytest.mark.parametrize("cell, expected", [
    ("Protection of human health or safety, Consumer information, labelling",
     ["Protection of human health or safety", "Consumer information, labelling"]),
    ("Food safety; Animal health\nPlant protection", ["Food safety", "Animal health", "Plant protection"]),
    ("Consumer information, labelling", ["Consumer information, labelling"]),
    ("Safety of toys, dolls", ["Safety of toys, dolls"]),  # not known names: kept as written, not cut
])
def test_objective_cells_split_by_known_names(cell, expected):
    assert split_objectives(cell) == expected


def test_links_joined_by_commas_or_spaces_are_each_kept():
    assert find_urls("https://a.example/1.pdf, https://a.example/2.pdf https://a.example/3.pdf") == [
        "https://a.example/1.pdf", "https://a.example/2.pdf", "https://a.example/3.pdf"]


@pytest.mark.parametrize("cell, expected", [(45859, D(2025, 7, 21)), (45859.0, D(2025, 7, 21)),
                                            ("21/07/2025", D(2025, 7, 21)), (7, None)])
def test_excel_serial_numbers_and_text_dates(cell, expected):
    assert as_date(cell) == expected


@pytest.mark.slow
def test_api_plain_twins_date_texts_code_texts_and_links(fresh_home):
    with ReplayServer() as server:
        report = crawl(server, "eping_api", args=("eping_api.page_size=2",))
    line = report.sources["eping_api"]
    assert not line.failed
    for name in ("countriesAffected", "isOpenForComments", "notifyingMemberCode", "keywords"):
        assert name in line.leftover_names  # read, not mapped: counted and named, never silently dropped
    archive = store()
    can = archive.get("G/TBT/N/CAN/750")
    assert can.title == "Regulations Amending the Radio Equipment Standards (RSS-247)"  # no footnote mark "1"
    assert can.ics_codes == ["33.060.20"] and can.adoption_date == "2025-12-01"
    assert can.entry_into_force == "6 months after adoption"  # no date: the text twin
    assert can.urls[1:] == ["https://members.wto.org/crnattachments/2025/TBT/CAN/25_05001_00_e.pdf",
                            "https://members.wto.org/crnattachments/2025/TBT/CAN/25_05001_00_f.pdf"]
    usa = archive.get("G/TBT/N/USA/2210")
    assert usa.ics_codes == ["29.220.10"]  # icsCodes as a list of strings
    assert usa.urls[1:] == ["https://www.regulations.gov/docket/CPSC-2025-0012",
                            "https://www.cpsc.gov/Regulations-Laws--Standards/button-cell-batteries"]
    assert usa.adoption_date == "To be determined"
    mex = archive.get("G/TBT/N/MEX/560")  # codes only as text
    assert mex.hs_codes == ["851762", "852990"] and mex.ics_codes == ["33.060.01", "33.100.01"]


@pytest.mark.slow
def test_a_refused_key_is_reported_as_403_and_says_so(fresh_home, monkeypatch):
    from tests.fixtures.make_replay import REVOKED_KEY

    monkeypatch.setenv("TBTWATCH_EPING_API_KEY", REVOKED_KEY)
    with ReplayServer() as server:
        report = crawl(server, "eping_api")
    assert report.sources["eping_api"].failed
    [page] = RawPages(get_settings().archive_db).failed("eping_api")
    assert page.status == 403 and page.error.startswith("HTTP 403: the API refused the subscription key")
    assert REVOKED_KEY not in page.error


@pytest.mark.slow
def test_bulk_cells_dotted_codes_text_and_serial_dates_separators_and_links(fresh_home):
    with ReplayServer() as server:
        crawl(server, "eping_bulk")
    archive = store()
    assert archive.get("G/TBT/N/JPN/880").hs_codes == ["850760"]  # "8507.60"
    assert archive.get("G/SPS/N/KOR/820").distribution_date == D(2025, 7, 21)  # "21/07/2025"
    assert archive.get("G/TBT/N/BRA/1600").distribution_date == D(2025, 7, 21)  # 45859
    usa = archive.get("G/TBT/N/USA/2210")
    assert usa.objectives == ["Protection of human health or safety", "Consumer information, labelling"]
    assert [u.split("/")[3] for u in usa.urls] == ["en", "fr", "es"]
    sau = archive.get("G/TBT/N/SAU/1400")  # lists on separate lines of one cell
    assert sau.hs_codes == ["854340", "2404"] and sau.ics_codes == ["65.160", "11.120.99"]
    assert sau.objectives == ["Protection of human health or safety", "Consumer information, labelling"]

"""WTO Documents Online: "#"-joined catalogue fields, real file paths, restricted documents, forms read from PDFs."""

from __future__ import annotations

import pytest

from crawlers.pdftext import PdfTextError, pdf_text
from crawlers.replay import FIXTURE_ROOT, ReplayServer
from crawlers.spiders.wto_docs import split_hash

from .conftest import crawl, store

DOCS = FIXTURE_ROOT / "docs.wto.org/dol2fe/Pages/SS/directdoc"
LONG_URL = ("https://www.federalregister.gov/documents/2025/07/18/2025-13456/safety-standard-for-button-cell-or-coin-"
            "batteries-and-consumer-products-containing-such-batteries")


def test_hash_joined_fields_split_in_order():
    assert split_hash("Burundi#Kenya# Rwanda#") == ["Burundi", "Kenya", "Rwanda"]


def test_form_pdf_text_keeps_numbered_fields_and_rejoins_a_wrapped_url():
    text = pdf_text((DOCS / "USA2210.pdf").read_bytes())
    assert "4.\nProducts covered (provide HS or CCCN where applicable, otherwise national tariff heading. ICS " \
           "numbers may be provided in addition" in text  # the label wrapped in its cell, unwrapped
    assert LONG_URL in text.split()


def test_a_scan_or_a_non_pdf_says_so():
    with pytest.raises(PdfTextError, match="no text layer"):
        pdf_text((DOCS / "TPKM530A1.pdf").read_bytes())
    with pytest.raises(PdfTextError, match="not a readable PDF"):
        pdf_text(b"<html>maintenance</html>")


@pytest.mark.slow
def test_catalogue_crawl_reads_pdfs_skips_restricted_and_splits_joint_records(fresh_home):
    with ReplayServer() as server:
        report = crawl(server, "wto_docs")
        requests = list(server.requests)
    line = report.sources["wto_docs"]
    assert not line.failed and line.errors == 0 and line.parse_failures == 0
    assert line.restricted == 1 and not any("ARG999" in r for r in requests)  # never even asked for
    assert line.word_fallbacks == 1  # the scanned addendum PDF: its Word version was read
    assert any("filename=Q%3A%2FG%2FTBTN25%2FUSA2210.pdf" in r for r in requests)  # the catalogue's own path
    archive = store()
    assert archive.get("G/TBT/N/ARG/999") is None
    usa = archive.get("G/TBT/N/USA/2210")  # read from the PDF
    assert usa.source == "wto_docs" and usa.member == "UNITED STATES OF AMERICA"
    assert usa.hs_codes == ["850610", "850680"] and usa.ics_codes == ["29.220.10"]
    assert usa.objectives == ["Protection of human health or safety", "Consumer information, labelling"]
    assert usa.entry_into_force == "180 days after publication of the final rule"
    assert LONG_URL in usa.urls
    assert [u.rsplit("=", 1)[1][0] for u in usa.urls[:3]] == ["Q", "R", "S"]  # every language's file, English first
    addendum = archive.get("G/TBT/N/TPKM/530/Add.1")  # from the Word fallback
    assert addendum.adoption_date == "2025-07-15" and addendum.title == "Inspection requirements for portable power banks"
    for symbol, member in (("G/TBT/N/BDI/560", "Burundi"), ("G/TBT/N/KEN/1850", "Kenya"),
                           ("G/TBT/N/UGA/2100", "Uganda")):
        notice = archive.get(symbol)  # one joint form, "#"-joined in the catalogue: each member its own notice
        assert notice.member == member and notice.hs_codes == ["9503"] and len(notice.symbols) == 5

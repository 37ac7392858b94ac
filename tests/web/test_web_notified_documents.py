"""The notified documents on the web: a phrase found only inside a draft, shown as its passage, escaped."""

from __future__ import annotations

import pytest
from webtools import day

SYMBOL = "G/TBT/N/CAN/9750"
URL = "https://members.wto.org/crnattachments/2025/TBT/CAN/25_09750_00_e.pdf"
FAILED = "https://members.wto.org/crnattachments/2025/TBT/CAN/25_09750_00_f.pdf"


@pytest.fixture(scope="module", autouse=True)
def notice_with_documents(web_settings):
    from archive.documents import NotifiedDocument, NotifiedDocuments
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    store = SqliteStore(web_settings.archive_db)
    store.upsert([notice_from_dict({"symbol": SYMBOL, "member": "Canada", "title": "Radio equipment standard",
                                    "distribution_date": day(-1), "urls": [URL, FAILED]})])
    documents = NotifiedDocuments(web_settings.archive_db)
    documents.save(NotifiedDocument(URL, [SYMBOL], 200, "application/pdf", 1579, [
        "1. Scope.", "5.3 Devices shall implement a listen-before-talk mechanism <script>alert(1)</script>."]))
    documents.save(NotifiedDocument(FAILED, [SYMBOL], None, None, 0, [], "larger than the cap <b>x</b>"))
    store.reindex([SYMBOL])


def test_search_finds_a_phrase_inside_the_document_and_says_where(client):
    page = client.get("/search", params={"q": '"listen-before-talk"', "lang": "en"}).text
    assert f'href="/notices/{SYMBOL}"' in page
    snippet = page[page.index('class="snippet document-snippet"'):]
    assert "Found in the notified document" in snippet and "<mark>listen-before-talk</mark>" in snippet
    assert "<script>alert" not in page and "&lt;script&gt;" in snippet


def test_notice_page_lists_its_documents_and_the_matching_passage(client):
    page = client.get(f"/notices/{SYMBOL}", params={"q": "listen-before-talk", "lang": "en"}).text
    listed = page[page.index('class="notified-documents"'):]
    assert "2 pages read" in listed and "not read: larger than the cap &lt;b&gt;x&lt;/b&gt;" in listed
    passage = page[page.index('class="document-passage"'):]
    assert f'cite="{URL}"' in passage and "<mark>listen-before-talk</mark>" in passage
    assert "document-passage" not in client.get(f"/notices/{SYMBOL}").text  # no words, no passage

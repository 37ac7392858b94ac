"""WTO Documents Online: the catalogue (XML, no key) and each notification document's form text.

The catalogue (``GetXMLResults.aspx?DataSource=Cat&query=...``) answers in
Autonomy ACI XML: ``autn:totalhits`` and one ``autn:hit`` per document whose
``DOCUMENT`` element holds SYMBOL, ISSUINGDATE (dd/mm/yyyy), CATTITLE,
FILENAMESA and CONCERNEDCOUNTRIES. Each hit gives a thin notice, and the Word
version of the document gives the full form, read by the form parser.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from lxml import etree
from scrapy.http import Response

from crawlers.base import PagedApiSpider
from crawlers.forms import parse_notification_form
from crawlers.items import NoticeItem
from tbtwatch.dates import parse_date

ACI = {"autn": "http://schemas.autonomy.com/aci/"}
WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCUMENT_PATH = "/dol2fe/Pages/SS/directdoc.aspx"
MAPPED = {"SYMBOL", "ISSUINGDATE", "CATTITLE", "FILENAMESA", "CONCERNEDCOUNTRIES"}


class WtoDocsSpider(PagedApiSpider):
    name = "wto_docs"
    kind = "xml_catalogue"

    def page_params(self, page: int) -> dict[str, Any]:
        query = self.source.options.get("query", "@Symbol=G/TBT/N/*")
        if self.since:  # the catalogue's own date filter; the window is applied again to each record
            query = f"({query}) AND (@meta_Date>={self.since:%d/%m/%Y})"
        return {"DataSource": "Cat", "query": query, "Language": "English",
                "XMLMaxHitsPerPage": self.page_size, "XMLStart": (page - 1) * self.page_size}

    def decode(self, response: Response) -> Any:
        return etree.fromstring(response.body, parser=etree.XMLParser(resolve_entities=False, no_network=True))

    def records(self, data: Any) -> list[Any]:
        return [hit.find(".//DOCUMENT") for hit in data.iterfind(".//autn:hit", ACI)
                if hit.find(".//DOCUMENT") is not None]

    def total(self, data: Any) -> int | None:
        text = data.findtext(".//autn:totalhits", namespaces=ACI)
        return int(text) if text and text.strip().isdigit() else None

    def record_fields(self, record: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        values = {child.tag: (child.text or "").strip() for child in record}
        symbol = values.get("SYMBOL", "").split("#")[0].strip()
        fields = {
            "symbol": symbol,
            "distribution_date": parse_date(values.get("ISSUINGDATE", "").split(" ")[0]),
            "title": values.get("CATTITLE", ""),
            "member": values.get("CONCERNEDCOUNTRIES", ""),
            "language": self.source.language,
            "url": self.source.base_url + DOCUMENT_PATH + "?filename=" + values.get("FILENAMESA", ""),
        }
        leftovers = {k: v for k, v in values.items() if k not in MAPPED and v}
        return fields, leftovers

    def notice(self, response, fields, leftovers=None, *, sparse=False, page=None):
        """Catalogue records are thin (a catalogue title, no form): they never overwrite the document's text."""
        return super().notice(response, fields, leftovers, sparse=sparse or response.meta["handler"] == "parse_start",
                              page=page)

    def record_requests(self, record: Any, item: NoticeItem) -> Iterator[Any]:
        filename = (record.findtext("FILENAMESA") or "").strip()
        if filename:
            word = re.sub(r"\.pdf$", ".DOCX", filename, flags=re.IGNORECASE)
            yield self.follow(DOCUMENT_PATH, "parse_document", params={"filename": word, "Open": "True"},
                              distribution=item.fields.get("distribution_date"))

    def parse_document(self, response: Response, distribution: dt.date | None = None) -> Iterator[Any]:
        fields = parse_notification_form(word_text(response.body), language=self.source.language,
                                         distribution_date=distribution)
        item = self.notice(response, fields)
        if item:
            yield item


def word_text(body: bytes) -> str:
    """The paragraphs of a .docx as lines (tabs kept), which is how the form's labels are laid out."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        xml = archive.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"not a Word (.docx) document: {exc}") from None
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    lines = []
    for paragraph in root.iter(f"{WORD}p"):
        parts = []
        for node in paragraph.iter(f"{WORD}t", f"{WORD}tab", f"{WORD}br"):
            parts.append(node.text or "" if node.tag == f"{WORD}t" else ("\t" if node.tag == f"{WORD}tab" else "\n"))
        lines.append("".join(parts))
    return "\n".join(lines)

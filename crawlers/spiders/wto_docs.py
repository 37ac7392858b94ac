"""WTO Documents Online: the catalogue (XML, no key) and each notification read from its PDF.

The catalogue (``GetXMLResults.aspx?DataSource=Cat&query=...``) answers in
Autonomy ACI XML: ``autn:totalhits`` and one ``autn:hit`` per document whose
``DOCUMENT`` element holds SYMBOL, ISSUINGDATE (dd/mm/yyyy), CATTITLE,
FILENAMESA, CONCERNEDCOUNTRIES and RESTRICTIONTYPENAME. A joint notification's
SYMBOL and CONCERNEDCOUNTRIES join their parts with "#" (``Burundi#Kenya#...``);
FILENAMESA joins the document's files with "#", the first being the main one
(``Q:/G/TBTN25/USA2210.pdf``; q/r/s = English/French/Spanish). Restricted
documents (RESTRICTIONTYPENAME ``R``) are skipped and counted.

Each hit gives a thin notice; the main file, a PDF as every public reader of the
site fetches it, gives the full form (``crawlers.pdftext``, then the form
parser). Only when the PDF yields no form is the Word file under the same name
(``.DOCX``, unproven on the live site) asked for instead.
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
from crawlers.forms import FormError, parse_notification_form
from crawlers.items import NoticeItem
from crawlers.pdftext import PdfTextError, pdf_text
from tbtwatch.dates import parse_date

ACI = {"autn": "http://schemas.autonomy.com/aci/"}
WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCUMENT_PATH = "/dol2fe/Pages/SS/directdoc.aspx"
MAPPED = {"SYMBOL", "ISSUINGDATE", "CATTITLE", "FILENAMESA", "CONCERNEDCOUNTRIES", "RESTRICTIONTYPENAME"}
RESTRICTED = "R"


def split_hash(value: str) -> list[str]:
    """The parts of a catalogue field joined by "#", in order."""
    return [part.strip() for part in (value or "").split("#") if part.strip()]


def document_url(base_url: str, filename: str) -> str:
    return f"{base_url}{DOCUMENT_PATH}?filename={filename}"


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
        documents = [hit.find(".//DOCUMENT") for hit in data.iterfind(".//autn:hit", ACI)]
        public = [d for d in documents if d is not None and (d.findtext("RESTRICTIONTYPENAME") or "").strip()
                  != RESTRICTED]
        self.count("restricted", sum(d is not None for d in documents) - len(public))
        return public

    def total(self, data: Any) -> int | None:
        text = data.findtext(".//autn:totalhits", namespaces=ACI)
        return int(text) if text and text.strip().isdigit() else None

    def record_fields(self, record: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        values = {child.tag: (child.text or "").strip() for child in record}
        files = split_hash(values.get("FILENAMESA", ""))
        countries = split_hash(values.get("CONCERNEDCOUNTRIES", ""))
        fields = {
            "symbol": ", ".join(split_hash(values.get("SYMBOL", ""))),  # joint: one notice per symbol
            "distribution_date": parse_date(values.get("ISSUINGDATE", "").split(" ")[0]),
            "title": values.get("CATTITLE", ""),
            "member": ", ".join(countries),
            "language": self.source.language,
            "urls": [document_url(self.source.base_url, name) for name in files],
        }
        leftovers = {k: v for k, v in values.items() if k not in MAPPED and v}
        return fields, leftovers

    def notices(self, response, fields, leftovers=None, *, sparse=False, page=None):
        """Catalogue records are thin (a catalogue title, no form): they never overwrite the document's text."""
        return super().notices(response, fields, leftovers,
                               sparse=sparse or response.meta["handler"] == "parse_start", page=page)

    def record_requests(self, record: Any, item: NoticeItem) -> Iterator[Any]:
        files = split_hash(record.findtext("FILENAMESA") or "")
        if files:
            yield self.follow(DOCUMENT_PATH, "parse_document", params={"filename": files[0], "Open": "True"},
                              distribution=item.fields.get("distribution_date"), filename=files[0],
                              joint=item.fields.get("symbols") or [])

    def parse_document(self, response: Response, distribution: dt.date | None = None, filename: str = "",
                       joint: list[str] | None = None) -> Iterator[Any]:
        """The form read from the PDF; the Word file of the same name when the PDF gives none."""
        try:
            fields = parse_notification_form(pdf_text(response.body), language=self.source.language,
                                             distribution_date=distribution)
        except (PdfTextError, FormError) as exc:
            word = re.sub(r"\.pdf$", ".DOCX", filename, flags=re.IGNORECASE)
            if word == filename:
                raise
            self.count("word_fallbacks")
            self.logger.info("source %s: %s gave no form (%s); asking for %s", self.name, filename, exc, word)
            yield self.follow(DOCUMENT_PATH, "parse_word", params={"filename": word, "Open": "True"},
                              distribution=distribution, joint=joint)
            return
        yield from self.notices(response, as_joint(fields, joint))

    def parse_word(self, response: Response, distribution: dt.date | None = None,
                   joint: list[str] | None = None) -> Iterator[Any]:
        fields = parse_notification_form(word_text(response.body), language=self.source.language,
                                         distribution_date=distribution)
        yield from self.notices(response, as_joint(fields, joint))


def as_joint(fields: dict[str, Any], joint: list[str] | None) -> dict[str, Any]:
    """A joint notification's one form stands for each of its symbols (the catalogue record lists them)."""
    if joint and len(joint) > 1 and fields.get("symbol") in joint:
        return {**fields, "symbol": ", ".join(joint)}
    return fields


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

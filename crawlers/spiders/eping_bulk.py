"""ePing's bulk export: every SPS and TBT notification since 1995 in one spreadsheet, regenerated daily.

Header names as the file writes them (see tests/fixtures/README.md for where
they were learnt). The WTO may reorder or add columns: columns are found by
name, and a column no field claims is kept as a leftover and counted. Cells are
passed on as written (dotted HS codes, Excel or dd/mm/yyyy dates, lists joined
by an unknown separator): the normalise pipeline reads them. A joint
notification is one row whose symbol cell joins every symbol (``crawlers.joint``).
"""

from __future__ import annotations

from typing import Any

from crawlers.base import SpreadsheetSpider

LINKS = ("link_en", "link_fr", "link_es", "notified_document")


class EpingBulkSpider(SpreadsheetSpider):
    name = "eping_bulk"
    columns = {
        "symbol": ("Document symbol",),
        "member": ("Notifying Member",),
        "title": ("Title",),
        "description": ("Description",),
        "products": ("Products covered",),
        "hs_codes": ("HS code(s)",),
        "ics_codes": ("ICS code(s)",),
        "objectives": ("Objectives",),
        "distribution_date": ("Distribution date",),
        "comment_deadline": ("Final date for comments",),
        "adoption_date": ("Proposed date of adoption",),
        "entry_into_force": ("Proposed date of entry into force",),
        "link_en": ("Link to notification(EN)",),
        "link_fr": ("Link to notification(FR)",),
        "link_es": ("Link to notification(ES)",),
        "notified_document": ("Notified document",),
    }
    required = ("symbol", "title", "distribution_date")

    def row_fields(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        fields = {k: values.get(k) for k in ("symbol", "member", "title", "description", "products",
                                             "distribution_date", "comment_deadline", "adoption_date",
                                             "entry_into_force")}
        for name in ("hs_codes", "ics_codes", "objectives"):
            fields[name] = str(values.get(name) or "")
        fields["urls"] = [str(values[k]) for k in LINKS if values.get(k)]
        fields["language"] = self.source.language
        return fields, dict(values.get("_unmapped") or {})

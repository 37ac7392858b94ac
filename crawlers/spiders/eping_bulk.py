"""ePing's bulk export: every SPS and TBT notification since 1995 in one spreadsheet, regenerated daily.

Header names as the file writes them (see tests/fixtures/README.md for where
they were learnt). The WTO may reorder or add columns: columns are found by
name, and a column no field claims is kept as a leftover and counted.
"""

from __future__ import annotations

import re
from typing import Any

from crawlers.base import SpreadsheetSpider

_SPLIT = re.compile(r"\s*[;\n]\s*")


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
        "notified_document": ("Notified document",),
    }
    required = ("symbol", "title", "distribution_date")

    def row_fields(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        fields = {k: values.get(k) for k in ("symbol", "member", "title", "description", "products",
                                             "distribution_date", "comment_deadline", "adoption_date",
                                             "entry_into_force")}
        fields["hs_codes"] = str(values.get("hs_codes") or "")
        fields["ics_codes"] = [c for c in _SPLIT.split(str(values.get("ics_codes") or "")) if c]
        fields["objectives"] = [c for c in _SPLIT.split(str(values.get("objectives") or "")) if c]
        fields["urls"] = [str(u) for u in (values.get("link_en"), values.get("notified_document")) if u]
        fields["language"] = self.source.language
        return fields, dict(values.get("_unmapped") or {})

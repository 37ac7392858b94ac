"""ePing notification search on the WTO API portal: JSON, paged, incremental by distribution date.

Needs a subscription key (``TBTWATCH_EPING_API_KEY``), sent in the
``Ocp-Apim-Subscription-Key`` header; without one the spider says so and reads
nothing. The gateway answers 401 when no key was sent and 403 when the key is
refused; the error says which.

Text fields arrive as HTML fragments with plain-text twins (``titlePlain``...),
which are preferred; proposed dates have text twins (``...DateText``: "To be
determined") kept when there is no date; HS and ICS codes come as lists or as
text (``hsCodeText``, ``icsCodeText``); ``notifiedDocumentLink`` may join several
URLs. A joint notification is one item whose ``documentSymbol`` joins every
symbol (``crawlers.joint``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.spidermiddlewares.httperror import HttpError

from crawlers.base import JsonApiSpider, settings_key
from crawlers.items import PageItem

KEY_HEADER = "Ocp-Apim-Subscription-Key"
MAPPED = {"documentSymbol", "notifyingMember", "distributionDate", "commentDeadlineDate", "title", "titlePlain",
          "description", "descriptionPlain", "productsFreeText", "productsFreeTextPlain", "hsCodes", "hsCodeText",
          "icsCodes", "icsCodeText", "objectives", "linkToNotification", "notifiedDocumentLink",
          "proposedAdoptionDate", "proposedAdoptionDateText", "proposedEntryIntoForceDate",
          "proposedEntryIntoForceDateText", "id", "area"}
KEY_ERRORS = {401: "no subscription key reached the API (set TBTWATCH_EPING_API_KEY)",
              403: "the API refused the subscription key (wrong, expired, or not subscribed to the ePing product; "
                   "check TBTWATCH_EPING_API_KEY on apiportal.wto.org)"}


def _first(record: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` with a value (a plain-text twin before its HTML, a date before its text)."""
    for key in keys:
        if record.get(key) not in (None, "", []):
            return record[key]
    return None


def _codes(items: Any, text: Any) -> Any:
    """Codes from a list of ``{code}`` dicts or of strings, else the text twin (the normalise pipeline reads it)."""
    codes = [str(c.get("code", "")) if isinstance(c, dict) else str(c) for c in items or []]
    return [c for c in codes if c] or str(text or "")


class EpingApiSpider(JsonApiSpider):
    name = "eping_api"

    def start_requests_for_source(self):
        if not self.api_key:
            message = ("source eping_api: no API key, skipped; set TBTWATCH_EPING_API_KEY to a WTO API portal "
                       "subscription key (apiportal.wto.org, product ePing) to enable it")
            self.logger.warning(message)
            self.crawler.stats.set_value("tbtwatch/skipped", message)
            return
        yield from super().start_requests_for_source()

    @property
    def api_key(self) -> str:
        return settings_key(self.source.options.get("requires_key", "eping_api_key"))

    def api_headers(self) -> dict[str, str]:
        return {KEY_HEADER: self.api_key, "Accept": "application/json"}

    def on_error(self, failure) -> Iterator[PageItem]:
        """A 401 or 403 says what is wrong with the key (the key itself is never written anywhere)."""
        for page in super().on_error(failure):
            if isinstance(failure.value, HttpError) and failure.value.response.status in KEY_ERRORS:
                page.error += ": " + KEY_ERRORS[failure.value.response.status]
            yield page

    def page_params(self, page: int) -> dict[str, Any]:
        params: dict[str, Any] = {"language": 1, "page": page, "pageSize": self.page_size}
        if self.since:
            params["distributionDateFrom"] = self.since.isoformat()
        if self.until:
            params["distributionDateTo"] = self.until.isoformat()
        return params

    def records(self, data: Any) -> list[Any]:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise ValueError("the response has no 'items' list; the API's shape may have changed")
        return data["items"]

    def total(self, data: Any) -> int | None:
        value = data.get("totalCount", data.get("total"))
        return int(value) if value is not None else None

    def record_fields(self, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        fields = {
            "symbol": (record.get("documentSymbol") or "").strip(),
            "member": record.get("notifyingMember") or "",
            "distribution_date": record.get("distributionDate"),
            "comment_deadline": record.get("commentDeadlineDate"),
            "title": _first(record, "titlePlain", "title"),
            "description": _first(record, "descriptionPlain", "description"),
            "products": _first(record, "productsFreeTextPlain", "productsFreeText"),
            "hs_codes": _codes(record.get("hsCodes"), record.get("hsCodeText")),
            "ics_codes": _codes(record.get("icsCodes"), record.get("icsCodeText")),
            "objectives": [o.get("name", "") if isinstance(o, dict) else str(o) for o in record.get("objectives") or []],
            "adoption_date": _first(record, "proposedAdoptionDate", "proposedAdoptionDateText"),
            "entry_into_force": _first(record, "proposedEntryIntoForceDate", "proposedEntryIntoForceDateText"),
            "urls": [u for u in (record.get("linkToNotification"), record.get("notifiedDocumentLink")) if u],
            "language": self.source.language,
        }
        leftovers = {k: v for k, v in record.items() if k not in MAPPED and v not in (None, "", [], {})}
        return fields, leftovers

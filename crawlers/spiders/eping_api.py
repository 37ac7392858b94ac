"""ePing notification search on the WTO API portal: JSON, paged, incremental by distribution date.

Needs a subscription key (``TBTWATCH_EPING_API_KEY``), sent in the
``Ocp-Apim-Subscription-Key`` header; without one the spider says so and reads nothing.
Text fields arrive as HTML fragments; the normalise pipeline strips them.
"""

from __future__ import annotations

from typing import Any

from crawlers.base import JsonApiSpider, settings_key

KEY_HEADER = "Ocp-Apim-Subscription-Key"
MAPPED = {"documentSymbol", "notifyingMember", "distributionDate", "commentDeadlineDate", "title", "description",
          "productsFreeText", "hsCodes", "icsCodes", "objectives", "linkToNotification", "notifiedDocumentLink",
          "proposedAdoptionDate", "proposedEntryIntoForceDate", "id", "area"}


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
            "title": record.get("title"),
            "description": record.get("description"),
            "products": record.get("productsFreeText"),
            "hs_codes": [str(c.get("code", "")) for c in record.get("hsCodes") or [] if isinstance(c, dict)],
            "ics_codes": [str(c.get("code", "")) for c in record.get("icsCodes") or [] if isinstance(c, dict)],
            "objectives": [o.get("name", "") if isinstance(o, dict) else str(o) for o in record.get("objectives") or []],
            "adoption_date": record.get("proposedAdoptionDate"),
            "entry_into_force": record.get("proposedEntryIntoForceDate"),
            "urls": [u for u in (record.get("linkToNotification"), record.get("notifiedDocumentLink")) if u],
            "language": self.source.language,
        }
        leftovers = {k: v for k, v in record.items() if k not in MAPPED and v not in (None, "", [], {})}
        return fields, leftovers

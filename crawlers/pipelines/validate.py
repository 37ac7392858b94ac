"""Validate against the notice model; an invalid notice is dropped loudly and its page kept with the error.

Leftover fields (read but not mapped to the model) are counted and logged by
name, so a source that changes its format shows up in the crawl report.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from archive.raw_pages import RawPages
from crawlers.items import NoticeItem
from crawlers.pipelines.base import CrawlerPipeline
from crawlers.pipelines.raw_page import save_page
from tbtwatch.model import NoticeError, notice_from_dict
from tbtwatch.settings import get_settings


class ValidateNotice(CrawlerPipeline):
    def open_spider(self) -> None:
        self.pages = RawPages(get_settings().archive_db)
        self.leftover_names: dict[str, int] = {}

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        try:
            item.notice = notice_from_dict(item.fields)
        except NoticeError as exc:
            self.count("invalid_notices")
            self.problem(item.page.url if item.page is not None else item.url, str(exc))
            if item.page is not None and not self.checking:
                item.page.error = str(exc)
                save_page(self.pages, item.page)
            raise DropItem(f"source {self.source}: {exc} (page {item.url} kept with the error)") from None
        if item.leftovers:
            self.count("leftover_fields", len(item.leftovers))
            for name in item.leftovers:
                self.leftover_names[name] = self.leftover_names.get(name, 0) + 1
        return item

    def close_spider(self) -> None:
        if self.leftover_names:
            names = ", ".join(f"{k} ({v})" for k, v in sorted(self.leftover_names.items()))
            self.crawler.stats.set_value("tbtwatch/leftover_names", names)
            self.crawler.spider.logger.info("source %s: fields read but not mapped to a notice: %s",
                                            self.source, names)

"""A shape check's record of which expected fields the sampled notices lack (``tbtwatch sources check``).

A record can be valid and still show a source's drift: a renamed date column leaves every notice
without a distribution date. The fields each source must give are its ``check_fields`` option in
config/sources.yaml (default ``DEFAULT_FIELDS``); one that no sampled notice has is reported missing.
"""

from __future__ import annotations

from typing import Any

from crawlers.items import NoticeItem
from crawlers.pipelines.base import CrawlerPipeline

DEFAULT_FIELDS = ("distribution_date", "title")


class CheckShape(CrawlerPipeline):
    def open_spider(self) -> None:
        self.wanted = tuple(self.crawler.spider.source.options.get("check_fields", DEFAULT_FIELDS))
        self.seen: set[str] = set()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, NoticeItem) and item.notice is not None:
            self.count("items")  # a check stores nothing: the store pipeline that counts items does not run
            self.seen.update(name for name in self.wanted if getattr(item.notice, name, None) not in (None, "", []))
        return item

    def close_spider(self) -> None:
        self.crawler.stats.set_value("tbtwatch/missing_fields", [n for n in self.wanted if n not in self.seen])

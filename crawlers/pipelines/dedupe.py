"""One notice per symbol per run: repeats (a list page and a detail page, two pages of an API) merge."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from crawlers.items import NoticeItem
from crawlers.pipelines.base import CrawlerPipeline
from tbtwatch.model import merge_notice


class DeduplicateNotice(CrawlerPipeline):
    def open_spider(self) -> None:
        self.seen: dict[str, NoticeItem] = {}

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        earlier = self.seen.get(item.notice.symbol)
        if earlier is None:
            self.seen[item.notice.symbol] = item
            return item
        if earlier.notice.content_hash() == item.notice.content_hash():
            self.count("duplicates")
            raise DropItem(f"source {self.source}: {item.notice.symbol} already read in this run")
        if item.sparse and not earlier.sparse:
            self.count("duplicates")
            raise DropItem(f"source {self.source}: {item.notice.symbol} already read in full in this run")
        item.notice = merge_notice(earlier.notice, item.notice) if not earlier.sparse else item.notice
        self.seen[item.notice.symbol] = item
        return item

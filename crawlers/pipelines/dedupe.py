"""One notice per symbol per run: repeats (a list page and a detail page, two pages of an API) merge."""

from __future__ import annotations

import zlib
from typing import Any

from scrapy.exceptions import DropItem

from crawlers.items import NoticeItem
from crawlers.pipelines.base import CrawlerPipeline
from tbtwatch.model import Notice, merge_notice


class DeduplicateNotice(CrawlerPipeline):
    def open_spider(self) -> None:
        # Only what a repeat needs, the notice (as compressed JSON: repeats are rare) and whether it was
        # sparse, not the item with its raw fields and page: over a 100,000-row workbook the items held
        # 1.2 GB until the run ended, the notices themselves 0.4 GB.
        self.seen: dict[str, tuple[bytes, bool]] = {}

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        earlier = self.seen.get(item.notice.symbol)
        if earlier is None:
            self._remember(item)
            return item
        earlier_notice, earlier_sparse = Notice.from_stored(zlib.decompress(earlier[0])), earlier[1]
        if earlier_notice.content_hash() == item.notice.content_hash():
            self.count("duplicates")
            raise DropItem(f"source {self.source}: {item.notice.symbol} already read in this run")
        if item.sparse and not earlier_sparse:
            self.count("duplicates")
            raise DropItem(f"source {self.source}: {item.notice.symbol} already read in full in this run")
        item.notice = merge_notice(earlier_notice, item.notice) if not earlier_sparse else item.notice
        self._remember(item)
        return item

    def _remember(self, item: NoticeItem) -> None:
        self.seen[item.notice.symbol] = (zlib.compress(item.notice.model_dump_json().encode(), 1), item.sparse)

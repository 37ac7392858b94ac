"""What every pipeline shares: the crawler (for stats) and the spider's source name."""

from __future__ import annotations

from typing import Any


class CrawlerPipeline:
    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CrawlerPipeline":
        return cls(crawler)

    @property
    def source(self) -> str:
        return self.crawler.spider.name

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"tbtwatch/{key}", n)

"""What every pipeline shares: the crawler (for stats) and the spider's source name."""

from __future__ import annotations

from typing import Any

from crawlers.report import note_problem


class CrawlerPipeline:
    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CrawlerPipeline":
        return cls(crawler)

    @property
    def source(self) -> str:
        return self.crawler.spider.name

    @property
    def checking(self) -> bool:
        """A shape check (``tbtwatch sources check``): read and judge, store nothing."""
        return bool(getattr(self.crawler.spider, "check", False))

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"tbtwatch/{key}", n)

    def problem(self, where: str, reason: str) -> None:
        """One record or page that was not stored, for the crawl report (``crawlers.report.note_problem``)."""
        note_problem(self.crawler.stats, where, reason)

"""Keep every fetched page (and every page that failed to parse, with its error) in the archive."""

from __future__ import annotations

from typing import Any

from archive.raw_pages import RawPages
from crawlers.items import PageItem
from crawlers.pipelines.base import CrawlerPipeline
from tbtwatch.settings import get_settings


class StoreRawPage(CrawlerPipeline):
    """Saves ``PageItem``s; a failed page is what a parser fix is later replayed over. A shape check
    (``tbtwatch sources check``) stores nothing: its failed pages are only named in its report."""

    def open_spider(self) -> None:
        self.pages = RawPages(get_settings().archive_db)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            if not self.checking:
                save_page(self.pages, item)
                self.count("raw_pages_saved")
            if item.error:
                self.problem(item.url, item.error)
        return item


def save_page(pages: RawPages, page: PageItem) -> int:
    return pages.save(page.source, page.url, page.body, status=page.status, content_type=page.content_type,
                      error=page.error, symbols=page.symbols)

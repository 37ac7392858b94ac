"""Upsert notices into the archive in batches; an unchanged re-crawl changes nothing.

Thin records (``sparse``: feed entries, catalogue lines) only add notices the
archive does not have, so they never overwrite a form's text. When a source of
lower ``rank`` reads a notice that a higher-ranked source wrote in the same
language, the stored values win and the new read only fills gaps, so sources
do not overwrite each other back and forth from run to run. A read in another
language becomes a translation only (``as_translation``).
"""

from __future__ import annotations

from typing import Any

from archive.backends import open_store
from archive.batches import upsert_isolating
from archive.raw_pages import RawPages
from crawlers.items import NoticeItem, PageItem
from crawlers.pipelines.base import CrawlerPipeline
from crawlers.pipelines.raw_page import save_page
from crawlers.sources import load_sources
from tbtwatch.model import Notice, merge_notice
from tbtwatch.settings import get_settings

BATCH = 200
KEEP_ON_TRANSLATION = tuple(f for f in Notice.model_fields
                            if f not in {"symbol", "title", "description", "products", "language", "translations",
                                         "fetched_at", "dates_read_from_text"})


def as_translation(notice: Notice, stored: Notice) -> Notice:
    """A read in another language as a translation only: the stored values (dates, member name as the primary
    language writes it, ``source`` of the primary text) stay; the translation fills only what is missing, and
    adds the links it gives (a portal links the member's own-language text of the draft, ``..._x.pdf``).

    Dates the stored notice read from its text are not kept: the archive's merge reads them again from both
    texts, and a date a source gave is never marked as read from a text."""
    kept = {f: getattr(stored, f) for f in KEEP_ON_TRANSLATION
            if getattr(stored, f) not in (None, "", [], {}) and f not in stored.dates_read_from_text}
    kept["dates_read_from_text"] = [f for f in notice.dates_read_from_text if f not in kept]
    kept["urls"] = list(dict.fromkeys([*stored.urls, *notice.urls]))
    return notice.model_copy(update=kept)


class UpsertNotice(CrawlerPipeline):
    def open_spider(self) -> None:
        self.store = open_store(get_settings())
        self.pages = RawPages(get_settings().archive_db)
        self.batch: dict[str, Notice] = {}
        self.batch_pages: dict[str, PageItem | None] = {}
        self.ranks = {name: source.rank for name, source in load_sources().items()}

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        self.count("items")
        notice = item.notice
        if notice.symbol in self.batch:
            self.flush()  # a second version in the same batch: store the first so the merge sees it
        stored = self.store.get(notice.symbol)
        if item.sparse and stored is not None:
            self.count("unchanged")
            return item
        if stored is not None and stored.language == notice.language and self._outranks(stored.source):
            notice = merge_notice(notice, stored)
        elif stored is not None and stored.language != notice.language:
            notice = as_translation(notice, stored)
        self.batch[notice.symbol] = notice
        self.batch_pages[notice.symbol] = item.page
        if len(self.batch) >= BATCH:
            self.flush()
        return item

    def _outranks(self, other_source: str) -> bool:
        return self.ranks.get(other_source, 0) > self.ranks.get(self.source, 0)

    def flush(self) -> None:
        if not self.batch:
            return
        notices = list(self.batch.values())
        result, refused = upsert_isolating(self.store, notices)
        for position, error in refused:
            self._refuse(notices[position], error)
        self.batch.clear()
        self.batch_pages.clear()
        self.count("inserted", len(result.inserted))
        self.count("updated", len(result.updated))
        self.count("unchanged", len(result.unchanged))
        if result.changed:
            changed = self.crawler.stats.get_value("tbtwatch/changed") or []
            self.crawler.stats.set_value("tbtwatch/changed", [*changed, *result.changed])
            self.crawler.spider.logger.info("source %s: new %s; updated %s", self.source,
                                            ", ".join(result.inserted) or "-", ", ".join(result.updated) or "-")

    def _refuse(self, notice: Notice, error: str) -> None:
        """A notice the archive would not take: counted as invalid, its page kept with the error (the rest of
        its batch is stored)."""
        self.count("invalid_notices")
        page = self.batch_pages.get(notice.symbol)
        if page is not None:
            page.error = error
            save_page(self.pages, page)
        self.crawler.spider.logger.warning("source %s: the archive refused %s (page %s kept with the error)",
                                           self.source, error, page.url if page else "-")

    def close_spider(self) -> None:
        self.flush()
        self.store.close()

"""Save a notified document's text (or why it has none) and index it with its notices."""

from __future__ import annotations

from typing import Any

from archive.documents import NotifiedDocuments
from archive.sqlite_store import SqliteStore
from crawlers.items import DocumentItem
from crawlers.pipelines.base import CrawlerPipeline
from tbtwatch.settings import get_settings


class StoreDocument(CrawlerPipeline):
    """Into the SQLite archive, the system of record (the Elasticsearch copy does not index documents yet)."""

    def open_spider(self) -> None:
        settings = get_settings()
        self.documents = NotifiedDocuments(settings.archive_db)
        self.store = SqliteStore(settings.archive_db)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem):
            return item
        self.count("items")
        self.documents.save(item)
        if item.pages:
            self.store.reindex(item.symbols)
            self.count("documents_read")
        return item

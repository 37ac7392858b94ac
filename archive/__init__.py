"""Storage and search of notices and assessments.

``open_store(settings)`` returns the configured backend behind the ``NoticeStore``
interface. Operational state that only the embedded database holds (raw pages,
the outbox, subscriptions, reviews) lives in modules beside it that share the
SQLite file through ``archive.db``.
"""

from archive.backends import open_store
from archive.base import Facet, Hit, NoticeStore, SearchQuery, SearchResult, UpsertResult

__all__ = ["Facet", "Hit", "NoticeStore", "SearchQuery", "SearchResult", "UpsertResult", "open_store"]

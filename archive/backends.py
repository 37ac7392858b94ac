"""The store backends by name, and the one function that opens the configured one.

``archive.base`` holds only the interface, so the backends import it and it
imports none of them; this module, beside the backends, is the only place that
knows them all. ``archive.backend`` in the settings picks the entry (the
settings already refuse a name that is not one of these).
"""

from __future__ import annotations

from archive.base import NoticeStore
from archive.elastic import ElasticStore
from archive.sqlite_store import SqliteStore
from tbtwatch.settings import Settings, get_settings

BACKENDS: dict[str, type[NoticeStore]] = {"sqlite": SqliteStore, "elasticsearch": ElasticStore}


def open_store(settings: Settings | None = None) -> NoticeStore:
    """The backend named in the settings (``sqlite`` by default), connected and ready."""
    settings = settings or get_settings()
    return BACKENDS[settings.archive.backend].from_settings(settings)

"""The store contract suite runs on every backend that can run here.

SQLite always; Elasticsearch when ``TBTWATCH_ES_URL`` points at a server.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tbtwatch.settings import get_settings


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request, home, monkeypatch):
    if request.param == "elasticsearch":
        url = os.environ.get("TBTWATCH_ES_URL")
        if not url:
            pytest.skip("Elasticsearch contract tests need a server: set TBTWATCH_ES_URL (none can run here)")
        monkeypatch.setenv("TBTWATCH_ARCHIVE_BACKEND", "elasticsearch")
        monkeypatch.setenv("TBTWATCH_ARCHIVE_ES_INDEX", f"tbtwatch-test-{uuid.uuid4().hex[:8]}")
    get_settings.cache_clear()
    from archive import open_store

    backend = open_store(get_settings())
    yield backend
    if request.param == "elasticsearch":
        backend.drop()  # type: ignore[attr-defined]
    backend.close()

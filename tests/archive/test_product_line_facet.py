"""The product-line facet of the SQLite store: counts follow assessments, re-assessments, late notices and a
rebuild of the search index (one search answers the statistics page's per-line counts)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

import archive.search_index as search_index
from archive.query import build_query
from archive.sqlite_store import SqliteStore
from tbtwatch.model import notice_from_dict


def make(symbol: str, day: str = "2025-03-10"):
    return notice_from_dict({"symbol": symbol, "distribution_date": day, "title": f"Regulation {symbol}"})


def assessed(symbol: str, *lines: str) -> dict:
    return {"symbol": symbol, "level": "medium" if lines else "none", "relevant": bool(lines),
            "product_lines": [{"id": line, "score": 0.9} for line in lines]}


def lines(store, **query) -> dict[str, int]:
    return {f.value: f.count for f in store.search(build_query(facets=True, **query)).facets["product_line"]}


@pytest.fixture
def store(tmp_path):
    backend = SqliteStore(tmp_path / "archive.sqlite3")
    yield backend
    backend.close()


def test_counts_follow_assessments_and_filters(store):
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/EU/2"), make("G/TBT/N/USA/3", "2025-04-01")])
    assert lines(store) == {}
    store.put_assessments([assessed("G/TBT/N/EU/1", "batteries", "toys"), assessed("G/TBT/N/EU/2", "batteries"),
                           assessed("G/TBT/N/USA/3", "batteries", "batteries")])  # a repeated id counts once
    assert lines(store) == {"batteries": 3, "toys": 1}
    assert lines(store, members=["EU"]) == {"batteries": 2, "toys": 1}
    assert lines(store, since=dt.date(2025, 4, 1)) == {"batteries": 1}
    store.put_assessments([assessed("G/TBT/N/EU/1", "e_cigarettes")])  # re-assessed: the old lines go
    assert lines(store) == {"batteries": 2, "e_cigarettes": 1}
    assert lines(store, product_lines=["e_cigarettes"]) == {"e_cigarettes": 1}


def test_an_assessment_stored_before_its_notice_counts_once_the_notice_arrives(store):
    store.put_assessments([assessed("G/TBT/N/EU/9", "toys")])
    assert lines(store) == {}
    store.upsert([make("G/TBT/N/EU/9")])
    assert lines(store) == {"toys": 1}


def test_an_older_search_index_is_rebuilt_with_the_lines(tmp_path):
    path = tmp_path / "archive.sqlite3"
    first = SqliteStore(path)
    first.upsert([make("G/TBT/N/EU/1")])
    first.put_assessments([assessed("G/TBT/N/EU/1", "toys")])
    first.close()
    with sqlite3.connect(path) as conn:  # as a version-1 index left it: no lines column
        conn.execute("ALTER TABLE search_docs DROP COLUMN lines")
        conn.execute("UPDATE search_state SET version = 1")
    assert search_index.SEARCH_VERSION > 1
    reopened = SqliteStore(path)
    assert lines(reopened) == {"toys": 1}
    reopened.close()

"""Search input cannot break out of the query: FTS5 syntax and SQL in every free-text part are data.

Every part of a search reaches SQLite as a bound parameter; the text and the filter values
are quoted FTS5 strings or hashed tag tokens, so a value can only ever match or not match.
"""

from __future__ import annotations

import pytest

from archive.base import QueryError
from archive.query import build_query
from archive.sqlite_store import SqliteStore
from archive.text import parse_query
from tbtwatch.model import notice_from_dict

HOSTILE = ['") OR ("', "* OR tags : xasps0", "{title tags} : x", "NEAR(toys safety, 1)", "toys\" OR \"a",
           "'; DROP TABLE notices; --", "x' OR '1'='1", "\x00", "rowid > 0", "xasps0", "-", "\"\"\"", "toys*"]


@pytest.fixture
def store(tmp_path):
    backend = SqliteStore(tmp_path / "archive.sqlite3")
    backend.upsert([notice_from_dict({"symbol": "G/TBT/N/EU/1", "distribution_date": "2025-03-10",
                                      "title": "Toy safety", "objectives": ["Protection of human health"]}),
                    notice_from_dict({"symbol": "G/SPS/N/JPN/1", "distribution_date": "2025-03-11",
                                      "title": "Pesticide residues"})])
    return backend


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_matches_literally_or_nothing(store, text):
    result = store.search(build_query(text=text, facets=True))
    if parse_query(text):  # never "everything": no operator, column filter or tag reached FTS5
        assert result.total <= 1
    else:  # no word at all: the same as an empty search box, every notice newest first
        assert (result.total, result.sort) == (2, "date")
    assert store.count() == 2 and store.integrity_check() == []


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_are_values(store, value):
    assert store.search(build_query(objectives=[value])).total == 0
    assert store.search(build_query(product_lines=[value])).total == 0
    assert store.search(build_query(text="toy", objectives=[value, "Protection of human health"])).total == 1
    assert store.count() == 2


def test_a_query_fts5_cannot_use_is_refused_with_the_reason(store):
    with pytest.raises(QueryError, match="at most 16"):
        store.search(build_query(text=" ".join(f"w{i}" for i in range(17))))
    with pytest.raises(QueryError, match="only excludes"):
        build_query(text="-toys -safety")

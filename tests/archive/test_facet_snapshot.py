"""The facet columns' snapshot: a new process starts from it and reads only the rows written after it."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import archive.facet_columns as facet_columns
from archive.db import thread_connection
from archive.facet_columns import FacetColumns, read_changes, snapshot_path
from archive.sqlite_store import SqliteStore
from tbtwatch.model import notice_from_dict


def make(symbol: str, hs: str, day: str = "2025-03-10"):
    return notice_from_dict({"symbol": symbol, "distribution_date": day, "title": f"Regulation on toys {symbol}",
                             "description": "", "products": "", "hs_codes": [hs]})


class Recorder:
    """The archive's reader, noting from which sequence each read started."""

    def __init__(self) -> None:
        self.since: list[int] = []

    def __call__(self, conn: sqlite3.Connection, since: int):
        self.since.append(since)
        return read_changes(conn, since)


def counts(columns: FacetColumns, db):
    conn = thread_connection(db)
    keys = [r[0] for r in conn.execute("SELECT key FROM search_docs")]
    found = columns.counts(conn, np.sort(np.array(keys, dtype=np.int64)))
    return {name: {f.value: f.count for f in values} for name, values in found.items()}


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.setattr(facet_columns, "SNAPSHOT_ROWS", 2)
    db = tmp_path / "archive.sqlite3"
    store = SqliteStore(db)
    store.upsert([make("G/TBT/N/EU/1", "850760"), make("G/SPS/N/JPN/1", "1001", "2024-05-01")])
    store.put_assessments([{"symbol": "G/SPS/N/JPN/1", "level": "medium", "relevant": True}])
    return store, db


def test_a_new_process_starts_from_the_snapshot_and_reads_only_what_came_after(archive):
    store, db = archive
    first = FacetColumns(snapshot=snapshot_path(db))
    before = counts(first, db)
    assert snapshot_path(db).exists()
    store.upsert([make("G/TBT/N/CHN/1", "9503")])  # written after the snapshot

    reader = Recorder()
    restarted = FacetColumns(reader, snapshot=snapshot_path(db))
    after = counts(restarted, db)
    seq_at_snapshot = reader.since[0]
    assert seq_at_snapshot > 0  # not a full read (-1)
    assert after["member"] == {**before["member"], "CHN": 1}
    assert after["hs_chapter"] == {"85": 1, "10": 1, "95": 1}
    assert after["level"] == before["level"] == {"medium": 1}
    assert after["year"] == {"2025": 2, "2024": 1}
    assert after == counts(FacetColumns(), db)  # the same as reading every row


def test_a_snapshot_of_another_index_is_ignored(archive):
    store, db = archive
    counts(FacetColumns(snapshot=snapshot_path(db)), db)
    store.rebuild_search_index()  # a new epoch: the old snapshot describes other search keys
    reader = Recorder()
    assert counts(FacetColumns(reader, snapshot=snapshot_path(db)), db)["member"] == {"EU": 1, "JPN": 1}
    assert reader.since == [-1]


def test_an_unreadable_snapshot_is_ignored_with_a_warning(archive, caplog):
    _, db = archive
    snapshot_path(db).write_bytes(b"PK\x03\x04 not a whole file")
    reader = Recorder()
    assert counts(FacetColumns(reader, snapshot=snapshot_path(db)), db)["member"] == {"EU": 1, "JPN": 1}
    assert reader.since == [-1]
    assert "ignoring the unreadable snapshot" in caplog.text
    assert snapshot_path(db).read_bytes()[:2] == b"PK" and snapshot_path(db).stat().st_size > 100  # rewritten


def test_a_snapshot_that_cannot_be_written_costs_only_time(archive, caplog):
    _, db = archive
    missing = db.parent / "gone" / "archive.sqlite3-facets.npz"
    assert counts(FacetColumns(snapshot=missing), db)["member"] == {"EU": 1, "JPN": 1}
    assert "could not write the snapshot" in caplog.text


def test_a_facet_lists_the_most_frequent_values_ties_by_name_beyond_its_size():
    from collections import Counter

    from archive.facet_columns import FACET_SIZE, _Column

    values = [f"v{i:02d}" for i in range(60) for _ in range(1 + i % 7)]  # 60 values, counts 1..7, many ties
    column = _Column()
    column.assign(np.arange(len(values)), np.ones(len(values), dtype=np.int64), values)
    ids = np.arange(0, len(values), 2)
    counts = Counter(values[i] for i in ids)
    expected = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:FACET_SIZE]
    assert [(f.value, f.count) for f in column.top(ids)] == expected

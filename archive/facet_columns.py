"""Facet values of every notice in memory, one numpy column per facet (Elasticsearch's "doc values").

Counting facets for a search is then a gather and a ``bincount`` over the matching notice ids: about
a millisecond for 50,000 matches, where six GROUP BYs joining those ids in SQLite took 100-200 ms.
Counts stay exact. The columns follow the archive through ``search_docs.seq``: each search first
reads the current sequence (inside its read transaction) and loads only the rows written since,
so a web app sees a crawl's writes on its next search, whichever process made them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import numpy as np

from archive.base import FACET_FIELDS, Facet
from archive.search_index import key_day

FACET_SIZE = 20
_NONE = -1


class _Vocabulary:
    """Facet values as small integers, in order of first sight."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        if value not in self.codes:
            self.codes[value] = len(self.values)
            self.values.append(value)
        return self.codes[value]


class _Column:
    """Facet values by notice id, as vocabulary codes: one per row, ``_NONE`` padding the unused places."""

    def __init__(self) -> None:
        self.vocabulary = _Vocabulary()
        self.data = np.full((0, 1), _NONE, dtype=np.int32)

    def assign(self, ids: np.ndarray, values: list[list[str]]) -> None:
        """Replace the values of the notices ``ids`` (rows of ``data`` grow as ids and value counts do)."""
        width = max(self.data.shape[1], max((len(v) for v in values), default=1))
        rows = max(len(self.data), int(ids.max()) + 1 if len(ids) else 0)
        if (rows, width) != self.data.shape:
            grown = np.full((max(rows, 2 * len(self.data)) if rows > len(self.data) else rows, width), _NONE,
                            dtype=np.int32)
            grown[: len(self.data), : self.data.shape[1]] = self.data
            self.data = grown
        code = self.vocabulary.code
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        flat = np.fromiter((code(v) for notice_values in values for v in notice_values), dtype=np.int32,
                           count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(values)), lengths)
        places = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        block = np.full((len(ids), width), _NONE, dtype=np.int32)
        block[rows, places] = flat
        self.data[ids] = block

    def top(self, ids: np.ndarray) -> list[Facet]:
        picked = self.data[ids].ravel()
        counts = np.bincount(picked[picked != _NONE], minlength=len(self.vocabulary.values))
        present = np.nonzero(counts)[0]
        pairs = sorted(((self.vocabulary.values[c], int(counts[c])) for c in present), key=lambda vc: (-vc[1], vc[0]))
        return [Facet(v, c) for v, c in pairs[:FACET_SIZE]]


class FacetColumns:
    """The facet columns of one archive file, shared by every thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset(None)

    def _reset(self, epoch: str | None) -> None:
        self._epoch = epoch
        self._seq = -1
        self._columns = {name: _Column() for name in FACET_FIELDS}
        self._key_of = np.full(0, _NONE, dtype=np.int64)  # search key by notice id
        self._sorted_keys = self._ids_by_key = np.empty(0, dtype=np.int64)

    def _sync(self, conn: sqlite3.Connection) -> None:
        epoch, seq = conn.execute("SELECT epoch, seq FROM search_state").fetchone()
        if (epoch, seq) == (self._epoch, self._seq):
            return
        if epoch != self._epoch:  # a new or rebuilt index: start again
            self._reset(epoch)
        since = "+seq" if self._seq < 0 else "seq"  # a first load reads the table in order, not via the seq index
        rows = conn.execute(f"SELECT id, key, area, member, level, chapters, objectives, lines FROM search_docs "
                            f"WHERE {since} > ?", (self._seq,)).fetchall()
        self._seq = seq
        if not rows:
            return
        ids, keys, areas, members, levels, chapters, objectives, lines = (list(c) for c in zip(*rows))
        ids_array = np.array(ids, dtype=np.int64)
        self._columns["area"].assign(ids_array, [[v] for v in areas])
        self._columns["member"].assign(ids_array, [[v] for v in members])
        self._columns["level"].assign(ids_array, [[v] if v else [] for v in levels])
        self._columns["hs_chapter"].assign(ids_array, [c.split() for c in chapters])
        self._columns["objective"].assign(ids_array, [json.loads(o) if o != "[]" else [] for o in objectives])
        self._columns["year"].assign(ids_array, [[str(d.year)] if d else [] for d in map(key_day, keys)])
        self._columns["product_line"].assign(ids_array, [line_ids.split() for line_ids in lines])
        if len(self._key_of) <= ids_array.max():
            grown = np.full(max(int(ids_array.max()) + 1, 2 * len(self._key_of)), _NONE, dtype=np.int64)
            grown[: len(self._key_of)] = self._key_of
            self._key_of = grown
        self._key_of[ids_array] = keys
        known = np.nonzero(self._key_of != _NONE)[0]
        order = np.argsort(self._key_of[known])
        self._sorted_keys, self._ids_by_key = self._key_of[known][order], known[order]

    def _ids(self, keys: np.ndarray) -> np.ndarray:
        """Notice ids of search keys (a key moved by a write newer than the caller's snapshot is skipped)."""
        if not len(self._sorted_keys):
            return np.empty(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
        return self._ids_by_key[at[self._sorted_keys[at] == keys]]

    def counts(self, conn: sqlite3.Connection, keys: np.ndarray) -> dict[str, list[Facet]]:
        """Exact facet counts over the notices with these search keys; ``conn`` is in the search's read transaction."""
        with self._lock:
            self._sync(conn)
            ids = self._ids(keys)
            return {name: self._columns[name].top(ids) for name in FACET_FIELDS}


_registry: dict[str, FacetColumns] = {}
_registry_lock = threading.Lock()


def facet_columns(db_path: Path) -> FacetColumns:
    key = str(Path(db_path).resolve())
    with _registry_lock:
        return _registry.setdefault(key, FacetColumns())

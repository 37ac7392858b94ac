"""The first search after a restart, at 100,000 classified notices: p95 of 10 cold starts.

Each start is a new process, as a restarted web worker is: it opens the archive and runs one
faceted search, and the time of that call is what the first user waits (imports happen before
the worker accepts requests, so they are shown apart). The facet columns start from their
snapshot beside the archive (``archive.facet_columns``; one start before the measured ones writes
it, as the first worker after a backfill does). Measured the same way in the same run: without
the snapshot (every row read, split in C), and the naive way, every row fetched and its values
parsed in Python, as the archive did before.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from archive.facet_columns import Changes
from bench.archives import classified_home
from bench.common import child_json, percentile, record, show, timer

SIZE = int(os.environ.get("TBTWATCH_BENCH_NOTICES", "100000"))
STARTS = int(os.environ.get("TBTWATCH_BENCH_COLD_STARTS", "10"))
QUERY = {"text": "requirements", "facets": True}  # a broad search: about a quarter of the archive


def read_row_by_row(conn, since: int) -> Changes:
    """The naive facet columns reader: every search row fetched, every value parsed in Python."""
    rows = conn.execute("SELECT id, key, area, member, level, chapters, objectives, lines FROM search_docs "
                        "WHERE seq > ?", (since,)).fetchall()
    ids, keys, areas, members, levels, chapters, objectives, lines = (list(c) for c in zip(*rows)) if rows else [[]] * 8

    def facet(per_notice: list[list[str]]) -> tuple[np.ndarray, list[str]]:
        return np.fromiter(map(len, per_notice), dtype=np.int64), [v for values in per_notice for v in values]

    return Changes(np.array(ids, dtype=np.int64), np.array(keys, dtype=np.int64), {
        "area": facet([[a] for a in areas]), "member": facet([[m] for m in members]),
        "level": facet([[v] if v else [] for v in levels]), "hs_chapter": facet([c.split() for c in chapters]),
        "objective": facet([json.loads(o) for o in objectives]), "product_line": facet([p.split() for p in lines])})


def _cold_start(db: str, reader: str) -> dict[str, float]:
    """In a new process: import, open, search once; the search's time and the imports' apart."""
    started = time.perf_counter()
    from archive.facet_columns import facet_columns, read_changes
    from archive.query import build_query
    from archive.sqlite_store import SqliteStore

    store = SqliteStore(db)
    if reader != "snapshot":
        facet_columns(store.db_path, read=read_row_by_row if reader == "naive" else read_changes, snapshot=False)
    ready = time.perf_counter()
    result = store.search(build_query(**QUERY))
    done = time.perf_counter()
    return {"search_ms": (done - ready) * 1000, "start_ms": (ready - started) * 1000, "total": result.total,
            "facets": sum(len(v) for v in result.facets.values())}


def _starts(db: str, reader: str, count: int = STARTS) -> list[dict[str, float]]:
    return [child_json("bench.bench_first_search", "--child", db, reader, timeout=300) for _ in range(count)]


def run() -> dict[str, float]:
    with timer() as elapsed:
        db = str(classified_home(SIZE) / "archive.sqlite3")
    built_s = elapsed()
    _starts(db, "snapshot", 1)  # writes the snapshot if the archive has none yet
    starts = {reader: _starts(db, reader) for reader in ("snapshot", "no-snapshot", "naive")}
    answers = {(s["total"], s["facets"]) for runs in starts.values() for s in runs}
    if len(answers) != 1:
        raise SystemExit(f"the cold starts disagree on the result: {starts}")
    p95 = {reader: percentile([s["search_ms"] for s in runs], 0.95) for reader, runs in starts.items()}
    figures = {
        "first_search_ms": round(p95["snapshot"], 1),
        "first_search_p50_ms": round(percentile([s["search_ms"] for s in starts["snapshot"]], 0.5), 1),
        "first_search_no_snapshot_ms": round(p95["no-snapshot"], 1),
        "first_search_naive_ms": round(p95["naive"], 1),
        "first_search_vs_naive": round(p95["naive"] / max(p95["snapshot"], 1e-6), 1),
        "first_search_imports_ms": round(percentile([s["start_ms"] for s in starts["snapshot"]], 0.5), 1),
    }
    total, facets = answers.pop()
    show(f"first faceted search after a restart: {SIZE:,} classified notices, {STARTS} new processes each", [
        ("archive", f"{SIZE:,} notices", f"{'built' if built_s > 1 else 'cached'} in {built_s:.1f} s"),
        ("first search p95 (ms), from the snapshot", figures["first_search_ms"],
         f"< 1,000 ms; {figures['first_search_vs_naive']}x faster than row by row"),
        ("first search p50 (ms)", figures["first_search_p50_ms"], f"{total:,} matches, {facets} facet values"),
        ("without the snapshot, p95 (ms)", figures["first_search_no_snapshot_ms"], "every row, split in C"),
        ("naive: rows parsed one by one, p95 (ms)", figures["first_search_naive_ms"], "baseline"),
        ("imports and open before it, p50 (ms)", figures["first_search_imports_ms"], "before the worker listens"),
    ])
    record(figures)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_cold_start(*sys.argv[2:4])))
    else:
        run()

"""The first backfill: ePing's whole bulk workbook (100,000 rows) crawled, classified and indexed into an empty archive.

The workbook is ePing-shaped (``bench.eping_workbook``) and served by the replay server at its real
path. First both readers read the same bytes, timed and compared value by value (a difference stops
the benchmark): openpyxl's read-only reader (the naive way) and calamine (what the spider uses).
Then each stage runs in its own process, so that its peak memory is its own: the crawl of
``eping_bulk`` (download, rows, validation, and the upsert that writes the SQLite archive and its
FTS index), classification of every new notice, and the index stage (a copy to Elasticsearch when
that is the backend; with SQLite the crawl's upsert already indexed). The crawl runs a second time
with ``-a reader=openpyxl`` into another archive, so the backfill's ratio to the naive way is
measured, not estimated.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import child_json, peak_mb, record, show, timer
from bench.eping_workbook import workbook
from crawlers.workbook import DEFAULT_READER, READERS

ROWS = int(os.environ.get("TBTWATCH_BENCH_ROWS", "100000"))
REPLAY_PATH = Path("eping.wto.org") / "NotificationExcelFiles" / "Notification_EN.xlsx"


def compare_readers(data: bytes) -> dict[str, float]:
    """Rows per second of each reader over the same bytes; SystemExit if they disagree on any value.

    Each read keeps a hash per row rather than the rows (two copies of 100,000 rows would be a
    benchmark of memory); a differing hash is shown as the two rows read again."""
    rates: dict[str, float] = {}
    digests: dict[str, list[int]] = {}
    for name, read in READERS.items():
        with timer() as elapsed:
            digests[name] = [hash(row) for row in read(data)]
        rates[name] = len(digests[name]) / elapsed()
    (first, reference), *others = digests.items()
    for name, other in others:
        if other != reference:
            at = next((i for i, (a, b) in enumerate(zip(reference, other)) if a != b), min(len(reference), len(other)))
            rows = {n: next(itertools.islice(READERS[n](data), at, None), None) for n in (first, name)}
            raise SystemExit(f"the workbook readers disagree at row {at + 1} ({len(reference)} vs {len(other)} rows): "
                             + "; ".join(f"{n} read {row}" for n, row in rows.items()))
    return rates


def _stage(name: str, base_url: str, reader: str) -> dict:
    """In the stage's process: run it on the archive of TBTWATCH_HOME and report time, memory and counts."""
    from commands import pipeline
    from tbtwatch.settings import get_settings

    settings = get_settings()
    start = time.perf_counter()
    if name == "crawl":
        from crawlers.runner import run_crawl

        report = run_crawl(["eping_bulk"], base_url=base_url, extra_args=["--arg", f"eping_bulk.reader={reader}"])
        line = report.sources.get("eping_bulk")
        if line is None or line.failed:
            raise SystemExit(f"the crawl failed: {report.errors or (line and line.warnings)}")
        summary, counts = f"{line.items} rows, {line.inserted} new notices", {"items": line.items,
                                                                             "inserted": line.inserted}
    else:
        result = (pipeline.classify_pending(settings, dt.date.today()) if name == "classify"
                  else pipeline.index_changed(settings, [], None, None))
        if result.status == pipeline.FAILED:
            raise SystemExit(f"the {name} stage failed: {result.summary}")
        summary, counts = f"{result.status}: {result.summary}", result.counts
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "summary": summary, "counts": counts}


def _run_stage(name: str, home: Path, base_url: str, reader: str = DEFAULT_READER) -> dict:
    return child_json("bench.bench_backfill", "--stage", name, base_url, reader,
                      env={"TBTWATCH_HOME": str(home), "TBTWATCH_ARCHIVE_BACKEND": "sqlite"}, timeout=1800)


def run() -> dict[str, float]:
    from crawlers.replay import ReplayServer

    with timer() as elapsed:
        path = workbook(ROWS)
    made_s = elapsed()
    data = path.read_bytes()
    rates = compare_readers(data)
    faster = max(rates, key=rates.get)
    stages: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tbtwatch-bench-backfill-") as tmp:
        root = Path(tmp) / "replay"
        (root / REPLAY_PATH).parent.mkdir(parents=True)
        (root / REPLAY_PATH).symlink_to(path)
        with ReplayServer(root=root) as server:
            for name in ("crawl", "classify", "index"):
                stages[name] = _run_stage(name, Path(tmp) / "home", server.url)
            naive_crawl = _run_stage("crawl", Path(tmp) / "naive", server.url, reader="openpyxl")
    scale = 100000 / ROWS
    total = sum(s["seconds"] for s in stages.values())
    naive_total = total - stages["crawl"]["seconds"] + naive_crawl["seconds"]
    figures = {
        "backfill_rows": ROWS,
        "backfill_notices": stages["crawl"]["counts"]["inserted"],
        "backfill_100k_s": round(total * scale, 1),
        "backfill_peak_mb": round(max(s["peak_mb"] for s in stages.values()), 1),
        "backfill_openpyxl_100k_s": round(naive_total * scale, 1),
        "backfill_vs_openpyxl": round(naive_total / total, 2),
        **{f"backfill_{name}_s": round(s["seconds"], 1) for name, s in stages.items()},
        **{f"backfill_{name}_peak_mb": round(s["peak_mb"], 1) for name, s in stages.items()},
        "xlsx_rows_per_s": round(rates["calamine"]),
        "xlsx_openpyxl_rows_per_s": round(rates["openpyxl"]),
        "xlsx_vs_openpyxl": round(rates["calamine"] / rates["openpyxl"], 1),
        "xlsx_reader": DEFAULT_READER,
    }
    rows = [
        ("workbook", f"{ROWS:,} rows, {len(data) / 1e6:.1f} MB", f"{'written' if made_s > 1 else 'cached'}: {path.name}"),
        ("xlsx read, calamine (rows/s)", figures["xlsx_rows_per_s"],
         f">= 20,000; {figures['xlsx_vs_openpyxl']}x openpyxl; same values"),
        ("xlsx read, openpyxl read-only (rows/s)", figures["xlsx_openpyxl_rows_per_s"], "baseline"),
        ("spider's reader", DEFAULT_READER, "the faster" if DEFAULT_READER == faster else f"NOT the faster ({faster})"),
    ]
    rows += [(f"  {name} (s) / peak (MB)", f"{s['seconds']:.1f} / {s['peak_mb']:.0f}", s["summary"][:70])
             for name, s in stages.items()]
    rows += [
        ("backfill, whole (s, scaled to 100k)", figures["backfill_100k_s"],
         f"< 300 s; {figures['backfill_vs_openpyxl']}x the speed of the same with openpyxl"),
        ("  the same with openpyxl (s, scaled)", figures["backfill_openpyxl_100k_s"],
         f"baseline (crawl {naive_crawl['seconds']:.1f} s, peak {naive_crawl['peak_mb']:.0f} MB)"),
        ("backfill peak memory (MB), largest stage", figures["backfill_peak_mb"], "< 1,000 MB"),
    ]
    show(f"backfill: ePing bulk workbook of {ROWS:,} rows from the replay server", rows)
    record(figures)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stage"]:
        print(json.dumps(_stage(*sys.argv[2:5])))
    else:
        run()

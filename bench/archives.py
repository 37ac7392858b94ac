"""The classified archive the web benchmarks read: N notices of ``bench.corpus``, every one assessed.

A web server meets an archive that a backfill wrote and classified, so the facets it counts
include assessment levels and product lines. Building one takes a minute at 100,000 notices,
so it is built once per size, corpus and search layout, in its own data directory under the
benchmark directory, and reused; a benchmark that writes copies it first (``copy_home``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

from archive.search_index import SEARCH_VERSION
from bench.common import bench_dir, child_json

VERSION = 1  # bump when how the archive is made changes
BATCH = 2000
ASSESSED_ON = dt.date(2026, 6, 1)


def classified_home(size: int) -> Path:
    """A data directory (TBTWATCH_HOME) whose archive holds ``size`` classified notices, built if missing."""
    home = bench_dir() / f"archive_{size}_v{VERSION}_s{SEARCH_VERSION}"
    if not (home / "complete").exists():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        child_json("bench.archives", str(size), env={"TBTWATCH_HOME": str(home), "TBTWATCH_ARCHIVE_BACKEND": "sqlite"},
                   timeout=1800)
        (home / "complete").touch()
    return home


def copy_home(source: Path, target: Path) -> Path:
    """A copy of a data directory's archive (the WAL is checkpointed into the file when it was built)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "archive.sqlite3", target / "archive.sqlite3")
    return target


def _build(size: int) -> dict:
    """In the child: index and classify into the archive of TBTWATCH_HOME."""
    from archive.db import thread_connection
    from archive.sqlite_store import SqliteStore
    from bench.corpus import generate
    from commands import pipeline
    from tbtwatch.settings import get_settings

    settings = get_settings()
    store = SqliteStore(settings.archive_db)
    notices = list(generate(size))
    for i in range(0, len(notices), BATCH):
        store.upsert(notices[i:i + BATCH])
    result = pipeline.classify_pending(settings, ASSESSED_ON)
    thread_connection(settings.archive_db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"notices": store.count(), "classify": result.summary}


if __name__ == "__main__":
    import json

    print(json.dumps(_build(int(sys.argv[1]))))

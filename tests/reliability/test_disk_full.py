"""A full disk during an import reports the disk, keeps the archive consistent, and a re-run completes.

``ulimit -f`` in a subprocess (``bash -c``) caps the size of any file the import writes, which is what a
full disk looks like to SQLite: a write fails part-way through the transaction. The real command
(``tbtwatch import``) on a real SQLite archive. Proved: exit status 1 with one line naming the archive,
SQLite's own words and code (``disk I/O error (SQLITE_IOERR_WRITE)`` for a size limit, ``SQLITE_FULL`` for a
full disk) and what to do, no traceback and no "cannot rollback - no transaction is
active" hiding the cause; the archive passes its integrity check, and the same import without the cap
stores every notice once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive.sqlite_store import SqliteStore
from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(120)

NOTICES = 3_000
TBTWATCH = Path(sys.executable).with_name("tbtwatch")  # the installed command of this environment


def import_capped(path, limit_kb: int | None) -> subprocess.CompletedProcess:
    command = f"exec {TBTWATCH} import {path}"
    if limit_kb:
        command = f"ulimit -f {limit_kb}; {command}"
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=100,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash for ulimit -f")
def test_a_full_disk_is_reported_as_such_and_a_rerun_completes(home, tmp_path):
    path = tmp_path / "notices.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for n in range(1, NOTICES + 1):
            fh.write(json.dumps({"symbol": f"G/TBT/N/EU/{n}", "distribution_date": f"2025-{n % 12 + 1:02d}-10",
                                 "title": f"Battery rules {n}", "description": "Lithium batteries. " * 100}) + "\n")
    capped = import_capped(path, 1024)  # 1 MB: the archive and its WAL need about 10
    assert capped.returncode == 1, (capped.returncode, capped.stdout, capped.stderr)
    assert "Traceback" not in capped.stderr and "cannot rollback" not in capped.stderr, capped.stderr
    stderr = " ".join(capped.stderr.split())
    assert "archive.sqlite3 could not be written" in stderr, stderr
    assert "(SQLITE_IOERR_WRITE)" in stderr or "(SQLITE_FULL)" in stderr, stderr  # SQLite's own cause
    assert "disk is probably full" in stderr, stderr

    settings = get_settings()
    assert SqliteStore(settings.archive_db).integrity_check() == []
    again = import_capped(path, None)
    assert again.returncode == 0, again.stderr
    store = SqliteStore(settings.archive_db)
    assert store.count() == NOTICES and store.integrity_check() == []

"""Source health: is a source degraded compared with its own history, and what a shape check found.

A source changes without notice (a renamed column, a new page layout, a moved file). Two signs
are read from every crawl and named in the daily report and the digest's operator section:

* its items fall to 0 while each of its last ``ZERO_AFTER`` runs yielded some (a quiet day does
  not count: it must have yielded every time before);
* more than ``INVALID_SHARE`` of the records it read are invalid (the rest may still look fine).

``tbtwatch sources check`` samples one small page of each source instead (``crawlers.runner
--check``): ``verdict`` turns that run's report into ok / drifted / failed with what is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from archive.db import ensure_schema, thread_connection, transaction

INVALID_SHARE = 0.05
ZERO_AFTER = 3
OK, DRIFTED, FAILED = "ok", "drifted", "failed"

SCHEMA = """
CREATE TABLE IF NOT EXISTS source_runs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    items INTEGER NOT NULL,
    invalid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS source_runs_source ON source_runs (source, id);
"""


def invalid_reason(items: int, invalid: int) -> str:
    """Why a run's share of invalid records is too high ("" when it is not)."""
    read = items + invalid
    if read and invalid / read > INVALID_SHARE:
        return f"{invalid} of {read} records invalid ({invalid / read:.0%}, more than {INVALID_SHARE:.0%})"
    return ""


class SourceRuns:
    """The ``source_runs`` table of the archive file: each source's item and invalid counts per crawl."""

    def __init__(self, db_path: Path | str):
        self.conn = thread_connection(db_path)
        ensure_schema(self.conn, "crawlers.health", SCHEMA)

    def recent(self, source: str, n: int = ZERO_AFTER) -> list[int]:
        """Item counts of the source's last ``n`` runs, newest first."""
        rows = self.conn.execute("SELECT items FROM source_runs WHERE source = ? ORDER BY id DESC LIMIT ?",
                                 (source, n))
        return [r[0] for r in rows]

    def record(self, source: str, items: int, invalid: int) -> str:
        """Store this run; return why the source looks degraded against its earlier runs ("" when it does not)."""
        before = self.recent(source)
        with transaction(self.conn) as conn:
            conn.execute("INSERT INTO source_runs (source, finished_at, items, invalid) VALUES (?, ?, ?, ?)",
                         (source, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), items, invalid))
        if items == 0 and len(before) == ZERO_AFTER and all(before):
            return f"no items, after {', '.join(map(str, before))} in its last {ZERO_AFTER} runs"
        return invalid_reason(items, invalid)


@dataclass
class Verdict:
    source: str
    status: str  # ok | drifted | failed
    missing: list[str]  # what is missing or wrong, for people


def verdict(source: str, pages: int, items: int, errors: int, parse_failures: int, invalid: int,
            problems: list[str], missing_fields: list[str], skipped: str = "") -> Verdict:
    """A sample run's outcome: failed when nothing could be fetched, drifted when what came back has not the
    shape the spider needs (unreadable pages, invalid records, no records, fields missing), else ok."""
    if skipped:
        return Verdict(source, OK, [f"not checked: {skipped}"])
    if pages == 0:
        return Verdict(source, FAILED, problems or ["no page could be fetched"])
    missing = [*problems, *(f"no sampled record has {name}" for name in missing_fields)]
    if items == 0 and not missing:
        missing.append("the page gave no records")
    if parse_failures or invalid or missing or errors:
        return Verdict(source, DRIFTED, missing)
    return Verdict(source, OK, [])

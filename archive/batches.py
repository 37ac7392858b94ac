"""Writing a batch of notices so that one the store refuses costs only that notice.

A batch is one transaction (all-or-nothing, and fast). When the store refuses
it because of one notice - its distribution date already holds as many notices
as the search key has room for, or its text cannot be stored - the batch is
written again one notice per transaction: the refused notices come back with
their errors and every other notice is stored. Errors of the database itself
(a full disk, a lock) are not about a notice and propagate.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from archive.base import NoticeStore, UpsertResult
from tbtwatch.model import Notice

NOTICE_ERRORS = (ValueError, sqlite3.IntegrityError, sqlite3.DataError)


def upsert_isolating(store: NoticeStore, notices: Sequence[Notice]) -> tuple[UpsertResult, list[tuple[int, str]]]:
    """Upsert ``notices``; returns what was stored and (index in ``notices``, error) of each refused notice."""
    try:
        return store.upsert(notices), []
    except NOTICE_ERRORS:
        pass  # written one by one below, where the refusal gets its notice
    result, refused = UpsertResult(), []
    for position, notice in enumerate(notices):
        try:
            result += store.upsert([notice])
        except NOTICE_ERRORS as exc:
            refused.append((position, f"{notice.symbol}: {exc}"))
    return result, refused

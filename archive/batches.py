"""Writing a batch of notices so that one the store refuses costs only that notice.

A batch is one transaction (all-or-nothing, and fast). When the store refuses
it because of one notice - its distribution date already holds as many notices
as the search key has room for, or its text cannot be stored - the batch is
split and written again, down to single notices: the refused notices come back
with their errors and every other notice is stored. Errors of the database itself
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
    result, refused = UpsertResult(), []
    _write(store, notices, 0, result, refused)
    return result, refused


def _write(store: NoticeStore, notices: Sequence[Notice], offset: int, result: UpsertResult,
           refused: list[tuple[int, str]]) -> None:
    """Write all in one transaction, else each half in turn (in order, so keys are given as before), down to
    the single notices the store refuses: a few bad notices in a large batch cost a few more transactions."""
    try:
        result += store.upsert(notices)
        return
    except NOTICE_ERRORS as exc:
        if len(notices) == 1:
            refused.append((offset, f"{notices[0].symbol}: {exc}"))
            return
    middle = len(notices) // 2
    _write(store, notices[:middle], offset, result, refused)
    _write(store, notices[middle:], offset + middle, result, refused)

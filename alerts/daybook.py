"""Which notices are new on a given day, and the per-run helpers every message kind shares.

A notice is "new" on the day it was assessed (``assessed_on``: when the
pipeline first saw it, or saw it change), falling back to its WTO distribution
date when it has no assessment. Portals publish translations weeks late, so the
scan looks back ``LOOKBACK`` days of distribution dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alerts.context import Names, NoticeItem, for_reader, notice_item
from alerts.cutoff import WorkCalendar, calendar_for, cutoff_date, cutoff_working_days
from alerts.grouping import NoticeGroups
from alerts.rules import Evidence
from alerts.validation import Vocabulary
from archive.base import NoticeStore
from tbtwatch.model import Notice
from tbtwatch.settings import Settings

LOOKBACK = dt.timedelta(days=180)


@dataclass
class Assessed:
    notice: Notice
    assessment: dict[str, Any]

    @property
    def new_on(self) -> dt.date | None:
        stamp = self.assessment.get("assessed_on")
        return dt.date.fromisoformat(stamp[:10]) if stamp else self.notice.distribution_date

    @property
    def relevant(self) -> bool:
        """Touches the catalogue as a foreign measure: the classifier said so, or found a product line
        (a domestic measure never is: it gets its own short section, not the review queue)."""
        if self.assessment.get("domestic"):
            return False
        return bool(self.assessment.get("relevant") or self.assessment.get("product_lines"))

    @property
    def domestic(self) -> bool:
        return bool(self.assessment.get("domestic"))

    @property
    def primary_line(self) -> str:
        lines = sorted(self.assessment.get("product_lines", []), key=lambda p: -float(p.get("score", 0)))
        return str(lines[0]["id"]) if lines else ""


def assessed_between(store: NoticeStore, since: dt.date, until: dt.date) -> list[Assessed]:
    """Notices distributed in [since, until] with their assessments (empty dict when none)."""
    notices = list(store.iter_notices(since, until))
    assessments = store.get_assessments(n.symbol for n in notices)
    return [Assessed(n, assessments.get(n.symbol, {})) for n in notices]


def new_notices(store: NoticeStore, days: Iterable[dt.date]) -> list[Assessed]:
    """Notices new on any of ``days``, oldest first."""
    days = set(days)
    if not days:
        return []
    scanned = assessed_between(store, min(days) - LOOKBACK, max(days))
    return [a for a in scanned if a.new_on in days]


def effective_deadline(store: NoticeStore, notice: Notice) -> dt.date | None:
    """The final date for comments after any extension: the latest addendum's date wins."""
    deadline = notice.comment_deadline
    for version in store.history(notice.symbol):  # oldest first
        if version.kind == "addendum" and version.comment_deadline and version.symbol != notice.symbol:
            deadline = version.comment_deadline
    return deadline


@dataclass
class ItemMaker:
    """Builds ``NoticeItem``s for one run: the reference data is loaded once, and each notice's item (its
    deadline after extensions, cut-off, group) is built once and copied per reader with their evidence."""

    settings: Settings
    store: NoticeStore
    day: dt.date
    vocabulary: Vocabulary = field(init=False)
    calendar: WorkCalendar = field(init=False)
    groups: NoticeGroups = field(init=False)
    names: Names = field(init=False)
    _items: dict[str, NoticeItem] = field(init=False, default_factory=dict)
    _deadlines: dict[str, dt.date | None] = field(init=False, default_factory=dict)
    _entries: dict[str, Assessed | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.vocabulary = Vocabulary(self.settings)
        self.calendar = calendar_for(self.settings)
        self.groups = NoticeGroups(self.settings)
        self.names = Names(self.vocabulary.members, self.vocabulary.line_names or {}, self.vocabulary.nomenclature)

    def entry(self, symbol: str) -> Assessed | None:
        """The archived notice with its assessment, read once per run (None when not archived)."""
        if symbol not in self._entries:
            notice = self.store.get(symbol)
            self._entries[symbol] = Assessed(notice, self.store.get_assessment(symbol) or {}) if notice else None
        return self._entries[symbol]

    def deadline(self, notice: Notice) -> dt.date | None:
        """``effective_deadline``, read once per run and notice."""
        if notice.symbol not in self._deadlines:
            self._deadlines[notice.symbol] = effective_deadline(self.store, notice)
        return self._deadlines[notice.symbol]

    def __call__(
        self, entry: Assessed, evidence: list[Evidence] | None = None, filters: list[str] | None = None
    ) -> NoticeItem:
        """The item for one notice and reader (a fresh copy: callers may set its review fields)."""
        symbol = entry.notice.symbol
        if symbol not in self._items:
            deadline = self.deadline(entry.notice)
            group = self.groups.group_of(symbol)
            self._items[symbol] = notice_item(
                entry.notice,
                entry.assessment,
                day=self.day,
                base_url=self.settings.alerts.base_url,
                names=self.names,
                deadline=deadline,
                cutoff=cutoff_date(deadline, self.calendar, cutoff_working_days(self.settings)),
                joint=group.others(symbol) if group else [],
            )
        return for_reader(self._items[symbol], evidence or [], self.names, filters)


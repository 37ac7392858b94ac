"""The dates a reader of a notice acts on: the final date for comments as notified, after extensions by
addendum (``alerts.daybook.effective_deadline``), and the working group's internal cut-off before it
(``alerts.cutoff``), the same figures the alerts and the digest give.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from alerts.cutoff import CalendarError, WorkCalendar, calendar_for, cutoff_date, cutoff_working_days
from alerts.daybook import effective_deadline
from archive.base import NoticeStore
from tbtwatch.model import Notice
from tbtwatch.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadline:
    notified: dt.date | None  # the notice's own final date for comments
    effective: dt.date | None  # after the latest extending addendum
    cutoff: dt.date | None  # the working group's internal cut-off before ``effective``

    @property
    def extended(self) -> bool:
        return self.effective is not None and self.effective != self.notified

    def is_open(self, day: dt.date) -> bool:
        return self.effective is not None and self.effective >= day


class Deadlines:
    """Deadlines of several notices with one calendar (a broken holidays file shows no cut-off, logged)."""

    def __init__(self, settings: Settings, store: NoticeStore):
        self.settings, self.store = settings, store
        self.calendar: WorkCalendar | None
        try:
            self.calendar = calendar_for(settings)
        except CalendarError as exc:
            log.warning("no internal cut-off dates on the web pages: %s", exc)
            self.calendar = None

    def of(self, notice: Notice) -> Deadline:
        effective = effective_deadline(self.store, notice)
        cutoff = (
            cutoff_date(effective, self.calendar, cutoff_working_days(self.settings))
            if self.calendar
            else None
        )
        return Deadline(notice.comment_deadline, effective, cutoff)

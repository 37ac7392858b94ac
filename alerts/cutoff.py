"""The working group's internal cut-off: the day its comment must be ready, ahead of the WTO final date.

A comment goes from the working group to China's enquiry point, which forwards
it to the notifying member: that takes days, so each notice under review gets a
cut-off ``CUTOFF_WORKING_DAYS`` working days before its final date for comments
(after any extension). Working days are Monday to Friday minus the public
holidays, plus the weekend days declared working days (调休上班), all read from
``config/holidays.yaml`` (data, one block per year). A year the file does not
cover is counted by weekends alone, with a warning, so a missing year is seen
rather than silently wrong.

A final date written relative to the notification ("60 days from
notification", 通报后60天) is turned into a date by the core's
``tbtwatch.dates.deadline_from``; ``cutoff_for`` accepts that text too.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tbtwatch.configfile import ConfigError, read_yaml
from tbtwatch.dates import deadline_from
from tbtwatch.settings import Settings, SettingsError

log = logging.getLogger(__name__)

CUTOFF_WORKING_DAYS = 3


class CalendarError(SettingsError):
    """A holidays file that cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()  # weekend days that are working days
    years: frozenset[int] = frozenset()
    provisional: frozenset[int] = frozenset()
    source: str = ""
    _warned: set[int] = field(default_factory=set, compare=False, hash=False)

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.years and day.year not in self._warned:
            self._warned.add(day.year)
            log.warning(
                "%s has no holidays for %s: counting weekends only; add the year", self.source, day.year
            )
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def working_days_before(self, day: dt.date, count: int) -> dt.date:
        """The day ``count`` working days before ``day`` (``day`` itself is not counted)."""
        current = day
        while count > 0:
            current -= dt.timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
        return current


def _day(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a date; write YYYY-MM-DD") from None


@lru_cache(maxsize=4)
def load_calendar(path: Path) -> WorkCalendar:
    """Read a holidays file: ``YEAR: {holidays: [{name, first, last}], workdays: [dates], provisional: bool}``."""
    try:
        data = read_yaml(path, "fix the file (config/holidays.yaml in the repository shows the form), or set "
                               "paths.holidays (TBTWATCH_PATHS_HOLIDAYS) to another") or {}
    except ConfigError as exc:
        raise CalendarError(str(exc)) from None
    if not isinstance(data, dict):
        raise CalendarError(f"{path}: expected 'YEAR: {{holidays: [...], workdays: [...]}}' blocks; fix the file")
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    provisional: set[int] = set()
    for year, block in data.items():
        where = f"{path} year {year}"
        if not isinstance(year, int) or not isinstance(block, dict):
            raise CalendarError(f"{where}: expected 'YEAR: {{holidays: [...], workdays: [...]}}'")
        for entry in block.get("holidays") or []:
            first, last = _day(entry.get("first"), where), _day(entry.get("last"), where)
            if last < first or first.year != year:
                raise CalendarError(f"{where}: holiday {entry.get('name')!r} runs {first} to {last}")
            holidays.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        for value in block.get("workdays") or []:
            day = _day(value, where)
            if day.weekday() < 5:
                raise CalendarError(
                    f"{where}: working day {day} is a weekday already; list only weekend days"
                )
            workdays.add(day)
        if block.get("provisional"):
            provisional.add(year)
    return WorkCalendar(
        frozenset(holidays), frozenset(workdays), frozenset(data), frozenset(provisional), str(path)
    )


def cutoff_working_days(settings: Settings) -> int:
    return settings.alerts.cutoff_working_days


def calendar_for(settings: Settings) -> WorkCalendar:
    return load_calendar(settings.paths.holidays)


def cutoff_date(
    deadline: dt.date | None, calendar: WorkCalendar, working_days: int = CUTOFF_WORKING_DAYS
) -> dt.date | None:
    """``working_days`` working days before the final date for comments; None without a final date."""
    return calendar.working_days_before(deadline, working_days) if deadline else None


def cutoff_for(
    settings: Settings, deadline: dt.date | str | None, distribution_date: dt.date | None = None
) -> dt.date | None:
    """The cut-off for a final date given as a date or as form text ("60 days from notification")."""
    if isinstance(deadline, str):
        deadline = deadline_from(deadline, distribution_date)
    return cutoff_date(deadline, calendar_for(settings), cutoff_working_days(settings))

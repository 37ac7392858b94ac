"""The internal comment cut-off: working days before the final date, skipping weekends and China's public
holidays (with the weekend days declared working days), shown in the digest, review queue and reminders."""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default as default_policy

import pytest

from alerts import reviews, run
from alerts.cutoff import CalendarError, WorkCalendar, cutoff_date, cutoff_for, load_calendar
from tbtwatch.dates import deadline_from
from tbtwatch.model import notice_from_dict
from tbtwatch.settings import PROJECT_ROOT

from .conftest import assessment

D = dt.date


@pytest.fixture(scope="module")
def china() -> WorkCalendar:
    return load_calendar(PROJECT_ROOT / "config" / "holidays.yaml")


@pytest.mark.parametrize(
    "deadline, expected, why",
    [
        (D(2026, 3, 13), D(2026, 3, 10), "Friday: Thu, Wed, Tue"),
        (D(2026, 3, 16), D(2026, 3, 11), "Monday: the weekend is skipped"),
        (D(2026, 3, 15), D(2026, 3, 11), "a Sunday deadline counts back from Friday"),
        (D(2026, 10, 9), D(2026, 9, 29), "after National Day: 1-7 October off, Thu 8 counts"),
        (D(2026, 2, 26), D(2026, 2, 14), "Spring Festival 15-23 Feb off; Sat 14 Feb is a working day"),
        (D(2026, 2, 17), D(2026, 2, 12), "inside the holiday: Sat 14, Fri 13, Thu 12"),
        (D(2025, 10, 13), D(2025, 10, 9), "Sat 11 Oct 2025 is a working day (调休)"),
        (D(2026, 1, 6), D(2025, 12, 31), "across New Year: 1-3 Jan off, Sun 4 Jan works"),
        (D(2027, 10, 6), D(2027, 9, 30), "2027 statutory days (provisional): 1-3 October"),
    ],
)
def test_cutoff_skips_weekends_and_holidays(china, deadline, expected, why):
    assert cutoff_date(deadline, china) == expected, why


def test_makeup_working_days_count_and_other_lengths(china):
    assert china.is_working_day(D(2026, 2, 14)) and not china.is_working_day(D(2026, 2, 16))
    assert cutoff_date(D(2026, 3, 13), china, working_days=5) == D(2026, 3, 6)
    assert cutoff_date(None, china) is None
    assert 2027 in china.provisional and 2026 not in china.provisional


def test_uncovered_year_counts_weekends_and_warns(china, caplog):
    assert cutoff_date(D(2031, 10, 3), china) == D(2031, 9, 30)  # Friday -> Tuesday, no holidays known
    assert "no holidays for 2031" in caplog.text


def test_relative_deadline_is_computed_from_the_distribution_date(settings):
    # "60 days from notification", distributed 2026-08-03 -> final date 2026-10-02 (inside National Day)
    assert deadline_from("60 days from notification", D(2026, 8, 3)) == D(2026, 10, 2)
    assert cutoff_for(settings, "60 days from notification", D(2026, 8, 3)) == D(2026, 9, 28)
    assert cutoff_for(settings, "通报后60天", D(2026, 8, 3)) == D(2026, 9, 28)
    assert cutoff_for(settings, "60 days from notification", None) is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026:\n  holidays:\n    - {name: x, first: 2026-13-01, last: 2026-13-02}\n", "not a date"),
        ("2026:\n  workdays: [2026-03-02]\n", "weekday already"),
        ("2026:\n  holidays:\n    - {name: x, first: 2026-05-05, last: 2026-05-01}\n", "runs 2026-05-05"),
        ("2026: [1, 2]\n", "expected"),
    ],
)
def test_bad_holidays_file_is_named(tmp_path, text, message):
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=message) as error:
        load_calendar(path)
    assert str(path) in str(error.value)


def test_digest_review_queue_and_reminders_show_the_cutoff(settings, store, monkeypatch):
    monkeypatch.setattr(settings.alerts, "working_group", ["wg@example.org"])
    notice = notice_from_dict(
        {
            "symbol": "G/TBT/N/USA/3100",
            "member": "United States",
            "language": "en",
            "distribution_date": "2026-02-02",
            "comment_deadline": "2026-03-05",
            "title": "Energy conservation standards for external power supplies",
            "description": "Amends efficiency levels.",
            "products": "Power supplies (HS 8504.40)",
            "hs_codes": ["850440"],
        }
    )
    store.upsert([notice])
    store.put_assessments(
        [
            assessment(
                notice.symbol, "medium", [("chargers_power_supplies", 0.9, "power")], assessed_on="2026-03-02"
            )
        ]
    )
    day = D(2026, 3, 2)
    path = run.build_digest(settings, day, store=store, deliver_now=False)
    html = path.read_text(encoding="utf-8")
    # final date Thu 5 March -> cut-off Mon 2 March, in the notice block and in the review queue row
    assert "内部截止日期" in html and html.count("2026-03-02</strong>") >= 2
    assert reviews.get_review(settings, notice.symbol).status == "new"
    reminder = run.send_reminders(settings, day, store=store, deliver_now=False)  # 3 days left: the group
    (row,) = run.Outbox(settings).rows(kind="reminder")
    assert reminder.queued == [row.id] and row.recipient == "wg@example.org"
    text = email.message_from_bytes(row.payload, policy=default_policy).get_body(("plain",)).get_content()
    assert "内部截止日期: 2026-03-02" in text and "Internal cut-off: 2026-03-02" in text

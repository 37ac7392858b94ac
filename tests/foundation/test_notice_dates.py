"""Dates read from a notice's own text: the phrasing of real pages and our own fixtures in both languages,
structured values never replaced, the same dates after a merge or a JSON round trip."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from crawlers.forms import parse_notification_form
from tbtwatch.date_phrases import KEYWORDS, LABELS, PHRASES
from tbtwatch.model import Notice, merge_notice, notice_from_dict
from tbtwatch.notice_dates import DATE_FIELDS, TextDates, dates_from_text

D = dt.date
DIST = D(2025, 7, 21)


def notice(description: str, symbol: str = "G/TBT/N/IND/9330", language: str = "en", **fields) -> Notice:
    return Notice.model_validate({"symbol": symbol, "description": description, "language": language,
                                  "distribution_date": DIST, **fields})


@pytest.mark.parametrize("text, language, expected", [
    # English prose and labels
    ("India notified a draft order; comments are invited until 19 September 2025.", "en",
     TextDates(comment_deadline=D(2025, 9, 19))),
    ("Final date for comments: 60 days from notification\nProposed date of adoption: To be determined\n"
     "Proposed date of entry into force: 6 months after publication in the Official Gazette", "en",
     TextDates(D(2025, 9, 19), "To be determined", "6 months after publication in the Official Gazette")),
    ("The final date for comments is 5 November 2025. Date of adoption: Q1 2026.", "en",
     TextDates(D(2025, 11, 5), "Q1 2026")),
    ("The comment period has been extended until November 30th, 2025.", "en",
     TextDates(comment_deadline=D(2025, 11, 30))),
    ("The standard was adopted by the Council of Ministers on 25 August 2025 and will enter into force "
     "on 1 January 2026.", "en", TextDates(None, "2025-08-25", "2026-01-01")),
    ("The regulation took effect from 1st March 2026.", "en", TextDates(entry_into_force="2026-03-01")),
    # Chinese labels and prose, simplified and traditional
    ("本标准规定了移动电源的安全要求。评议截止日期：2025年9月19日。拟批准日期：待定；拟生效日期：2026年1月1日", "zh",
     TextDates(D(2025, 9, 19), "待定", "2026-01-01")),
    ("意见反馈截止日期为2025年10月8日，逾期不再受理。", "zh", TextDates(comment_deadline=D(2025, 10, 8))),
    ("擬批準日期:通報之後2個月\n擬生效日期:批準之後6個月\n提意見截止日期:通報之後60天", "zh",
     TextDates(D(2025, 9, 19), "通報之後2個月", "批準之後6個月")),
    ("此前通报的草案已于2025年7月18日通过，并将于2025年8月1日起正式实施。", "zh",
     TextDates(None, "2025-07-18", "2025-08-01")),
    ("评议期延长至2025年11月30日。", "zh", TextDates(comment_deadline=D(2025, 11, 30))),
    ("请于2025年9月30日前提交评议意见。", "zh", TextDates(comment_deadline=D(2025, 9, 30))),
    # dates without a cue are not deadlines, adoption or entry into force
    ("继2025年7月1日公布的疫情报告，该成员通过进口许可证管理活禽。HS:0105", "zh", TextDates()),
    ("Amends the standard of 12 March 2019 on toys; see the Gazette of 3 June 2025.", "en", TextDates()),
])
def test_dates_stated_in_the_text(text, language, expected):
    assert dates_from_text(notice(text, language=language)) == expected


def test_a_relative_deadline_needs_the_distribution_date():
    assert dates_from_text(notice("Final date for comments: 60 days from notification",
                                  distribution_date=None)).comment_deadline is None


def test_products_title_and_translations_are_read_too():
    english = notice("Draft order on USB-C chargers.", translations={
        "zh": {"title": "USB-C充电器质量控制令草案", "description": "意见反馈截止日期：2025年9月19日"}})
    assert english.comment_deadline == D(2025, 9, 19)
    assert notice("Chargers", products="Chargers; final date for comments: 2 October 2025"
                  ).comment_deadline == D(2025, 10, 2)


def test_the_model_fills_only_what_the_source_left_empty():
    given = notice("Comments are invited until 19 September 2025. Proposed date of adoption: 1 March 2026.",
                   comment_deadline="2025-09-30", entry_into_force="upon publication")
    assert given.comment_deadline == D(2025, 9, 30) and given.entry_into_force == "upon publication"
    assert given.adoption_date == "2026-03-01" and given.dates_read_from_text == ["adoption_date"]


def test_dates_read_from_the_text_follow_the_text():
    read = notice("Comments are invited until 19 September 2025.")
    assert read.dates_read_from_text == ["comment_deadline"]
    again = Notice.model_validate_json(read.model_dump_json())
    assert again == read and again.content_hash() == read.content_hash()
    changed = Notice.model_validate({**read.model_dump(), "description": "Comments until 3 October 2025."})
    assert changed.comment_deadline == D(2025, 10, 3)
    silent = Notice.model_validate({**read.model_dump(), "description": "A draft order."})
    assert silent.comment_deadline is None and silent.dates_read_from_text == []


@pytest.mark.parametrize("order", ["text first", "form first"])
def test_a_merge_keeps_the_given_date_over_one_read_from_a_text(order):
    feed = notice("Comments are invited until 19 September 2025.")
    form = notice("Draft order on chargers.", comment_deadline="2025-09-20")
    merged = merge_notice(feed, form) if order == "text first" else merge_notice(form, feed)
    assert merged.comment_deadline == D(2025, 9, 20) and merged.dates_read_from_text == []


def test_a_merge_reads_the_merged_text():
    portal = notice("移动电源安全要求。意见反馈截止日期为2025年10月8日。", language="zh")
    wto = notice("Safety requirements for power banks.", language="en")
    merged = merge_notice(portal, wto)  # the WTO's English becomes the text, the Chinese a translation
    assert merged.language == "en" and merged.comment_deadline == D(2025, 10, 8)
    assert merged.dates_read_from_text == ["comment_deadline"]


def test_an_adopting_addendum_has_a_compliance_date():
    adopted = notice("The measure notified in G/TBT/N/EU/1100 was adopted on 2 June 2025 and enters into force "
                     "on 1 December 2025.", symbol="G/TBT/N/EU/1100/Add.2")
    assert adopted.kind == "addendum" and adopted.compliance_date == D(2025, 12, 1)
    undecided = notice("Adopted.", symbol="G/TBT/N/EU/1100/Add.3", entry_into_force="to be determined")
    assert undecided.compliance_date is None
    draft = notice("Proposed date of entry into force: 1 December 2025.")
    assert draft.entry_into_force == "2025-12-01" and draft.compliance_date is None  # a draft's plan only


def test_every_cue_contains_one_of_its_fields_keywords():
    """Texts without a field's keywords are skipped, so a cue without one would never be tried."""
    for field in DATE_FIELDS:
        for pattern in (*LABELS[field], *PHRASES[field]):
            assert any(word in pattern.lower() for word in KEYWORDS[field]), (field, pattern)


# -- real phrasing -----------------------------------------------------------------------------------

def test_real_addenda_state_their_adoption_dates(dev_records):
    adopted = {}
    for record in dev_records:
        if re.search(r"/N/[A-Z]{2,4}/", record["symbol"]):  # the set has one record without a member code
            found = notice_from_dict(record)
            if "adoption_date" in found.dates_read_from_text:
                adopted[found.symbol] = found.adoption_date
    assert adopted == {"G/TBT/N/BDI/268/Add.1": "2023-08-25", "G/TBT/N/BDI/244/Add.1": "2023-08-25",
                       "G/TBT/N/KEN/1307/Add.1": "2023-06-09", "G/SPS/N/JPN/707/Add.1": "2020-04-23"}


def test_no_real_text_contradicts_a_given_deadline(dev_records):
    given = [r for r in dev_records if r.get("comment_deadline") and re.search(r"/N/[A-Z]{2,4}/", r["symbol"])]
    assert len(given) >= 25
    for record in given:
        read = notice_from_dict({**record, "comment_deadline": None}).comment_deadline
        assert read in (None, D.fromisoformat(record["comment_deadline"])), record["symbol"]


def test_real_form_pages_read_as_plain_text_give_the_form_parsers_dates(shared_data):
    """A page whose form is not parsed (all of it in the description) yields the dates the form parser reads."""
    compared = 0
    for page in sorted((shared_data / "pages").glob("*.txt")):
        text = page.read_text(encoding="utf-8").split("\n", 1)[1]
        form = parse_notification_form(text)
        as_text = Notice.model_validate({"symbol": form["symbol"], "description": text, "language": "zh",
                                         "distribution_date": form["distribution_date"]})
        for field in DATE_FIELDS:
            assert getattr(as_text, field) == form[field], (page.name, field)
            compared += form[field] is not None
    assert compared >= 15

"""The digest as a working-group member sees it in headless Chromium at 1200 px: the day on the first screen.

A 20-notice day of our own notices (14 open drafts at three levels, 3 whose comment period closed, 3 adoption
addenda) on a real SQLite archive; the page is the file the pipeline writes, opened from disk.
"""

from __future__ import annotations

import datetime as dt

import pytest

from alerts import run

from .conftest import DAY, archive_holding, assessment, days

pytestmark = pytest.mark.slow
SCREEN = {"width": 1200, "height": 900}
LEVELS = ["high"] * 4 + ["medium"] * 6 + ["low"] * 4


def _draft(i: int, level: str) -> tuple[dict, dict]:
    symbol = f"G/TBT/N/USA/{3000 + i}"
    notice = {"symbol": symbol, "member": "United States", "distribution_date": days(0),
              "comment_deadline": days(10 + 3 * i), "title": f"Draft energy conservation standard for chargers, "
              f"part {i}", "products": "Battery chargers (HS 8504.40)", "hs_codes": ["850440"],
              "description": "Sets efficiency limits and test procedures for external power supplies and chargers.",
              "translations": {"zh": {"title": f"充电器节能标准草案（第{i}部分）", "products": "电池充电器"}}}
    return notice, assessment(symbol, level, [("chargers", 0.9, "chargers")], hs_given=["850440"],
                              reasons=[f"{level} for chargers"], reasons_zh=[f"充电器{level}"])


def _closed(i: int) -> tuple[dict, dict]:
    symbol = f"G/TBT/N/JPN/{700 + i}"
    notice = {"symbol": symbol, "member": "Japan", "distribution_date": days(0), "comment_deadline": days(-2),
              "title": f"Revision of radio equipment rules {i}", "products": "Radio equipment"}
    return notice, assessment(symbol, "high", [("mobile_phones", 0.8, "Radio equipment")])


def _adoption(i: int) -> tuple[dict, dict]:
    symbol = f"G/TBT/N/KOR/{900 + i}/Add.1"
    notice = {"symbol": symbol, "member": "Korea, Republic of", "distribution_date": days(0),
              "title": f"Adoption of the safety standard for lithium batteries {i}", "products": "Lithium batteries",
              "entry_into_force": (DAY + dt.timedelta(days=90 + i)).isoformat()}
    return notice, assessment(symbol, "high", [("lithium_batteries", 0.9, "Lithium batteries")])


@pytest.fixture
def busy_day(settings, monkeypatch):
    monkeypatch.setenv("TBTWATCH_ALERTS_WORKING_GROUP", "wg@example.org")
    pairs = [_draft(i, level) for i, level in enumerate(LEVELS)] + [_closed(i) for i in range(3)]
    pairs += [_adoption(i) for i in range(3)]
    notices, assessments = zip(*pairs)
    yield from archive_holding(settings, list(notices), list(assessments))


@pytest.fixture
def digest_page(busy_day, settings, browser):
    path = run.build_digest(settings, DAY, store=busy_day, deliver_now=False)
    context = browser.new_context(viewport=SCREEN)
    tab = context.new_page()
    tab.goto(path.as_uri())
    yield tab
    context.close()


def _box(tab, selector: str) -> dict:
    return tab.locator(selector).first.bounding_box()


def test_the_first_screen_is_the_headline(digest_page):
    tab = digest_page
    headline = tab.locator("#lang-zh .headline").inner_text()
    assert "今日新通报 20 项" in headline and "高等级 10 项" in headline  # 4 drafts + 3 closed + 3 adopted
    actions = tab.locator("#lang-zh table.rows").first
    box = actions.bounding_box()
    assert box["y"] + box["height"] <= SCREEN["height"], "the notices needing action end on the first screen"
    rows = actions.locator("tr").all_inner_texts()[1:]
    assert len(rows) == 5 and all("高" in r for r in rows[:4]) and "中" in rows[4]  # level first
    assert "2026-03-09" in rows[0] and days(10) not in rows[0]  # the internal cut-off, 3 working days before
    assert not any("JPN" in r or "KOR" in r for r in rows)  # closed and adopted: never first
    assert "另有 5 项见评议队列" in tab.locator("#lang-zh").inner_text()


def test_the_queue_follows_and_the_compliance_section_closes(digest_page):
    tab = digest_page
    queue = tab.locator("#lang-zh h2", has_text="评议队列")
    assert queue.bounding_box()["y"] < 1.5 * SCREEN["height"]
    compliance = tab.locator("#lang-zh h2", has_text="供合规参考")
    rows = compliance.locator("xpath=following-sibling::table[1]").locator("tr").all_inner_texts()[1:]
    assert len(rows) == 6
    assert [r.split("\t")[0] for r in rows] == ["2026-05-31", "2026-06-01", "2026-06-02"] + ["未通报"] * 3
    assert "KOR/900/Add.1" in rows[0] and all("JPN" in r for r in rows[3:])  # adopted by date, then closed
    queued = queue.locator("xpath=following-sibling::table[1]").inner_text()
    assert "JPN/70" not in queued and "KOR/90" not in queued


def test_a_twenty_notice_day_reads_in_three_screens(digest_page):
    tab = digest_page
    for lang in ("zh", "en"):
        height = tab.evaluate(f"document.getElementById('lang-{lang}').getBoundingClientRect().height")
        assert height <= 3 * SCREEN["height"], f"the {lang} half is {height:.0f} px tall"

"""The working group's digest for a known day, the review workflow, comment drafts and deadline reminders."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from typer.testing import CliRunner

from alerts import reviews, run, subscriptions
from alerts.reviews import ReviewError
from alerts.validation import Vocabulary
from commands.cli import app
from tbtwatch.settings import get_settings

from .conftest import DAY


@pytest.fixture
def group(smtp_server, monkeypatch):
    monkeypatch.setenv("TBTWATCH_ALERTS_WORKING_GROUP", "wg@example.org,wg2@example.org")
    get_settings.cache_clear()
    return get_settings()


def section(html: str, heading: str) -> str:
    """The HTML from one <h2> heading to the next."""
    return html.split(heading, 1)[1].split("<h2>", 1)[0]


def test_digest_for_a_known_day(store, group, smtp_server):
    settings = group
    reviews.update_review(settings, "G/TBT/N/EU/1000", status="under_review", owner="王工")
    path = run.build_digest(settings, DAY, failed_sources=["eping", "tbt-sz"], store=store)
    assert path == settings.home / "digests" / "digest-2026-03-02.html"
    html = path.read_text(encoding="utf-8")
    assert "以下数据源今日采集失败，结果可能不完整: eping, tbt-sz" in html
    # the day's notices, highest level first, then the soonest cut-off; the irrelevant SPS notice absent
    details = section(html, "<h2>通报详情")
    assert re.findall(r'<a href="[^"]+">(G/TBT/N/[A-Z]+/\d+)</a> ·', details) == [
        "G/TBT/N/EU/1100", "G/TBT/N/USA/2100", "G/TBT/N/KEN/1500"]
    assert "G/SPS/N/JPN/900" not in html
    assert "G/TBT/N/CHN/800" not in details  # a month old: not the day's news
    # English original beside the Chinese translation
    assert "关于电动自行车锂离子电池安全的法规草案" in html
    assert '<span class="original">原文: Draft Regulation on the safety of lithium-ion batteries for e-bikes' in html
    # the addendum of a notice under review is a follow-up, with the extended deadline
    followups = section(html, "评议中通报的补遗与修订")
    assert "G/TBT/N/EU/1000/Add.1" in followups and "评议中" in followups and "王工" in followups
    assert "2026-03-22" in followups
    # counts by member, area, product line: one line each, after the notices
    counts = section(html, "<h2>统计与趋势")
    for line in ("<strong>成员</strong>: 欧盟 (EU) 1", "<strong>领域</strong>: TBT 3", "手机 1"):
        assert line in counts
    # the trend chart: 12 weeks, this week's 3 relevant notices and the one from a month ago
    chart = counts
    assert chart.count("<rect ") == 12
    assert re.findall(r"<title>([\d-]+): (\d+)</title>", chart)[-1] == ("2026-02-24", "4")  # Add.1 counts too
    assert ": 1</title>" in chart  # CHN/800, four weeks earlier
    # the review queue, highest level first, then the soonest cut-off; new relevant notices entered it as "new"
    queue = section(html, "<h2>评议队列")
    assert [m for m in re.findall(r">(G/TBT/N/[A-Z]+/\d+)<", queue)] == [
        "G/TBT/N/EU/1100",
        "G/TBT/N/USA/2100",
        "G/TBT/N/EU/1000",
        "G/TBT/N/KEN/1500",
    ]
    assert reviews.get_review(settings, "G/TBT/N/EU/1100").status == "new"
    # emailed once to each working group address
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == ["wg2@example.org", "wg@example.org"]
    assert "收件人: wg@example.org, wg2@example.org" in html


def test_a_sent_digest_is_kept_as_sent(store, group, smtp_server):
    """A re-run that finds other facts (the failed source came back) writes a new version; the sent one stays."""
    first = run.build_digest(group, DAY, failed_sources=["eping"], store=store)
    sent = first.read_text(encoding="utf-8")
    second = run.build_digest(group, DAY, failed_sources=[], store=store)
    assert second.name == "digest-2026-03-02.v2.html" and first.read_text(encoding="utf-8") == sent
    later = second.read_text(encoding="utf-8")
    assert "采集失败" in sent and "采集失败" not in later and "第 2 版" in later
    assert run.build_digest(group, DAY, failed_sources=[], store=store) == second  # the same facts: no v3
    assert len(smtp_server.messages) == 2  # the version sent is the first, once to each address


def test_weekly_summary_covers_seven_days(store, group, smtp_server):
    path = run.build_weekly_summary(group, DAY + dt.timedelta(days=5), store=store)
    html = path.read_text(encoding="utf-8")
    assert path.name == "weekly-2026-03-07.html"
    assert "通报评议工作组周报 · 2026-03-01 – 2026-03-07" in html
    assert (
        "G/TBT/N/EU/1100" in html
        and "G/TBT/N/USA/2100" in html
        and "G/TBT/N/CHN/800" not in section(html, "<h2>通报详情")
    )
    run.build_weekly_summary(group, DAY + dt.timedelta(days=5), store=store)
    assert len(smtp_server.messages) == 2 and "周报" in smtp_server.messages[0].message["Subject"]


def test_quiet_day_digest_says_so(store, settings):
    path = run.build_digest(settings, DAY + dt.timedelta(days=1), store=store)
    assert "今日没有涉及目录产品的新通报。" in path.read_text(encoding="utf-8")


def test_review_workflow_and_log(settings):
    reviews.update_review(
        settings, "G/TBT/N/EU/1100", status="评议中", owner="李工", note="ask the battery makers"
    )
    review = reviews.update_review(
        settings, "g/tbt/n/eu/1100", status="comment_sent", note="sent via enquiry point"
    )
    assert review.status == "comment_sent" and review.owner == "李工"
    assert "ask the battery makers" in review.notes and "sent via enquiry point" in review.notes
    assert [e["status"] for e in reviews.review_log(settings, "G/TBT/N/EU/1100")] == [
        "under_review",
        "comment_sent",
    ]
    assert reviews.list_reviews(settings, reviews.OPEN_STATUSES) == []
    with pytest.raises(ReviewError, match="review status 'maybe'"):
        reviews.update_review(settings, "G/TBT/N/EU/1100", status="maybe")
    with pytest.raises(ReviewError):
        reviews.update_review(settings, "not a symbol", status="new")


def test_comment_draft(store, settings):
    reviews.update_review(settings, "G/TBT/N/EU/1100", status="under_review", note="电池企业关注标签要求")
    draft = run.comment_draft(settings, "G/TBT/N/EU/1100", store=store, day=DAY)
    assert "关于 G/TBT/N/EU/1100 通报的评议意见（草稿）" in draft
    assert "To: the European Union enquiry point" in draft
    assert "锂电池 / Lithium batteries" in draft and "850760" in draft
    # why it was flagged, in Chinese with the English below, apart from the points to raise
    assert "  - HS 850760 在目录中\n    HS 850760 is in the catalogue\n  - 欧盟市场权重 1.0\n" in draft
    assert draft.index("二、关注要点") < draft.index("附：预警依据") < draft.index("HS 850760 在目录中")
    assert "电池企业关注标签要求" in draft and "2026-05-01" in draft
    assert reviews.get_review(settings, "G/TBT/N/EU/1100").status == "comment_drafted"


def test_reminders_for_followed_notices_and_the_review_queue(store, group, smtp_server):
    settings = group
    subscriptions.subscribe(
        settings, "lights@example.org", Vocabulary(settings).rule(hs=["9405"]), lang="en", confirmed=True
    )
    run.send_alerts(settings, DAY, store=store)  # USA/2100 (deadline DAY+14) is now followed
    reviews.open_review(settings, "G/TBT/N/EU/1000")  # deadline DAY+3, extended to DAY+20 by Add.1
    smtp_server.messages.clear()

    report = run.send_reminders(settings, DAY, store=store)
    by_rcpt = {r.rcpt_tos[0]: r.message for r in smtp_server.messages}
    assert set(by_rcpt) == {"lights@example.org"}  # EU/1000 has 20 days left after the extension: no reminder
    assert "14 days" in by_rcpt["lights@example.org"]["Subject"]
    body = by_rcpt["lights@example.org"].get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Final date for comments: 2026-03-16 (days left: 14)" in body and "Warning level: medium\n" in body
    assert "level medium for the test" not in body  # the assessment-day reasons would be out of date
    assert by_rcpt["lights@example.org"]["List-Unsubscribe"]
    assert report.queued

    smtp_server.messages.clear()
    run.send_reminders(settings, DAY, store=store)
    assert smtp_server.messages == []  # once only
    run.send_reminders(settings, DAY + dt.timedelta(days=6), store=store)  # EU/1000: 14 days left
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == ["wg2@example.org", "wg@example.org"]
    assert "G/TBT/N/EU/1000" in smtp_server.messages[0].message["Subject"]
    smtp_server.messages.clear()
    run.send_reminders(settings, DAY + dt.timedelta(days=12), store=store)  # USA/2100: 2 days left, a run late
    [reminder] = smtp_server.messages
    assert reminder.rcpt_tos == ["lights@example.org"] and "3 days" in reminder.message["Subject"]


def test_no_belated_reminder_right_after_the_alert(store, smtp_server):
    settings = get_settings()
    subscriptions.subscribe(settings, "toys@example.org", Vocabulary(settings).rule(product_lines=["toys"]),
                            confirmed=True)
    run.send_alerts(settings, DAY, store=store)  # the Add.1 alert; its deadline is 20 days away
    assert run.send_reminders(settings, DAY + dt.timedelta(days=10), store=store).queued == []  # 10 days left
    assert run.send_reminders(settings, DAY + dt.timedelta(days=17), store=store).queued  # 3 days left


runner = CliRunner()


def test_cli_alerts_digest_review_remind(store, settings):
    assert runner.invoke(app, ["subscribe", "cli@example.org", "--hs", "8507", "--confirmed"]).exit_code == 0
    sent = runner.invoke(app, ["alerts", "send", "--date", "2026-03-02"])
    assert sent.exit_code == 0 and "1 messages queued" in sent.output
    again = runner.invoke(app, ["alerts", "send", "--date", "2026-03-02"])
    assert "0 messages queued" in again.output
    assert "sent 1" in runner.invoke(app, ["alerts", "status"]).output
    digest = runner.invoke(app, ["digest", "--date", "2026-03-02", "--failed-source", "eping"])
    assert digest.exit_code == 0 and "digest-2026-03-02.html" in digest.output
    changed = runner.invoke(
        app, ["review", "set", "G/TBT/N/EU/1100", "--status", "under_review", "--owner", "张三"]
    )
    assert changed.exit_code == 0 and "under_review" in changed.output
    assert "G/TBT/N/EU/1100" in runner.invoke(app, ["review", "list"]).output
    draft = runner.invoke(app, ["review", "draft", "G/TBT/N/EU/1100"])
    assert draft.exit_code == 0 and "评议意见" in draft.output
    bad = runner.invoke(app, ["review", "set", "G/TBT/N/EU/1100", "--status", "maybe"])
    assert bad.exit_code == 2 and "maybe" in bad.output
    assert runner.invoke(app, ["remind", "--date", "2026-03-02"]).exit_code == 0


def test_digest_email_has_the_trend_as_a_table_too(store, group, smtp_server):
    """Some mail clients drop inline SVG: the e-mail also carries the 12 weekly counts as a table."""
    path = run.build_digest(group, DAY, store=store)
    mailed = smtp_server.messages[0].message.get_body(("html",)).get_content()
    table = section(mailed, "<h2>统计与趋势").split("</svg>", 1)[1]
    weeks = re.findall(r"<td>(\d\d-\d\d)</td>", table)
    counts = re.findall(r"<td>(\d+)</td>", table.split("</tr>", 1)[1])
    assert len(weeks) == 12 and weeks[-1] == "02-24" and counts[-1] == "4" and sum(map(int, counts)) == 6
    assert "周起始日" in table
    assert "周起始日" not in path.read_text(encoding="utf-8")  # the HTML file keeps the chart alone


def test_a_domestic_measure_has_its_own_short_section_and_no_review(settings):
    """China's own notification of the day is told in a section of its own, not queued for comment."""
    from .conftest import ASSESSMENTS, NOTICES, archive_holding

    chinese = next(d for d in NOTICES if d["symbol"] == "G/TBT/N/CHN/800")
    today = {**chinese, "distribution_date": DAY.isoformat()}
    assessment = {**next(a for a in ASSESSMENTS if a["symbol"] == chinese["symbol"]), "domestic": True,
                  "relevant": False, "level": "none", "assessed_on": DAY.isoformat()}
    notices = [today if d is chinese else d for d in NOTICES]
    assessments = [assessment if a["symbol"] == chinese["symbol"] else a for a in ASSESSMENTS]
    for archive in archive_holding(settings, notices, assessments):  # closed after the digest
        html = run.build_digest(settings, DAY, failed_sources=[], store=archive).read_text(encoding="utf-8")
    domestic = section(html, "<h2>国内措施")
    assert "G/TBT/N/CHN/800" in domestic and "锂电池" in domestic
    assert "G/TBT/N/CHN/800" not in section(html, "<h2>评议队列")
    assert reviews.get_review(settings, "G/TBT/N/CHN/800") is None

"""Delivery over real SMTP (aiosmtpd on 127.0.0.1): content, idempotence, outages, refusals, crash safety."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

from alerts import run, subscriptions
from alerts.outbox import Outbox
from alerts.validation import Vocabulary
from tbtwatch.settings import get_settings

from .conftest import DAY

LATER = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)


def subscribe(settings, email, lang="both", frequency="immediate", **rule):
    return subscriptions.subscribe(
        settings, email, Vocabulary(settings).rule(**rule), lang=lang, frequency=frequency, confirmed=True
    )


def bodies(received):
    message = received.message
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_alert_arrives_with_parts_headers_links_and_languages(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "exporter@example.org", lang="both", hs=["8507"], members=["EU"])
    report = run.send_alerts(settings, DAY, store=store)
    assert report.delivery.sent and not report.delivery.failed
    [received] = smtp_server.messages
    message = received.message
    assert received.rcpt_tos == ["exporter@example.org"]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "G/TBT/N/EU/1100" in message["Subject"] and "通报预警" in message["Subject"]
    text, html = bodies(received)
    # the reader's language first and in full (with the English original beside the translation), the other
    # language as a short list, not everything twice
    assert "关于电动自行车锂离子电池安全的法规草案" in text and "Draft Regulation on the safety" in text
    zh, en = text.split("In English: ", 1)
    assert "评议截止日期: 2026-05-01 (剩余天数: 60)" in zh and "Final date for comments" not in text
    # which code it touches and where the code came from, the market by name, in the reader's language
    assert "  - HS编码 8507: 850760 (通报成员给出)\n" in zh and "  - 市场 欧盟 (EU)\n" in zh
    assert "(given" not in zh and "市场 EU\n" not in zh
    assert "  - HS 850760 在目录中\n" in zh  # why the level
    assert "G/TBT/N/EU/1100 · European Union · high · Draft Regulation on the safety" in en
    compact = en.split("\n--\n")[0]
    assert "Why it matched" not in compact and compact.strip().count("\n") == 1  # a heading and one line
    assert 'href="http://127.0.0.1:8000/notices/G/TBT/N/EU/1100"' in html
    assert 'href="https://docs.example.org/G/TBT/N/EU/1100.pdf"' in html
    unsubscribe = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{unsubscribe}"' in html and unsubscribe in text
    token = unsubscribe.split("token=")[1]
    assert subscriptions.unsubscribe_by_token(token, settings).status == "unsubscribed"
    row = Outbox(settings).rows("sent")[0]
    assert message["Message-ID"] == row.message_id


def test_language_choice(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "zh@example.org", lang="zh", hs=["8507"], members=["EU"])
    subscribe(settings, "en@example.org", lang="en", hs=["8507"], members=["EU"])
    run.send_alerts(settings, DAY, store=store)
    by_rcpt = {r.rcpt_tos[0]: bodies(r)[0] for r in smtp_server.messages}
    assert (
        "评议截止日期" in by_rcpt["zh@example.org"]
        and "Final date for comments" not in by_rcpt["zh@example.org"]
    )
    assert (
        "Final date for comments" in by_rcpt["en@example.org"]
        and "评议截止日期" not in by_rcpt["en@example.org"]
    )


def test_hostile_notice_text_is_escaped_and_kept_out_of_headers(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "phones@example.org", lang="en", keywords=["mobile phone"])
    run.send_alerts(settings, DAY, store=store)
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["phones@example.org"]  # the crawled "Bcc:" did not add a recipient
    assert received.message["Bcc"] is None
    assert "Bcc: victim@example.org" in received.message["Subject"]
    text, html = bodies(received)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;cables&lt;/b&gt;" in html
    assert "javascript:" not in html  # the crawled javascript: URL is not linked


def test_second_run_sends_nothing(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "a@example.org", hs=["85"])
    first = run.send_alerts(settings, DAY, store=store)
    assert len(first.queued) == 2 and len(smtp_server.messages) == 2  # CHN/800 is a month old: not new
    second = run.send_alerts(settings, DAY, store=store)
    assert second.queued == [] and second.delivery.sent == []
    third = run.send_alerts(settings, DAY + dt.timedelta(days=1), store=store)  # the pool overlaps yesterday
    assert third.queued == [] and len(smtp_server.messages) == 2


def test_daily_batch_does_not_repeat_notices_already_alerted(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "batch@example.org", frequency="daily", hs=["85"])
    run.send_alerts(settings, DAY, "daily", store=store)
    [received] = smtp_server.messages
    text, _ = bodies(received)
    assert "G/TBT/N/EU/1100" in text and "G/TBT/N/KEN/1500" in text and "G/TBT/N/CHN/800" not in text
    assert run.send_alerts(settings, DAY + dt.timedelta(days=1), "daily", store=store).queued == []


def test_the_pipelines_alerts_stage_serves_immediate_and_daily_subscribers_once(store, smtp_server):
    from commands import pipeline

    settings = get_settings()
    subscribe(settings, "at-once@example.org", hs=["8507"], members=["EU"])
    subscribe(settings, "batch@example.org", frequency="daily", hs=["85"])
    result = pipeline.send_daily_alerts(settings, DAY)
    assert result.status == pipeline.DONE, result.summary
    assert result.counts["queued"] == 2 and result.counts["sent"] == 2
    recipients = sorted(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert recipients == ["at-once@example.org", "batch@example.org"]
    [batch] = [m for m in smtp_server.messages if m.rcpt_tos == ["batch@example.org"]]
    text, _ = bodies(batch)
    assert "G/TBT/N/EU/1100" in text and "G/TBT/N/KEN/1500" in text
    again = pipeline.send_daily_alerts(get_settings(), DAY)
    assert again.status == pipeline.NOTHING and again.counts["queued"] == 0 and len(smtp_server.messages) == 2


def test_server_down_then_back_delivers_once(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "a@example.org", hs=["8507"], members=["EU"])
    smtp_server.stop()
    report = run.send_alerts(settings, DAY, store=store)
    assert report.delivery.sent == [] and report.delivery.retrying == [] and report.delivery.failed == []
    assert "unreachable" in report.delivery.stopped and "1 message stays queued" in report.delivery.stopped
    [row] = Outbox(settings).rows("queued")
    assert row.attempts == 0 and "Connection refused" in row.last_error  # a session failure: not charged
    smtp_server.start()
    assert run.deliver_outbox(settings).sent == [row.id]
    assert run.deliver_outbox(settings, now=LATER).sent == []
    run.send_alerts(settings, DAY, store=store)
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].message["Message-ID"] == row.message_id


def test_temporary_refusal_is_retried_permanent_refusal_is_recorded(store, smtp_server):
    settings = get_settings()
    subscribe(settings, "a@example.org", hs=["8507"], members=["EU"])
    smtp_server.inbox.reply = "451 4.3.0 try again later"
    report = run.send_alerts(settings, DAY, store=store)
    assert len(report.delivery.retrying) == 1
    assert Outbox(settings).rows("queued")[0].last_error == "451 4.3.0 try again later"
    smtp_server.inbox.reply = "550 5.1.1 mailbox unavailable"
    again = run.deliver_outbox(settings, now=LATER)
    assert again.failed and "550 5.1.1 mailbox unavailable" in again.failed[0][1]
    [row] = Outbox(settings).rows("failed")
    assert row.last_error == "550 5.1.1 mailbox unavailable" and row.attempts == 2
    assert run.deliver_outbox(settings, now=LATER + dt.timedelta(days=1)).failed == []  # not retried
    assert smtp_server.messages == []


def test_gives_up_after_max_attempts(store, smtp_server, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr("alerts.outbox.MAX_ATTEMPTS", 2)
    subscribe(settings, "a@example.org", hs=["8507"], members=["EU"])
    smtp_server.inbox.reply = "421 4.7.0 busy"
    run.send_alerts(settings, DAY, store=store)
    report = run.deliver_outbox(settings, now=LATER)
    assert report.failed and "gave up after 2 attempts" in report.failed[0][1]


def test_sending_row_left_by_a_dead_sender_is_not_sent_again(store, smtp_server):
    """A sender killed between claiming a row and recording the result: the row becomes 'uncertain'."""
    settings = get_settings()
    subscribe(settings, "a@example.org", hs=["8507"], members=["EU"])
    run.send_alerts(settings, DAY, store=store, deliver_now=False)
    claim = (
        "from alerts.outbox import Outbox; from tbtwatch.settings import get_settings; "
        "print(Outbox(get_settings()).claim_next().id)"
    )
    child = subprocess.run([sys.executable, "-c", claim], capture_output=True, text=True, check=True)
    row_id = int(child.stdout)  # the claiming process has exited: it died holding the row
    report = run.deliver_outbox(settings)
    assert report.uncertain == [row_id] and report.sent == []
    [row] = Outbox(settings).rows("uncertain")
    assert row.message_id in row.last_error and f"tbtwatch alerts requeue {row_id}" in row.last_error
    assert smtp_server.messages == []
    Outbox(settings).requeue(row_id)
    assert run.deliver_outbox(settings).sent == [row_id] and len(smtp_server.messages) == 1


def test_without_smtp_messages_become_eml_files(store, home):
    settings = get_settings()
    assert not settings.smtp.host
    subscribe(settings, "a@example.org", hs=["8507"], members=["EU"])
    report = run.send_alerts(settings, DAY, store=store)
    files = list((home / "outbox").rglob("*.eml"))
    assert len(files) == 1 and report.delivery.sent
    assert b"List-Unsubscribe: <http://127.0.0.1:8000/unsubscribe?token=" in files[0].read_bytes()


def test_unconfirmed_and_unsubscribed_get_no_alerts(store, smtp_server):
    settings = get_settings()
    rule = Vocabulary(settings).rule(hs=["8507"])
    run.sign_up(settings, "pending@example.org", rule)
    subscribe(settings, "gone@example.org", hs=["8507"])
    subscriptions.unsubscribe(settings, "gone@example.org")
    run.send_alerts(settings, DAY, store=store)
    assert len(smtp_server.messages) == 1  # only the confirm link
    assert "confirm" in smtp_server.messages[0].message["Message-ID"]
    assert smtp_server.messages[0].rcpt_tos == ["pending@example.org"]

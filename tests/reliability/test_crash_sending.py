"""Crash safety of sending, and an SMTP server that goes down for part of a run.

Figures proved:
- a delivery process SIGKILLed in the middle of an SMTP conversation leaves an archive that passes
  ``PRAGMA integrity_check`` and the store's ``integrity_check()``; the next run delivers every other
  message, the interrupted one is reported ``uncertain`` (with its Message-ID and the requeue command)
  and never re-sent automatically, so each Message-ID arrives at the server exactly once - whether the
  kill came after the message arrived (DATA) or before (RCPT, where the operator requeues it);
- a server that answers 421 part-way, then is down, then comes back: every message is delivered once.

The outbox's documented policy (``alerts/outbox.py``): a row is marked ``sending`` before the SMTP
conversation; a row left ``sending`` by a dead sender becomes ``uncertain``.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from smtp_sink import SmtpSink

from alerts import run
from alerts.messages import WIRE_POLICY, build_email
from alerts.outbox import Outbox, Rendered
from archive.sqlite_store import SqliteStore
from tbtwatch.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 8
KILL_AT = 4  # the 4th message's SMTP conversation is where the sender dies


@pytest.fixture
def sink(home, monkeypatch):
    server = SmtpSink().start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield server
    server.stop()


def queue_messages(count: int) -> list[int]:
    """``count`` alerts in the real outbox, rendered as the real message builder makes them."""
    settings = get_settings()
    outbox = Outbox(settings)

    def renderer(recipient: str):
        def render(message_id: str, _: list[str]) -> Rendered:
            message = build_email(sender=settings.smtp.sender, recipient=recipient, subject=f"通报预警 {recipient}",
                                  text="正文 body", html="<p>正文 body</p>", message_id=message_id)
            return Rendered(message["Subject"], message.as_bytes(policy=WIRE_POLICY))
        return render

    return [outbox.enqueue(recipient=f"exporter{i}@example.org", dedup_key=f"G/TBT/N/EU/{i}", kind="alert",
                           render=renderer(f"exporter{i}@example.org"), symbols=[f"G/TBT/N/EU/{i}"])
            for i in range(1, count + 1)]


def tbtwatch(*args: str, **kwargs) -> subprocess.Popen:
    """The real command line in a child process (it reads the test's TBTWATCH_* environment)."""
    return subprocess.Popen([sys.executable, "-c", "from commands.cli import app; app()", *args], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def finished(child: subprocess.Popen) -> str:
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err[-2000:]
    return out


def assert_consistent(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store = SqliteStore(db)
    try:
        assert store.integrity_check() == []
    finally:
        store.close()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("stage", ["DATA", "RCPT"], ids=["killed-after-the-message-arrived",
                                                         "killed-before-the-message-arrived"])
def test_sigkill_while_sending_sends_nothing_twice_and_the_next_run_finishes(sink, stage):
    rows = queue_messages(MESSAGES)
    settings = get_settings()
    sink.stall_at = (stage, KILL_AT)

    sender = tbtwatch("alerts", "deliver")
    assert sink.stalled.wait(timeout=60), "the sender never reached the stalled message"
    sender.send_signal(signal.SIGKILL)
    sender.communicate(timeout=30)
    assert sender.returncode == -signal.SIGKILL

    assert_consistent(settings.archive_db)
    outbox = Outbox(settings)
    assert outbox.counts() == {"sent": KILL_AT - 1, "sending": 1, "queued": MESSAGES - KILL_AT}
    [interrupted] = outbox.rows("sending")
    assert interrupted.id == rows[KILL_AT - 1]
    arrived_before_the_kill = KILL_AT if stage == "DATA" else KILL_AT - 1
    assert len(sink.received) == arrived_before_the_kill

    # The next run delivers the rest and reports the interrupted message instead of sending it again.
    summary = finished(tbtwatch("alerts", "deliver"))
    assert f"{MESSAGES - KILL_AT} sent" in summary and "1 uncertain" in summary
    assert outbox.counts() == {"sent": MESSAGES - 1, "uncertain": 1}
    status = finished(tbtwatch("alerts", "status"))
    assert f"{interrupted.id} uncertain alert {interrupted.recipient}" in status
    assert interrupted.message_id in status and f"tbtwatch alerts requeue {interrupted.id}" in status
    assert finished(tbtwatch("alerts", "deliver")).startswith("0 sent")  # and again: nothing re-sent

    # The operator checks the server's log for the Message-ID, and requeues it only if it never arrived.
    if interrupted.message_id not in sink.message_ids():
        finished(tbtwatch("alerts", "requeue", str(interrupted.id)))
        assert "1 sent" in finished(tbtwatch("alerts", "deliver"))
    every_row = {row.message_id for row in outbox.rows()}
    assert sink.message_ids() == {message_id: 1 for message_id in every_row}  # all arrived, none twice
    assert_consistent(settings.archive_db)


def test_server_down_for_part_of_a_run_delivers_each_message_once(sink):
    """The server accepts 3 messages, answers 421 and stops listening; when it is back the rest go, once each."""
    queue_messages(MESSAGES)
    settings = get_settings()
    outbox = Outbox(settings)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)

    sink.down_after = 3
    going_down = run.deliver_outbox(settings)
    assert len(going_down.sent) == 3 and len(going_down.retrying) == 1 and "421" in going_down.stopped
    sink.stop()
    down = run.deliver_outbox(settings, now=later)
    assert down.sent == [] and "unreachable" in down.stopped
    assert outbox.counts() == {"sent": 3, "queued": MESSAGES - 3}  # kept for later: none failed, none lost

    sink.down_after = None
    sink.start()
    back = run.deliver_outbox(settings, now=later + dt.timedelta(hours=1))
    assert len(back.sent) == MESSAGES - 3 and not back.retrying and not back.failed
    assert run.deliver_outbox(settings, now=later + dt.timedelta(days=1)).sent == []
    assert sink.message_ids() == {row.message_id: 1 for row in outbox.rows()}

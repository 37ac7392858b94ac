"""A mail session that cannot start (wrong password, no login, unreachable server, TLS mismatch, unwritable
.eml folder) stops the run and keeps every message queued, uncharged; only RCPT/DATA refusals fail a message.

Against aiosmtpd on 127.0.0.1 requiring AUTH (plain AUTH without TLS is allowed on loopback for the test).
"""

from __future__ import annotations

from collections import Counter

import pytest
from typer.testing import CliRunner

from alerts import run, subscriptions
from alerts.outbox import MAX_ATTEMPTS, Outbox
from alerts.validation import Vocabulary
from commands.cli import app
from tbtwatch.settings import get_settings

from .conftest import DAY, SMTP_PASSWORD, SMTP_USER

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
WRONG = "wrong-pw-Zt61vB"
READERS = ("a@example.org", "b@example.org", "c@example.org")


def login_as(monkeypatch, password: str, user: str = SMTP_USER):
    monkeypatch.setenv("TBTWATCH_SMTP_USERNAME", user)
    monkeypatch.setenv("TBTWATCH_SMTP_PASSWORD", password)
    get_settings.cache_clear()
    return get_settings()


def queue_three_alerts(settings, store) -> None:
    for email in READERS:
        subscriptions.subscribe(settings, email, Vocabulary(settings).rule(hs=["8507"]), confirmed=True)
    assert len(run.send_alerts(settings, DAY, store=store, deliver_now=False).queued) == 3


def test_wrong_password_keeps_everything_queued_then_the_right_one_delivers_each_once(
    store, smtp_auth_server, monkeypatch
):
    settings = login_as(monkeypatch, WRONG)
    queue_three_alerts(settings, store)
    for attempt in range(MAX_ATTEMPTS + 2):  # more runs than a message may fail: none gives up
        report = run.deliver_outbox(settings)
        assert report.sent == [] and report.failed == [] and report.retrying == []
        assert report.stopped.startswith(f"SMTP login refused by 127.0.0.1:{smtp_auth_server.port} (535 ")
        assert report.stopped.endswith("): check TBTWATCH_SMTP_USERNAME/PASSWORD; 3 messages stay queued")
        assert report.summary().count("SMTP login refused") == 1
    assert WRONG not in report.summary() and SMTP_PASSWORD not in report.summary()
    outbox = Outbox(settings)
    rows = outbox.rows()
    assert [r.state for r in rows] == ["queued"] * 3 and [r.attempts for r in rows] == [0, 0, 0]
    assert rows[0].last_error.startswith("535 ")  # the server's words on the message it was about to send
    # one session a run, however many messages wait (smtplib may try a second AUTH mechanism in it)
    sessions = {peer for peer, _ in smtp_auth_server.logins}
    assert len(sessions) == MAX_ATTEMPTS + 2 and not any(ok for _, ok in smtp_auth_server.logins)

    settings = login_as(monkeypatch, SMTP_PASSWORD)  # the operator fixes the password: the next run sends
    fixed = run.deliver_outbox(settings)
    assert len(fixed.sent) == 3 and not fixed.stopped and not fixed.failed
    assert run.deliver_outbox(settings).sent == []
    run.send_alerts(settings, DAY, store=store)
    received = Counter(m.message["Message-ID"] for m in smtp_auth_server.messages)
    assert received == {row.message_id: 1 for row in outbox.rows()}  # all delivered, exactly once
    assert sorted(m.rcpt_tos[0] for m in smtp_auth_server.messages) == list(READERS)


def test_no_login_configured_for_a_server_that_wants_one(store, smtp_auth_server):
    """The server answers MAIL FROM with 530: a configuration problem, not three failed messages."""
    settings = get_settings()
    queue_three_alerts(settings, store)
    report = run.deliver_outbox(settings)
    assert report.failed == [] and report.sent == []
    assert report.stopped.startswith(f"SMTP server 127.0.0.1:{smtp_auth_server.port} wants a login (530 ")
    assert "set TBTWATCH_SMTP_USERNAME/PASSWORD; 3 messages stay queued" in report.stopped
    assert Outbox(settings).counts() == {"queued": 3}


def test_a_refused_recipient_fails_only_its_own_message(store, smtp_auth_server, monkeypatch):
    """After a good login, a 550 to one RCPT is permanent for that message; the others go in the same session."""
    settings = login_as(monkeypatch, SMTP_PASSWORD)
    queue_three_alerts(settings, store)

    async def refuse_b(server, session, envelope, address, rcpt_options):
        if address == "b@example.org":
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_auth_server.inbox.handle_RCPT = refuse_b
    report = run.deliver_outbox(settings)
    assert len(report.sent) == 2 and not report.stopped
    [(_, error)] = report.failed
    assert error == "550 5.1.1 mailbox unavailable"
    assert Outbox(settings).rows("failed")[0].recipient == "b@example.org"
    assert len({peer for peer, _ in smtp_auth_server.logins}) == 1  # one session for all three


def test_unreachable_server_keeps_the_queue_as_it_was(store, smtp_server):
    settings = get_settings()
    queue_three_alerts(settings, store)
    smtp_server.stop()
    for _ in range(MAX_ATTEMPTS + 1):
        report = run.deliver_outbox(settings)
        assert report.stopped.startswith(f"mail server 127.0.0.1:{smtp_server.port} unreachable (")
        assert report.stopped.endswith("3 messages stay queued")
    assert [(r.state, r.attempts) for r in Outbox(settings).rows()] == [("queued", 0)] * 3
    smtp_server.start()
    assert len(run.deliver_outbox(settings).sent) == 3  # at once: no backoff was charged


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_mode_the_server_does_not_speak_is_a_session_failure(store, smtp_server, monkeypatch, security):
    monkeypatch.setenv("TBTWATCH_SMTP_SECURITY", security)
    get_settings.cache_clear()
    settings = get_settings()
    queue_three_alerts(settings, store)
    report = run.deliver_outbox(settings)
    assert report.sent == [] and report.failed == [] and report.retrying == []
    assert "check TBTWATCH_SMTP_SECURITY" in report.stopped and "3 messages stay queued" in report.stopped
    assert [(r.state, r.attempts) for r in Outbox(settings).rows()] == [("queued", 0)] * 3
    assert smtp_server.messages == []


def test_unwritable_eml_folder_keeps_the_messages_queued(store, home):
    settings = get_settings()
    queue_three_alerts(settings, store)
    home.mkdir(parents=True, exist_ok=True)
    (home / "outbox").write_text("a file where the folder should be")
    report = run.deliver_outbox(settings)
    assert report.sent == [] and report.failed == []
    assert report.stopped.startswith("cannot write ") and "check that TBTWATCH_HOME" in report.stopped
    assert [(r.state, r.attempts) for r in Outbox(settings).rows()] == [("queued", 0)] * 3
    (home / "outbox").unlink()
    assert len(run.deliver_outbox(settings).sent) == 3


def test_cli_reports_a_refused_login_once_and_exits_1(store, smtp_auth_server, monkeypatch):
    settings = login_as(monkeypatch, WRONG)
    queue_three_alerts(settings, store)
    result = CliRunner().invoke(app, ["alerts", "deliver"], terminal_width=400)
    assert result.exit_code == 1
    assert result.output.count("SMTP login refused by") == 1 and "3 messages stay queued" in result.output
    assert WRONG not in result.output
    assert "queued 3" in CliRunner().invoke(app, ["alerts", "status"]).output

"""Subscriptions: validation with reasons, confirmation, unsubscribe by link, CSV import/export, the CLI."""

from __future__ import annotations

import email
import io
import re
from email.policy import default as default_policy

import pytest
from typer.testing import CliRunner

from alerts import run, subscriptions
from alerts.outbox import Outbox
from alerts.subscriptions import TokenError
from alerts.validation import SubscriptionError, Vocabulary
from commands.cli import app


@pytest.fixture
def vocab(settings):
    return Vocabulary(settings)


def test_rule_values_are_normalised(vocab):
    rule = vocab.rule(
        hs=["85", "8507.60", "8507"],
        members=["欧盟", "United States"],
        areas="tbt",
        keywords="Lithium Battery; 锂电池",
        product_lines=["lithium_batteries"],
        min_level="Medium",
    )
    assert rule.hs == ["85", "850760", "8507"]
    assert rule.members == ["EU", "USA"]
    assert rule.areas == ["TBT"]
    assert rule.keywords == ["lithium battery", "锂电池"]
    assert rule.product_lines == ["lithium_batteries"] and rule.min_level == "medium"


def test_every_bad_value_is_reported_with_its_reason(vocab):
    with pytest.raises(SubscriptionError) as err:
        vocab.rule(
            hs=["8599", "12ab"],
            members=["Atlantis"],
            keywords=["!", "x"],
            product_lines=["spaceships"],
            areas=["GATT"],
            min_level="urgent",
        )
    message = str(err.value)
    for expected in (
        "'8599'",
        "not a chapter, heading or subheading of HS 2022",
        "'12ab'",
        "'Atlantis'",
        "not a known WTO member",
        "keyword '!'",
        "keyword 'x'",
        "'spaceships'",
        "area 'GATT'",
        "level 'urgent'",
    ):
        assert expected in message


@pytest.mark.parametrize(
    "address",
    [
        "bob@",
        "no-at-sign",
        "a@b",
        "a@example.org\r\nBcc: x@example.org",
        "<a@example.org>",
        "a b@example.org",
    ],
)
def test_invalid_email_is_refused(settings, vocab, address):
    with pytest.raises(SubscriptionError, match="not a valid address"):
        subscriptions.subscribe(settings, address, vocab.rule(hs=["8507"]), confirmed=True)


def test_empty_filter_is_refused(settings, vocab):
    with pytest.raises(SubscriptionError, match="empty filter"):
        subscriptions.subscribe(settings, "a@example.org", vocab.rule(), confirmed=True)


def test_self_service_sign_up_waits_for_the_confirm_link(settings, vocab):
    result = run.sign_up(settings, "new@example.org", vocab.rule(hs=["8507"]), lang="zh", frequency="daily")
    assert result.needs_confirmation and result.subscriber.status == "pending"
    [row] = Outbox(settings).rows(kind="confirm")
    assert row.recipient == "new@example.org"
    text = email.message_from_bytes(row.payload, policy=default_policy).get_body(("plain",)).get_content()
    token = re.search(r"/subscriptions/confirm\?token=(\S+)", text).group(1)
    assert subscriptions.confirm(token, settings).status == "active"
    assert subscriptions.confirm(token, settings).status == "active"  # a second click is harmless


def test_operator_confirmed_subscription_is_active_at_once(settings, vocab):
    result = run.sign_up(settings, "ops@example.org", vocab.rule(members=["EU"]), confirmed=True)
    assert result.subscriber.active and not result.needs_confirmation
    assert Outbox(settings).rows(kind="confirm") == []


def test_repeated_filter_is_not_duplicated_and_new_filter_is_added(settings, vocab):
    subscriptions.subscribe(settings, "a@example.org", vocab.rule(hs=["8507"]), confirmed=True)
    again = subscriptions.subscribe(settings, "A@example.org", vocab.rule(hs=["8507"]), confirmed=True)
    assert not again.new_filter
    more = subscriptions.subscribe(settings, "a@example.org", vocab.rule(keywords=["toy"]), confirmed=True)
    assert more.new_filter and len(more.subscriber.filters) == 2


def test_unsubscribe_by_token_and_forged_token(settings, vocab):
    subscriptions.subscribe(settings, "a@example.org", vocab.rule(hs=["8507"]), confirmed=True)
    url = subscriptions.unsubscribe_url(settings, "a@example.org")
    token = url.split("token=")[1]
    with pytest.raises(TokenError):
        subscriptions.unsubscribe_by_token(token[:-3] + "xyz", settings)
    assert subscriptions.get_subscriber(settings, "a@example.org").active
    assert subscriptions.unsubscribe_by_token(token, settings).status == "unsubscribed"


def test_confirm_link_after_unsubscribing_is_refused(settings, vocab):
    result = subscriptions.subscribe(settings, "a@example.org", vocab.rule(hs=["8507"]))
    link = subscriptions.confirm_url(settings, result.subscriber)
    subscriptions.unsubscribe(settings, "a@example.org")
    with pytest.raises(TokenError, match="unsubscribed"):
        subscriptions.confirm(link.split("token=")[1], settings)


CSV_TEXT = """email,hs,product_lines,members,keywords,areas,min_level,lang,frequency,confirmed
good@example.org,8507;8506,lithium_batteries,EU;USA,锂电池,TBT,medium,zh,daily,yes
bad-email,8507,,,,,,zh,daily,yes
bad-hs@example.org,8599,,,,,,en,daily,yes
"pending@example.org",,,Kenya,"mobile phone, charger",,,both,weekly,no
bad-member@example.org,85,,Atlantis,,,,zh,daily,yes
bad-freq@example.org,85,,,,,,zh,hourly,yes
"""


def test_csv_import_reports_bad_rows_by_line_and_keeps_good_rows(settings):
    report = subscriptions.import_csv(settings, io.StringIO(CSV_TEXT))
    assert report.added == 2
    assert [line for line, _ in report.errors] == [3, 4, 6, 7]
    assert "email 'bad-email'" in report.errors[0][1]
    assert "8599" in report.errors[1][1]
    assert "Atlantis" in report.errors[2][1]
    assert "frequency 'hourly'" in report.errors[3][1]
    good = subscriptions.get_subscriber(settings, "good@example.org")
    assert good.active and good.filters[0].include.members == ["EU", "USA"]
    pending = subscriptions.get_subscriber(settings, "pending@example.org")
    assert pending.status == "pending" and pending.frequency == "weekly"
    assert pending.filters[0].include.keywords == ["mobile phone", "charger"]
    assert report.needing_confirmation == ["pending@example.org"]


def test_csv_with_unknown_column_is_refused_whole(settings):
    report = subscriptions.import_csv(settings, io.StringIO("email,hscode\na@example.org,8507\n"))
    assert report.added == 0 and report.errors[0][0] == 1 and "hscode" in report.errors[0][1]


def test_csv_export_then_import_round_trips(settings):
    subscriptions.import_csv(settings, io.StringIO(CSV_TEXT))
    out = io.StringIO()
    assert subscriptions.export_csv(settings, out) == 2
    exported = out.getvalue()
    again = subscriptions.import_csv(settings, io.StringIO(exported))
    assert again.errors == [] and again.added == 0 and again.unchanged == 2


runner = CliRunner()


def test_cli_subscribe_list_unsubscribe(settings):
    result = runner.invoke(
        app,
        [
            "subscribe",
            "cli@example.org",
            "--hs",
            "8507",
            "--member",
            "EU",
            "--lang",
            "zh",
            "--frequency",
            "daily",
            "--confirmed",
        ],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["subscriptions", "list"])
    assert "cli@example.org" in listed.output and "8507" in listed.output
    gone = runner.invoke(app, ["unsubscribe", "cli@example.org"])
    assert (
        gone.exit_code == 0
        and subscriptions.get_subscriber(settings, "cli@example.org").status == "unsubscribed"
    )


def test_cli_refuses_bad_values_with_reason(settings):
    result = runner.invoke(app, ["subscribe", "cli@example.org", "--hs", "8599", "--member", "Atlantis"])
    assert result.exit_code == 2
    assert "8599" in result.output and "Atlantis" in result.output
    assert subscriptions.get_subscriber(settings, "cli@example.org") is None


def test_cli_import_reports_lines(settings, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(CSV_TEXT, encoding="utf-8")
    result = runner.invoke(app, ["subscriptions", "import", str(source)])
    assert result.exit_code == 1  # some rows were bad
    assert "list.csv:3:" in result.output and "list.csv:7:" in result.output
    assert "2 filters added" in result.output

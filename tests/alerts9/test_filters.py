"""Several named filters per subscriber: overlapping filters deliver once naming every filter met; exclusions
veto; the CLI and CSV carry names and exclusions."""

from __future__ import annotations

import io

from typer.testing import CliRunner

from alerts import run, subscriptions
from alerts.rules import Rule
from alerts.validation import SubscriptionError, Vocabulary
from commands.cli import app

from .conftest import DAY


def _plain(message) -> str:
    return message.message.get_body(("plain",)).get_content()


def test_overlapping_filters_deliver_once_naming_each_filter(smtp_server, settings, store):
    email = "buyer@example.org"
    subscriptions.subscribe(
        settings, email, Rule(hs=["8507"], members=["EU"]), name="EU batteries", lang="en", confirmed=True
    )
    subscriptions.subscribe(
        settings, email, Rule(keywords=["lithium ion"]), name="Lithium anywhere", lang="en", confirmed=True
    )
    report = run.send_alerts(settings, DAY, store=store)
    eu_alerts = [m for m in smtp_server.messages if "G/TBT/N/EU/2001" in m.message["Subject"]]
    assert len(eu_alerts) == 1, "a notice both filters meet arrives once"
    body = _plain(eu_alerts[0])
    assert "Your filters matched: EU batteries; Lithium anywhere" in body
    assert body.count("== G/TBT/N/EU/2001") == 1
    # the EAC power-bank copies meet only "Lithium anywhere": one alert for the group, naming that filter
    eac = [
        m for m in smtp_server.messages if "1900" in m.message["Subject"] or "1901" in m.message["Subject"]
    ]
    assert len(eac) == 1 and "Your filters matched: Lithium anywhere" in _plain(eac[0])
    assert report.delivery.failed == []
    again = run.send_alerts(settings, DAY, store=store)
    assert again.queued == [] and len(smtp_server.messages) == len(report.delivery.sent)


def test_exclusion_vetoes_a_match(settings, store):
    vocabulary = Vocabulary(settings)
    subscriptions.subscribe(
        settings,
        "a@example.org",
        vocabulary.rule(hs="8507"),
        name="batteries",
        exclude=[vocabulary.exclusion(keywords="lead-acid")],
        confirmed=True,
    )
    subscriptions.subscribe(
        settings, "b@example.org", vocabulary.rule(hs="8507"), name="batteries", confirmed=True
    )
    matched = {
        s.email: {m.entry.notice.symbol for m in found}
        for s in subscriptions.list_subscribers(settings)
        for sid, found in run.match_day(settings, store, DAY, "immediate").items()
        if sid == s.id
    }
    assert "G/TBT/N/EU/2002" not in matched["a@example.org"]  # "lead-acid" vetoes it
    assert "G/TBT/N/EU/2002" in matched["b@example.org"]
    assert "G/TBT/N/EU/2001" in matched["a@example.org"]  # lithium-ion is not vetoed


def test_hs_exclusion_vetoes_only_what_it_names(settings, store):
    vocabulary = Vocabulary(settings)
    subscriptions.subscribe(
        settings,
        "a@example.org",
        vocabulary.rule(hs="85", members="EU"),
        exclude=[vocabulary.exclusion(hs="850710")],
        confirmed=True,
    )
    (found,) = run.match_day(settings, store, DAY, "immediate").values()
    assert {m.entry.notice.symbol for m in found} == {"G/TBT/N/EU/2001"}


def test_named_filter_is_replaced_not_duplicated_and_names_are_unique(settings):
    vocabulary = Vocabulary(settings)
    first = subscriptions.subscribe(
        settings, "a@example.org", vocabulary.rule(hs="8507"), name="EU batteries"
    )
    again = subscriptions.subscribe(
        settings, "a@example.org", vocabulary.rule(hs="850760"), name="EU batteries"
    )
    assert again.filter.id == first.filter.id and again.updated and not again.new_filter
    assert again.filter.include.hs == ["850760"]
    other = subscriptions.subscribe(
        settings, "a@example.org", vocabulary.rule(keywords="电子烟"), name="海湾电子烟"
    )
    try:
        subscriptions.update_filter(settings, "a@example.org", other.filter.id, name="EU batteries")
    except SubscriptionError as exc:
        assert "another filter" in str(exc)
    else:
        raise AssertionError("a clashing name was accepted")
    subscriptions.remove_filter(settings, "a@example.org", first.filter.id)
    assert [f.name for f in subscriptions.get_subscriber(settings, "a@example.org").filters] == ["海湾电子烟"]


def test_csv_round_trip_keeps_names_and_exclusions(settings):
    text = (
        "email,filter,hs,members,keywords,exclude_hs,exclude_keywords,lang,frequency,confirmed\n"
        "a@example.org,EU batteries,8507,EU,,850710,lead-acid,en,daily,yes\n"
        "a@example.org,海湾电子烟,,SAU;ARE,电子烟,,,en,daily,yes\n"
        "a@example.org,broken,8599,,,,,en,daily,yes\n"
    )
    report = subscriptions.import_csv(settings, io.StringIO(text))
    assert report.added == 2 and [line for line, _ in report.errors] == [4]
    out = io.StringIO()
    assert subscriptions.export_csv(settings, out) == 2
    exported = out.getvalue()
    assert "EU batteries" in exported and "850710" in exported and "lead acid" in exported
    # importing the export into a fresh table gives the same filters
    before = [
        (f.name, f.include, f.exclude)
        for f in subscriptions.get_subscriber(settings, "a@example.org").filters
    ]
    again = subscriptions.import_csv(settings, io.StringIO(exported))
    assert again.unchanged == 2 and again.added == 0
    after = [
        (f.name, f.include, f.exclude)
        for f in subscriptions.get_subscriber(settings, "a@example.org").filters
    ]
    assert before == after


def test_cli_manages_named_filters(settings):
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "subscribe",
            "cli@example.org",
            "--filter",
            "EU batteries",
            "--hs",
            "8507",
            "--member",
            "EU",
            "--exclude-keyword",
            "lead-acid",
            "--confirmed",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "filter added" in result.output and "excluding keywords lead acid" in result.output
    flt = subscriptions.get_subscriber(settings, "cli@example.org").filters[0]
    listed = runner.invoke(app, ["filters", "list", "cli@example.org"])
    assert f"#{flt.id} EU batteries" in listed.output and "/feeds/filters/" in listed.output
    renamed = runner.invoke(
        app, ["filters", "update", "cli@example.org", str(flt.id), "--name", "欧盟电池", "--clear-exclusions"]
    )
    assert renamed.exit_code == 0 and "欧盟电池" in renamed.output and "excluding" not in renamed.output
    bad = runner.invoke(app, ["filters", "remove", "cli@example.org", "999"])
    assert bad.exit_code == 1 and "no filter 999" in bad.output

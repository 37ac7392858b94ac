"""Webhooks against a real HTTP receiver on 127.0.0.1: signed JSON, retries after failures, at most once per
notice and endpoint, disabling a dead endpoint (its owner is told), and no private hosts in production mode."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts import run, subscriptions, webhooks
from alerts.outbox import Outbox
from alerts.rules import Rule
from alerts.webhooks import WebhookError, WebhookPolicy, verify_signature

from .conftest import DAY

TESTS = WebhookPolicy(allow_private=True)  # explicit: the receiver is on loopback
PRODUCTION = WebhookPolicy()


def _hooked(settings, url: str, rule: Rule, email: str = "ops@example.org", name: str = "EU batteries"):
    result = subscriptions.subscribe(settings, email, rule, name=name, confirmed=True, lang="en")
    return webhooks.register(settings, email, result.filter.id, url, TESTS)


def _later(minutes: int) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)


def test_delivery_is_signed_json_the_receiver_can_verify(settings, store, receiver):
    endpoint = _hooked(settings, receiver.url, Rule(hs=["8507"], members=["EU"]))
    report = run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    assert len(report.webhooks.sent) == 2 and len(receiver.received) == 2
    by_symbol = {d.json["notice"]["symbol"]: d for d in receiver.received}
    delivery = by_symbol["G/TBT/N/EU/2001"]
    headers = delivery.headers
    assert verify_signature(
        endpoint.secret, headers["X-Tbtwatch-Timestamp"], delivery.body, headers["X-Tbtwatch-Signature"]
    )
    assert not verify_signature(
        "another secret", headers["X-Tbtwatch-Timestamp"], delivery.body, headers["X-Tbtwatch-Signature"]
    )
    assert not verify_signature(
        endpoint.secret,
        headers["X-Tbtwatch-Timestamp"],
        delivery.body + b" ",
        headers["X-Tbtwatch-Signature"],
    )
    stale = int(headers["X-Tbtwatch-Timestamp"]) + 3600
    assert not verify_signature(
        endpoint.secret,
        headers["X-Tbtwatch-Timestamp"],
        delivery.body,
        headers["X-Tbtwatch-Signature"],
        now=stale,
    )
    body = delivery.json
    assert body["filter"]["name"] == "EU batteries" and body["assessment"]["level"] == "high"
    assert body["notice"]["translations"]["zh"]["title"].startswith("关于轻型交通工具")
    assert "关于" in delivery.body.decode("utf-8")  # UTF-8, not \u escapes
    assert body["cutoff_date"] == "2026-04-28"  # final date 2026-05-01 (Fri) minus 3 working days
    assert headers["X-Tbtwatch-Delivery"] == body["delivery"]


def test_retries_after_failures_then_recovers_and_never_repeats(settings, store, receiver):
    _hooked(settings, receiver.url, Rule(hs=["850760"], members=["EU"]))
    receiver.answers = [500, 503]
    first = run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    assert first.webhooks.retrying and not first.webhooks.sent
    (row,) = Outbox(settings).rows(kind="notice")
    assert row.state == "queued" and "HTTP 500" in row.last_error
    run.deliver_all(settings, now=_later(2), webhook_policy=TESTS)  # 503: backs off again
    assert Outbox(settings).rows(kind="notice")[0].attempts == 2
    run.deliver_all(settings, now=_later(10), webhook_policy=TESTS)
    (row,) = Outbox(settings).rows(kind="notice")
    assert row.state == "sent" and len(receiver.received) == 3
    assert len({d.headers["X-Tbtwatch-Delivery"] for d in receiver.received}) == 1  # the same delivery id
    assert webhooks.list_endpoints(settings)[0].failures == 0
    again = run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    run.deliver_all(settings, now=_later(60), webhook_policy=TESTS)
    assert again.queued == [] and len(receiver.received) == 3


def test_a_failing_endpoint_is_not_hammered_within_one_run(settings, store, receiver):
    _hooked(settings, receiver.url, Rule(hs=["8507"], members=["EU"]))  # two notices: two messages
    receiver.answers = [500]
    report = run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    assert len(receiver.received) == 1 and len(report.webhooks.retrying) == 1
    rows = Outbox(settings).rows(kind="notice")
    assert [r.state for r in rows] == ["queued", "queued"] and sorted(r.attempts for r in rows) == [0, 1]
    run.deliver_all(settings, now=_later(5), webhook_policy=TESTS)
    assert len(receiver.received) == 3 and {r.state for r in Outbox(settings).rows(kind="notice")} == {"sent"}


def test_one_post_per_group_of_joint_copies(settings, store, receiver):
    _hooked(settings, receiver.url, Rule(keywords=["power banks"]))
    run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    (delivery,) = receiver.received
    assert delivery.json["group"] == [
        f"G/TBT/N/{c}/{n}"
        for c, n in [("BDI", 1900), ("KEN", 1901), ("RWA", 1902), ("TZA", 1903), ("UGA", 1904)]
    ]


def test_dead_endpoint_is_disabled_and_its_owner_told(smtp_server, settings, store, receiver):
    endpoint = _hooked(settings, receiver.url, Rule(hs=["850760"], members=["EU"]))
    receiver.answers = [500] * webhooks.DISABLE_AFTER
    run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    for attempt in range(1, webhooks.DISABLE_AFTER):
        run.deliver_all(settings, now=_later(2**attempt * 60), webhook_policy=TESTS)
    disabled = webhooks.get_endpoint(settings, endpoint.id)
    assert disabled.status == "disabled" and disabled.failures == webhooks.DISABLE_AFTER
    assert len(receiver.received) == webhooks.DISABLE_AFTER
    (notice_mail,) = [
        m for m in smtp_server.messages if "webhook endpoint was disabled" in m.message["Subject"]
    ]
    assert receiver.url in notice_mail.message.get_body(("plain",)).get_content()
    assert notice_mail.rcpt_tos == ["ops@example.org"]
    run.deliver_all(settings, now=_later(60 * 24), webhook_policy=TESTS)  # nothing more goes to it
    assert len(receiver.received) == webhooks.DISABLE_AFTER


def test_gone_disables_at_once(settings, store, receiver):
    endpoint = _hooked(settings, receiver.url, Rule(hs=["8507"], members=["EU"]))
    receiver.answers = [410]
    report = run.send_alerts(settings, DAY, store=store, webhook_policy=TESTS)
    assert webhooks.get_endpoint(settings, endpoint.id).status == "disabled"
    assert len(receiver.received) == 1 and len(report.webhooks.failed) == 1
    assert [r.state for r in Outbox(settings).rows(kind="notice")] == [
        "failed",
        "failed",
    ]  # the other one too


@pytest.mark.parametrize(
    "url, why",
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),  # cloud metadata
        ("https://[::1]/hook", "loopback"),
        ("https://[fd00::1]/hook", "private"),
        ("https://100.64.0.1/hook", "private"),  # carrier-grade NAT
        ("http://93.184.215.14/hook", "https"),
        ("https://user:pw@93.184.215.14/hook", "user or password"),
        ("ftp://93.184.215.14/hook", "https"),
        ("https:///hook", "https"),
    ],
)
def test_production_refuses_private_hosts_and_plain_http(url, why):
    with pytest.raises(WebhookError) as refused:
        PRODUCTION.check(url)
    text = str(refused.value)
    assert ("private, loopback or reserved" in text) if why in {"loopback", "private"} else (why in text)


def test_production_accepts_a_public_https_host_and_rechecks_before_each_post(settings, store, receiver):
    assert PRODUCTION.check("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    # a name that resolved publicly at registration but points inside at delivery time (DNS rebinding)
    answers = {"hooks.example.net": ["93.184.215.14"]}
    resolver = lambda host: answers[host]  # noqa: E731
    result = subscriptions.subscribe(
        settings, "x@example.org", Rule(hs=["8507"], members=["EU"]), confirmed=True
    )
    endpoint = webhooks.register(
        settings, "x@example.org", result.filter.id, "https://hooks.example.net/h", PRODUCTION, resolver
    )
    answers["hooks.example.net"] = ["127.0.0.1"]
    run.send_alerts(settings, DAY, store=store, deliver_now=False)
    report, _ = webhooks.WebhookSender(settings, PRODUCTION, resolver).run()
    assert report.sent == [] and "127.0.0.1" in report.failed[0][1]
    assert webhooks.get_endpoint(settings, endpoint.id).failures == 1


def test_registration_refuses_other_peoples_filters(settings):
    mine = subscriptions.subscribe(settings, "me@example.org", Rule(hs=["8507"]), confirmed=True)
    with pytest.raises(WebhookError, match="no filter"):
        webhooks.register(
            settings, "someone@example.org", mine.filter.id, "https://93.184.215.14/h", PRODUCTION
        )


def test_the_pipelines_alerts_stage_reports_webhook_deliveries(settings, store, receiver, monkeypatch):
    from commands import pipeline
    from tbtwatch.settings import get_settings

    _hooked(settings, receiver.url, Rule(hs=["8507"], members=["EU"]))  # two notices: two POSTs
    monkeypatch.setenv("TBTWATCH_ALERTS_WEBHOOKS_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    receiver.answers = [200, 500]
    result = pipeline.send_daily_alerts(get_settings(), DAY)
    assert len(receiver.received) == 2
    assert result.status == pipeline.DONE, result.summary  # a subscriber's failing endpoint is not a failed stage
    assert result.counts["webhooks_sent"] == 1 and result.counts["webhooks_retrying"] == 1
    assert "webhooks: 1 sent, 1 to retry" in result.summary
    again = pipeline.send_daily_alerts(get_settings(), DAY)  # the retry is not due yet: nothing is sent
    assert again.counts["webhooks_sent"] == 0 and again.status == pipeline.NOTHING and len(receiver.received) == 2

"""commands.pipeline and commands.orchestration without Airflow: stages, windows, settings, the CLI."""

from __future__ import annotations

import datetime as dt
import socket
from types import SimpleNamespace

import pendulum
import pytest
from typer.testing import CliRunner

from commands import orchestration, pipeline
from commands.cli import app
from crawlers.sources import load_sources
from tbtwatch.settings import get_settings, load_settings


def test_run_stage_times_the_stage_and_a_failed_stage_raises_for_the_scheduler():
    result = pipeline.run_stage("x", lambda: pipeline.StageResult("x", pipeline.DONE, "ok"))
    assert result.status == pipeline.DONE and result.seconds >= 0
    with pytest.raises(pipeline.StageFailed, match="boom"):
        pipeline.StageResult("y", pipeline.FAILED, "boom").checked()


def test_days_and_windows():
    assert pipeline.crawl_interval(dt.date(2025, 7, 22)) == (dt.date(2025, 7, 21), dt.date(2025, 7, 22))
    assert pipeline.days_between(dt.date(2025, 2, 27), dt.date(2025, 3, 1)) == [
        dt.date(2025, 2, 27), dt.date(2025, 2, 28), dt.date(2025, 3, 1)]
    with pytest.raises(ValueError, match="before --since"):
        pipeline.days_between(dt.date(2025, 3, 2), dt.date(2025, 3, 1))


def test_run_days_reads_the_data_interval_in_shanghai_time():
    # The 07:00 Asia/Shanghai run of 22 July covers [21 July 07:00, 22 July 07:00) = 23:00 UTC the day before.
    start = pendulum.datetime(2025, 7, 20, 23, tz="UTC")
    end = pendulum.datetime(2025, 7, 21, 23, tz="UTC")
    assert orchestration.run_days({"data_interval_start": start, "data_interval_end": end}) == (
        dt.date(2025, 7, 22), dt.date(2025, 7, 21), dt.date(2025, 7, 22))
    week = {"data_interval_start": pendulum.datetime(2025, 7, 13, 0, tz="UTC"),
            "data_interval_end": pendulum.datetime(2025, 7, 20, 0, tz="UTC")}
    assert orchestration.run_days(week) == (dt.date(2025, 7, 20), dt.date(2025, 7, 13), dt.date(2025, 7, 20))
    manual = {"data_interval_start": None, "data_interval_end": None, "logical_date": None,
              "run_after": pendulum.datetime(2025, 7, 22, 20, tz="UTC")}
    assert orchestration.run_days(manual) == (dt.date(2025, 7, 23), dt.date(2025, 7, 22), dt.date(2025, 7, 23))


def test_airflow_connections_become_tbtwatch_settings(tmp_path):
    smtp = SimpleNamespace(host="smtp.example.org", port=465, login="bot", password="pw", conn_type="smtp",
                           extra_dejson={"security": "ssl", "sender": "tbtwatch <bot@example.org>"})
    es = SimpleNamespace(host="es.example.org", port=9243, login="", password="", conn_type="https",
                         extra_dejson={"api_key": "k", "index": "notices-prod"})
    env = orchestration.airflow_overrides(smtp, es, str(tmp_path / "data"))
    settings = load_settings(environ=env)
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == ("smtp.example.org", 465, "ssl")
    assert (settings.smtp.username, settings.smtp.password) == ("bot", "pw")
    assert settings.smtp.sender == "tbtwatch <bot@example.org>"
    assert settings.archive.backend == "elasticsearch"
    assert settings.archive.es_url == "https://es.example.org:9243"
    assert (settings.archive.es_api_key, settings.archive.es_index) == ("k", "notices-prod")
    assert settings.home == tmp_path / "data"
    assert orchestration.airflow_overrides(None, None, None) == {}


def test_index_is_a_declared_no_op_with_sqlite(home):
    result = pipeline.index_changed(get_settings(), ["G/TBT/N/USA/1"], dt.date(2025, 7, 21), dt.date(2025, 7, 22))
    assert result.status == pipeline.SKIPPED and "sqlite" in result.summary.lower()


def test_crawl_summary_counts_and_names_failed_sources():
    results = [pipeline.SourceResult("a", True, {"inserted": 3, "updated": 1}),
               pipeline.SourceResult("b", False, error="HTTP 500"),
               pipeline.SourceResult("c", True, {"inserted": 2})]
    summary = pipeline.crawl_summary(results)
    assert summary.status == pipeline.DONE  # a failed source is reported, the day goes on
    assert summary.counts["inserted"] == 5 and summary.counts["failed_sources"] == 1
    assert "failed: b" in summary.summary
    assert pipeline.crawl_summary([]).status == pipeline.NOTHING


def test_a_crawl_that_cannot_run_fails_every_source_with_the_reason(home):
    results = pipeline.crawl_sources(["no_such_source"], None, None)
    assert [r.ok for r in results] == [False]
    assert "no_such_source" in results[0].error


def test_digest_is_written_sent_once_and_names_failed_sources(home, monkeypatch, tmp_path):
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            received.append(envelope.content)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("TBTWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TBTWATCH_SMTP_PORT", str(port))
        monkeypatch.setenv("TBTWATCH_SMTP_SECURITY", "none")
        monkeypatch.setenv("TBTWATCH_ALERTS_WORKING_GROUP", "group@example.org")
        get_settings.cache_clear()
        day = dt.date(2025, 7, 22)
        first = pipeline.make_digest(get_settings(), day, ["cn_wzisps"])
        assert first.status == pipeline.DONE, first.summary
        assert first.counts["sent"] == 1 and len(received) == 1
        path = first.outputs["digest"]
        written = open(path, encoding="utf-8").read()
        assert path.endswith("digest-2025-07-22.html") and "cn_wzisps" not in written  # named by title
        assert load_sources()["cn_wzisps"].title in written
        again = pipeline.make_digest(get_settings(), day, ["cn_wzisps"])
        assert again.counts["sent"] == 0 and len(received) == 1
        assert again.outputs["digest"] == path  # the same facts: the same version
    finally:
        controller.stop()


@pytest.mark.slow
def test_daily_offline_runs_every_available_stage_and_says_where_outputs_went(home):
    result = CliRunner().invoke(app, ["daily", "--offline", "--date", "2025-07-22"])
    assert result.exit_code == 0, result.output
    for stage in ("crawl", "classify", "index", "alerts", "digest"):
        assert stage in result.output
    assert "archive.sqlite3" in result.output and "digest-2025-07-22.html" in result.output
    assert "tbtwatch serve" in result.output
    # nothing is hard-wrapped mid-phrase: each source's line and each stage's summary is one line
    assert any(line.startswith("  ok     eping_api: nothing found; skipped") and "TBTWATCH_EPING_API_KEY" in line
               for line in result.output.splitlines())
    assert any(line.startswith("digest    done: ") and "sent" in line for line in result.output.splitlines())
    from archive.sqlite_store import SqliteStore

    assert SqliteStore(get_settings().archive_db).count() > 0


def test_backfill_refuses_a_reversed_range(home):
    result = CliRunner().invoke(app, ["backfill", "--since", "2025-07-22", "--until", "2025-07-20"])
    assert result.exit_code == 2
    assert "before --since" in result.output


def test_the_sources_verdict_of_a_run():
    read = {"source": "wto_docs", "ok": True, "note": "", "counts": {"pages": 4}}
    idle = {"source": "documents", "ok": True, "note": "", "counts": {}}  # nothing to fetch today
    skipped = {"source": "eping_api", "ok": True, "note": "skipped: no API key"}
    broken = {"source": "cn_wzisps", "ok": False, "error": "HTTP 500"}
    assert pipeline.sources_verdict([read, skipped]) == ""
    assert pipeline.sources_verdict([read, skipped, broken]) == "1 of 2 sources failed (cn_wzisps: HTTP 500)"
    with pytest.raises(pipeline.NoSourceRead, match="every source failed"):
        pipeline.sources_verdict([skipped, idle, broken])  # a source not tried is not a source read


def test_a_thin_notice_is_classified_with_its_notified_documents(home):
    """'Draft technical regulation' names no product; the first pages of its draft do, at the description's weight."""
    from archive.documents import NotifiedDocument, NotifiedDocuments
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    settings = load_settings()
    store = SqliteStore(settings.archive_db)
    thin = notice_from_dict({"symbol": "G/TBT/N/VNM/400", "title": "Draft technical regulation"})
    coded = notice_from_dict({"symbol": "G/TBT/N/VNM/401", "title": "Draft technical regulation", "hs_codes": ["9503"]})
    store.upsert([thin, coded])
    documents = NotifiedDocuments(settings.archive_db)
    assert pipeline.read_for_classify(thin, documents) is thin  # nothing fetched: read as it is
    documents.save(NotifiedDocument("https://members.wto.org/crnattachments/2025/TBT/VNM/25_01234_00_e.pdf",
                                    [thin.symbol], 200, "application/pdf", 1000,
                                    ["Scope: this regulation applies to toys for children under 14 years."]))
    read = pipeline.read_for_classify(thin, documents)
    assert "toys for children" in read.description and read.title == thin.title
    assert pipeline.read_for_classify(coded, documents) is coded  # a notice that gives codes needs no help
    assert store.get(thin.symbol).description == ""  # the stored notice is unchanged
    result = pipeline.classify_pending(settings, dt.date(2025, 7, 22))
    assert result.status == pipeline.DONE
    assessment = store.get_assessment(thin.symbol)
    assert [line["id"] for line in assessment["product_lines"]] == ["toys"]
    assert store.stale_assessments() == []  # assessed under the stored notice's hash: not assessed again

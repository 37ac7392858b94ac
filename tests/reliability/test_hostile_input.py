"""Hostile input end to end: no single notice or line stops an import or the day.

Real components only: the ``tbtwatch import`` command on JSON Lines files we write, the archive on a real
SQLite file, the spaCy classifier and the whole daily run (``run_daily``, no crawl) with alerts and digest
written as files. Figures proved: a notice longer than spaCy's ``max_length`` is cut at the model's caps (its
full line kept raw) and the day runs every stage; a stored notice the classifier still cannot read is
reported by symbol with its error while the others are assessed and alerted; every kind of bad line is
reported by number and skipped while the good lines are stored.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from archive.raw_pages import RawPages
from archive.sqlite_store import SqliteStore
from commands import pipeline
from commands.cli import app
from tbtwatch.model import TEXT_CAPS, notice_from_dict
from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(120)

DAY = dt.date.today()


def record(number: int, **fields) -> dict:
    return {"symbol": f"G/TBT/N/EU/{number}", "member": "European Union", "distribution_date": DAY.isoformat(),
            "comment_deadline": (DAY + dt.timedelta(days=60)).isoformat(),
            "title": "Lithium-ion batteries for electric toys", "products": "Batteries (HS 8507.60)",
            "hs_codes": ["8507.60"], **fields}


def import_file(tmp_path, lines: list[str | bytes]):
    path = tmp_path / "notices.jsonl"
    path.write_bytes(b"".join((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n"
                              for line in lines))
    return CliRunner().invoke(app, ["import", str(path)]), path


def stages(report: pipeline.DailyReport) -> dict[str, pipeline.StageResult]:
    return {s.stage: s for s in report.stages}


def test_a_notice_longer_than_spacys_limit_is_capped_kept_raw_and_the_day_runs(home, tmp_path):
    long_text = "Requirements for lithium-ion batteries in toys. " * 25_000  # 1.2 million characters
    result, path = import_file(tmp_path, [json.dumps(record(1, description=long_text)), json.dumps(record(2))])
    assert result.exit_code == 0, result.output
    assert f"{path}:1: text cut at the model's caps (description to 200,000 characters)" in result.output
    settings = get_settings()
    stored = SqliteStore(settings.archive_db).get("G/TBT/N/EU/1")
    assert len(stored.description) <= TEXT_CAPS["description"] and stored.description.startswith("Requirements")
    kept = RawPages(settings.archive_db).failed("import")
    assert len(kept) == 1 and long_text in json.loads(kept[0].body)["description"]  # the full text, raw

    report = pipeline.run_daily(DAY, settings=settings, sources=[])
    by_stage = stages(report)
    assert report.ok and by_stage["classify"].counts["assessed"] == 2, by_stage["classify"].summary
    assert by_stage["alerts"].status != pipeline.SKIPPED and by_stage["digest"].status == pipeline.DONE


def test_the_caps_keep_every_classifier_text_under_spacys_max_length():
    spacy = pytest.importorskip("spacy")
    from nlp.classifier import notice_doc_texts

    full = {name: "x" * TEXT_CAPS[name] for name in ("title", "products", "description")}
    notice = notice_from_dict({"symbol": "G/TBT/N/EU/3", **{k: v + "y" for k, v in full.items()},
                               "translations": {lang: full for lang in ("fr", "es", "zh")}})
    lengths = [len(text.text) for text in notice_doc_texts(notice)]
    assert len(lengths) == 2 and max(lengths) < spacy.blank("en").max_length, lengths


def test_a_notice_the_classifier_still_fails_on_is_reported_by_symbol_and_the_day_goes_on(home, tmp_path,
                                                                                          monkeypatch):
    import nlp.classifier

    build = nlp.classifier.build_pipelines

    def pipelines_with_a_lower_limit(*args, **kwargs):  # as a model configured with a smaller max_length
        made = build(*args, **kwargs)
        for pipeline_ in made.values():
            pipeline_.max_length = 5_000
        return made

    monkeypatch.setattr(nlp.classifier, "build_pipelines", pipelines_with_a_lower_limit)
    lines = [json.dumps(record(10)), json.dumps(record(11, description="Battery marking. " * 400)),
             json.dumps(record(12))]
    assert import_file(tmp_path, lines)[0].exit_code == 0
    settings = get_settings()
    report = pipeline.run_daily(DAY, settings=settings, sources=[])
    classify = stages(report)["classify"]
    assert classify.status == pipeline.DONE and classify.counts == {**classify.counts, "assessed": 2, "failed": 1}
    assert "G/TBT/N/EU/11 (ValueError: [E088] Text of length" in classify.summary, classify.summary
    assert sorted(classify.symbols) == ["G/TBT/N/EU/10", "G/TBT/N/EU/12"]
    assert report.ok and stages(report)["digest"].status == pipeline.DONE, [s.summary for s in report.stages]
    assert stages(report)["alerts"].status in (pipeline.DONE, pipeline.NOTHING)
    assert SqliteStore(settings.archive_db).stale_assessments() == ["G/TBT/N/EU/11"]  # tried again next run


BAD_LINES = {  # line number in the file -> (the line, what its report says)
    2: (b'{"symbol": "G/TBT/N/EU/31", "title": "caf\xe9 \xff batteries"}', "not valid UTF-8"),
    3: (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    4: (b'{"symbol": "G/TBT/N/EU/32", "title": "Toys", "hs_codes": [' + b"9" * 5_000 + b"]}", "more than 4,300 digits"),
    5: (rb'{"symbol": "G/TBT/N/EU/33", "title": "Toys \ud800 and batteries"}', "lone surrogate"),
    6: (b'["a list, not a notice"]', "expected a JSON object"),
    7: (b'{"symbol": "G/TBT/N/EU/34", "title": ', "not valid JSON"),
}


def test_every_kind_of_bad_line_is_reported_by_number_and_the_good_lines_are_stored(home, tmp_path):
    lines = [json.dumps(record(30)), *(line for line, _ in BAD_LINES.values()), json.dumps(record(35))]
    result, path = import_file(tmp_path, lines)
    assert result.exit_code == 0, result.output
    reported = {int(line.split(":")[1]): line for line in result.stderr.splitlines() if line.startswith(str(path))}
    assert sorted(reported) == sorted(BAD_LINES), result.output
    for number, (_, reason) in BAD_LINES.items():
        assert reason in reported[number], reported[number]
    assert "2 new" in result.stdout and "6 bad lines skipped" in result.stdout
    store = SqliteStore(get_settings().archive_db)
    assert [n.symbol for n in store.iter_notices()] == ["G/TBT/N/EU/30", "G/TBT/N/EU/35"]
    assert store.integrity_check() == []


FAST_CRAWL = ["--set", "AUTOTHROTTLE_START_DELAY=0.05", "--set", "RETRY_BACKOFF_BASE=0.05", "--set",
              "DOWNLOAD_TIMEOUT=2", "--set", "LOG_LEVEL=WARNING"]


@pytest.mark.slow
def test_a_crawl_batch_stores_every_notice_but_the_one_the_archive_refuses(home, monkeypatch):
    from crawlers.replay import ReplayServer
    from crawlers.runner import run_crawl
    from tbtwatch.model import notice_from_dict

    monkeypatch.setenv("TBTWATCH_EPING_API_KEY", "replay-test-key")
    full_day = dt.date(2025, 7, 21)  # G/TBT/N/USA/2210's distribution date, already full in the archive
    settings = get_settings()
    archive = SqliteStore(settings.archive_db)
    archive.upsert([notice_from_dict({"symbol": f"G/TBT/N/KOR/{n}", "distribution_date": full_day.isoformat(),
                                      "title": "Seeded notice"}) for n in range(1, 4097)])
    with ReplayServer() as server:
        report = run_crawl(["eping_bulk"], None, None, server.url, extra_args=FAST_CRAWL, timeout=120)
    bulk = report.sources["eping_bulk"]
    crawled = [n for n in archive.iter_notices() if not n.symbol.startswith("G/TBT/N/KOR/")]
    assert bulk.inserted == len(crawled) >= 3, bulk  # the batch's other notices are stored
    assert all(n.distribution_date != full_day for n in crawled)
    assert bulk.invalid_notices >= 2  # the fixture's row without a number, and each refused notice
    kept = [p.error for p in RawPages(settings.archive_db).failed("eping_bulk")]
    assert any("distribution date 2025-07-21" in error for error in kept), kept


def test_more_notices_on_one_day_than_the_search_key_holds_rejects_only_the_extra_lines(home, tmp_path):
    day = "2025-03-10"
    lines = [json.dumps({"symbol": f"G/TBT/N/KOR/{n}", "distribution_date": day, "title": "Toys"})
             for n in range(1, 4101)]
    result, path = import_file(tmp_path, lines)
    assert result.exit_code == 0, result.output[-2000:]
    rejected = [line for line in result.stderr.splitlines() if "distribution date 2025-03-10" in line]
    assert [line.split(":")[1] for line in rejected] == ["4097", "4098", "4099", "4100"]
    assert "4096 new" in result.stdout and "4 bad lines skipped" in result.stdout
    assert SqliteStore(get_settings().archive_db).count() == 4096

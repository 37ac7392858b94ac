"""Each benchmark of issue 16 run end to end at a toy size, so a change that breaks one shows in the suite.

The figures at this size mean nothing; what is checked is that every stage ran for real (the crawl
stored the workbook's notices, the cold starts agreed on the answer, the load test got answers).
"""

from __future__ import annotations

import json
import shutil

import pytest

from bench import bench_backfill, bench_first_search, bench_web_load
from bench.common import bench_dir

pytestmark = pytest.mark.slow


def saved() -> dict:
    return json.loads((bench_dir() / "latest.json").read_text())


def test_backfill_crawls_classifies_and_compares_the_readers(home, shared_data, monkeypatch):
    monkeypatch.setattr(bench_backfill, "ROWS", 120)
    figures = bench_backfill.run()
    assert 100 <= figures["backfill_notices"] <= 120  # repeats of one symbol merge into one notice
    assert figures["xlsx_rows_per_s"] > 0 and figures["xlsx_openpyxl_rows_per_s"] > 0
    assert figures["backfill_crawl_peak_mb"] > 50 and figures["backfill_classify_s"] > 0
    assert saved()["backfill_rows"] == 120


def test_first_search_cold_starts_agree(home, shared_data, monkeypatch):
    monkeypatch.setattr(bench_first_search, "SIZE", 200)
    monkeypatch.setattr(bench_first_search, "STARTS", 1)
    figures = bench_first_search.run()
    assert figures["first_search_ms"] > 0 and figures["first_search_naive_ms"] > 0
    assert saved()["first_search_vs_naive"] == figures["first_search_vs_naive"]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make loadtool)")
def test_web_load_gets_answers_while_the_writer_runs(home, shared_data, monkeypatch):
    monkeypatch.setattr(bench_web_load, "SIZE", 200)
    monkeypatch.setattr(bench_web_load, "SECONDS", 2)
    monkeypatch.setattr(bench_web_load, "WORKERS", 1)
    figures = bench_web_load.run()
    assert figures["web_load_rps"] > 0
    assert figures["web_load_errors"] == 0

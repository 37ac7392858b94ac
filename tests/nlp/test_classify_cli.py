"""The ``tbtwatch classify`` contract: one output line per input line, in order; bad lines become errors."""

from __future__ import annotations

import io
import json

from typer.testing import CliRunner

from commands.cli import app
from nlp.cli import classify_stream

KEYS = {"symbol", "hs_given", "hs_inferred", "product_lines", "relevant", "level", "reasons", "reasons_zh",
        "assessed_on", "notice_hash", "domestic"}


def lines_in(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)


def test_cli_streams_one_record_per_line_in_order(home, shared_data):
    stdin = lines_in(
        {"symbol": "G/TBT/N/EU/1001", "member": "European Union", "title": "Batteries and waste batteries",
         "comment_deadline": "2026-05-01", "not_a_notice_field": 1},
        "{this is not json",
        {"symbol": "G/TBT/N/EU/1002"},
        ["a", "list"],
        {"symbol": "G/SPS/N/JPN/1003", "member": "日本", "language": "zh", "title": "大米中农药最大残留限量"},
    )
    result = CliRunner().invoke(app, ["classify", "--today", "2026-03-02"], input=stdin)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    assert set(out[0]) == KEYS and out[0]["symbol"] == "G/TBT/N/EU/1001" and out[0]["relevant"]
    assert out[0]["assessed_on"] == "2026-03-02" and out[0]["level"] == "high"
    assert out[1]["line"] == 2 and out[1]["error"].startswith("not valid JSON")
    assert out[2] == {"line": 3, "symbol": "G/TBT/N/EU/1002",
                      "error": "notice G/TBT/N/EU/1002: record: the notice has no title, description or products text"}
    assert out[3]["line"] == 4 and "JSON object" in out[3]["error"]
    assert out[4]["symbol"] == "G/SPS/N/JPN/1003" and out[4]["level"] == "none"
    assert "3 bad lines" in result.stderr


def test_a_bad_catalogue_stops_with_a_clear_error(home, shared_data, tmp_path):
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("lines:\n  - id: x\n    name_en: X\n    name_zh: 某\n    hs: ['0000']\n"
                   "    terms_en: [x]\n    terms_zh: [某]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", "--catalogue", str(bad)], input="")
    assert result.exit_code == 2
    assert "line 2: x: HS code '0000'" in result.stderr or "unknown HS code 0000" in result.stderr


def test_stream_batches_keep_order_across_batch_boundaries(classifier):
    records = [{"symbol": f"G/TBT/N/USA/{i}", "title": "Toys" if i % 2 else "Cheese"} for i in range(1, 8)]
    records.insert(3, "{")
    sink = io.StringIO()
    assessed, errors = classify_stream(classifier, io.StringIO(lines_in(*records)), sink, batch_size=3)
    out = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert (assessed, errors) == (7, 1)
    assert [o.get("symbol") for o in out] == ["G/TBT/N/USA/1", "G/TBT/N/USA/2", "G/TBT/N/USA/3", None,
                                              "G/TBT/N/USA/4", "G/TBT/N/USA/5", "G/TBT/N/USA/6", "G/TBT/N/USA/7"]
    assert [o.get("relevant") for o in out] == [True, False, True, None, False, True, False, True]

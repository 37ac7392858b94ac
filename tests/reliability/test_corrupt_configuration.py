"""Corrupt configuration: every error names the file, the line where known, and what to do.

The real commands (Typer's runner, in process) with each configuration file replaced by a broken copy
in a temporary folder: a binary catalogue, a ``sources.yaml`` with a syntax error, malformed
``members.yaml`` and ``holidays.yaml`` under ``remind``, a malformed ``settings.toml`` under ``search``,
and an empty ``members.yaml``. Proved: exit status 2, a one-line error with the file's path (and line),
what to do, and no traceback; nothing is reported as a crawl's page failure.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from commands.cli import app
from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(120)


def run(monkeypatch, variable: str, path, *args: str):
    monkeypatch.setenv(variable, str(path))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    get_settings.cache_clear()
    return result


def assert_clear(result, path, *expected: str) -> None:
    output = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception) or \
        isinstance(result.exception, SystemExit), result.exception
    assert str(path) in output, output
    for text in expected:
        assert text in output, (text, output)


def test_a_binary_catalogue_is_named_with_its_line(home, tmp_path, monkeypatch):
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_bytes(b"lines:\n  - id: toys\n\x89PNG\r\n\x1a\n\x00\xff")
    result = run(monkeypatch, "TBTWATCH_PATHS_CATALOGUE", catalogue, "classify")
    assert_clear(result, f"{catalogue}:3", "not UTF-8 text", "paths.catalogue")


def test_a_sources_syntax_error_is_a_configuration_error_not_page_failures(home, tmp_path, monkeypatch):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  eping_api:\n    kind: [api\n", encoding="utf-8")
    result = run(monkeypatch, "TBTWATCH_PATHS_SOURCES", sources, "crawl", "--source", "eping_api")
    assert_clear(result, sources, "malformed YAML", "paths.sources")
    assert "failed pages" not in result.output and "raw pages" not in result.output


def test_remind_with_malformed_members_names_the_file_and_line(home, tmp_path, monkeypatch):
    members = tmp_path / "members.yaml"
    members.write_text('members:\n  - code: EU\n    en: "European Union\n', encoding="utf-8")
    result = run(monkeypatch, "TBTWATCH_PATHS_MEMBERS", members, "remind")
    assert_clear(result, members, "malformed YAML", "paths.members")


def test_remind_with_a_malformed_holidays_file_names_it(home, tmp_path, monkeypatch):
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("2026:\n  holidays: [2026-01-01, 2026-13-45]\n", encoding="utf-8")
    result = run(monkeypatch, "TBTWATCH_PATHS_HOLIDAYS", holidays, "remind")
    assert_clear(result, holidays, "month must be in 1..12", "paths.holidays")


def test_search_with_a_malformed_settings_file_names_the_section(home, tmp_path, monkeypatch):
    settings = tmp_path / "settings.toml"
    settings.write_text('[alerts]\nreminder_days = ["soon"]\n', encoding="utf-8")
    result = run(monkeypatch, "TBTWATCH_CONFIG", settings, "search", "battery")
    assert_clear(result, settings, "[alerts]", "reminder_days")
    broken = tmp_path / "broken.toml"
    broken.write_text('[alerts]\nbase_url = "http://x\n', encoding="utf-8")
    assert_clear(run(monkeypatch, "TBTWATCH_CONFIG", broken, "search", "battery"), broken, "line 2")


def test_an_empty_members_file_is_refused_under_its_own_name(home, tmp_path, monkeypatch):
    members = tmp_path / "members.yaml"
    members.write_text("# nothing yet\n", encoding="utf-8")
    result = run(monkeypatch, "TBTWATCH_PATHS_MEMBERS", members, "remind")
    assert_clear(result, members, "no members", "paths.members")

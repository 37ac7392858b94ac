"""One "today": the day set once for a data directory (``tbtwatch today``, ``[general] today``,
``TBTWATCH_TODAY``) is the day the CLI, the web app and the DAGs act as, on a real SQLite archive."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from commands import orchestration
from commands.cli import app
from tbtwatch.settings import SettingsError, get_settings, load_settings

PAST_DAY = "2025-07-22"  # a day long past: on the real date every period below is closed
NOTICE = {"symbol": "G/TBT/N/EU/9101", "member": "European Union", "distribution_date": "2025-07-21",
          "comment_deadline": "2025-09-19", "title": "Draft regulation on portable batteries"}


@pytest.fixture
def pinned(home, tmp_path, monkeypatch):
    """A data directory with one notice, made to act as ``PAST_DAY`` by ``tbtwatch today``."""
    monkeypatch.delenv("TBTWATCH_TODAY", raising=False)
    runner = CliRunner()
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(NOTICE) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(source)]).exit_code == 0
    said = runner.invoke(app, ["today", PAST_DAY])
    assert said.exit_code == 0, said.output
    get_settings.cache_clear()
    return runner


def test_the_data_directory_remembers_its_day(pinned, home):
    assert get_settings().today() == dt.date(2025, 7, 22)
    assert "[general]" in (home / "settings.toml").read_text(encoding="utf-8")
    shown = pinned.invoke(app, ["today"])
    assert shown.output.startswith(PAST_DAY)
    cleared = pinned.invoke(app, ["today", "--clear"])
    assert cleared.exit_code == 0
    get_settings.cache_clear()
    assert get_settings().today() != dt.date(2025, 7, 22)


def test_search_open_is_about_the_set_day(pinned):
    found = json.loads(pinned.invoke(app, ["search", "--open", "--json"]).output)
    assert [h["symbol"] for h in found["hits"]] == ["G/TBT/N/EU/9101"]


def test_the_web_app_counts_and_labels_by_the_set_day(pinned):
    from webapp.app import create_app

    with TestClient(create_app(get_settings()), base_url="http://127.0.0.1") as client:
        home_page = client.get("/").text
        assert "1" in home_page.split('href="/search?open=1&amp;sort=date">')[1].split("</a>")[0]
        stats = client.get("/stats").text
        assert "G/TBT/N/EU/9101" in stats  # closing soon, by the set day
        notice = client.get("/notices/G/TBT/N/EU/9101").text
        assert 'class="open"' in notice and 'class="closed"' not in notice
        api = client.get("/api/search", params={"open": "1"}).json()
        assert api["total"] == 1


def test_environment_wins_over_the_data_directory(pinned, monkeypatch):
    monkeypatch.setenv("TBTWATCH_TODAY", "2025-10-01")
    get_settings.cache_clear()
    assert get_settings().today() == dt.date(2025, 10, 1)
    found = json.loads(pinned.invoke(app, ["search", "--open", "--json"]).output)
    assert found["total"] == 0


def test_a_bad_day_is_named(tmp_path):
    with pytest.raises(SettingsError, match="general.today is '22/07/2025'; write the day as YYYY-MM-DD"):
        load_settings(environ={"TBTWATCH_HOME": str(tmp_path), "TBTWATCH_TODAY": "22/07/2025"})


def test_a_manual_dag_run_is_for_the_set_day():
    import pendulum

    manual = {"data_interval_start": None, "data_interval_end": None, "logical_date": None,
              "run_after": pendulum.datetime(2026, 12, 1, 20, tz="UTC")}
    assert orchestration.run_days(manual, PAST_DAY) == (
        dt.date(2025, 7, 22), dt.date(2025, 7, 21), dt.date(2025, 7, 22))

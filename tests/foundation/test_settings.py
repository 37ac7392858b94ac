"""Settings: defaults, the TOML file, the environment, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbtwatch.settings import PROJECT_ROOT, SettingsError, get_settings, load_settings


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_with_an_empty_file(tmp_path):
    settings = load_settings(config_file=_toml(tmp_path, ""), environ={})
    assert settings.smtp.port == 587 and settings.smtp.security == "starttls" and settings.smtp.host == ""
    assert settings.archive.backend == "sqlite"
    assert settings.alerts.reminder_days == [14, 3] and settings.alerts.working_group == []
    assert settings.paths.home == PROJECT_ROOT / "var"
    assert settings.paths.members == PROJECT_ROOT / "config" / "members.yaml"
    assert settings.source_file == tmp_path / "settings.toml"


def test_the_repository_file_loads():
    settings = load_settings(environ={})
    assert settings.source_file == PROJECT_ROOT / "config" / "settings.toml"
    assert settings.alerts.timezone == "Asia/Shanghai"


def test_file_overrides_defaults(tmp_path):
    absolute = tmp_path / "data"
    path = _toml(tmp_path, f"""
[paths]
home = "{absolute}"
members = "config/other-members.yaml"
[smtp]
host = "mail.example.org"
port = 2525
[alerts]
reminder_days = [7]
working_group = ["tbt@example.org"]
""")
    settings = load_settings(config_file=path, environ={})
    assert settings.paths.home == absolute
    assert settings.paths.members == PROJECT_ROOT / "config" / "other-members.yaml"  # relative to the project
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example.org", 2525)
    assert settings.alerts.reminder_days == [7] and settings.alerts.working_group == ["tbt@example.org"]


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _toml(tmp_path, "[smtp]\nport = 2525\n")
    env = {"TBTWATCH_HOME": "state", "TBTWATCH_SMTP_PORT": "2600", "TBTWATCH_ALERTS_REMINDER_DAYS": "10, 2",
           "TBTWATCH_ES_URL": "http://127.0.0.1:9200", "TBTWATCH_PATHS_HS_NOMENCLATURE": "hs.csv",
           "TBTWATCH_UNRELATED_THING": "ignored"}
    settings = load_settings(config_file=path, environ=env)
    assert settings.home == tmp_path / "state"  # environment paths are relative to the current directory
    assert settings.paths.hs_nomenclature == tmp_path / "hs.csv"
    assert settings.smtp.port == 2600
    assert settings.alerts.reminder_days == [10, 2]
    assert settings.archive.es_url == "http://127.0.0.1:9200"


def test_tbtwatch_config_chooses_the_file(tmp_path):
    path = _toml(tmp_path, "[smtp]\nport = 465\nsecurity = \"ssl\"\n")
    settings = load_settings(environ={"TBTWATCH_CONFIG": str(path)})
    assert (settings.smtp.port, settings.smtp.security) == (465, "ssl")


def test_data_paths_live_under_home(tmp_path):
    settings = load_settings(config_file=_toml(tmp_path, ""), environ={"TBTWATCH_HOME": str(tmp_path / "h")})
    outbox = settings.path("outbox", "x.eml")
    assert outbox == tmp_path / "h" / "outbox" / "x.eml" and outbox.parent.is_dir()
    assert settings.archive_db == tmp_path / "h" / "archive.sqlite3"


def test_get_settings_follows_the_environment_after_cache_clear(home):
    assert get_settings().home == home
    assert get_settings() is get_settings()


def test_malformed_toml_names_the_file_and_line(tmp_path):
    path = _toml(tmp_path, "[smtp]\nport = = 25\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config_file=path, environ={})
    assert str(path) in str(err.value) and "line 2" in str(err.value)


def test_unknown_key_is_refused_with_the_known_keys(tmp_path):
    path = _toml(tmp_path, "[smtp]\nhostname = \"x\"\n")
    with pytest.raises(SettingsError, match=r"\[smtp\]: unknown key 'hostname'; known keys: .*host"):
        load_settings(config_file=path, environ={})


def test_unknown_section_is_refused(tmp_path):
    path = _toml(tmp_path, "[mail]\nhost = \"x\"\n")
    with pytest.raises(SettingsError, match=r"unknown section \[mail\]; known sections: general, paths, archive, smtp"):
        load_settings(config_file=path, environ={})
    with pytest.raises(SettingsError, match=r"unknown section \[debug\]"):
        load_settings(config_file=_toml(tmp_path, "debug = true\n"), environ={})


@pytest.mark.parametrize("value", ['"abc"', "25.5", "true"])
def test_bad_int_in_the_file(tmp_path, value):
    path = _toml(tmp_path, f"[smtp]\nport = {value}\n")
    with pytest.raises(SettingsError, match=r"\[smtp\]\.port: .* is not a valid int"):
        load_settings(config_file=path, environ={})


def test_bad_int_in_the_environment_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match=r"^environment variable TBTWATCH_SMTP_PORT: 'abc' is not a valid int"):
        load_settings(config_file=_toml(tmp_path, ""), environ={"TBTWATCH_SMTP_PORT": "abc"})


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="archive.backend is 'mongo'; use 'sqlite' or 'elasticsearch'"):
        load_settings(config_file=_toml(tmp_path, ""), environ={"TBTWATCH_ARCHIVE_BACKEND": "mongo"})


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="settings file .*absent.toml does not exist.*config_file"):
        load_settings(config_file=tmp_path / "absent.toml", environ={})
    with pytest.raises(SettingsError, match="TBTWATCH_CONFIG"):
        load_settings(environ={"TBTWATCH_CONFIG": str(tmp_path / "absent.toml")})

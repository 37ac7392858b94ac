"""archive.backends: the setting picks the store class, and the settings accept exactly the backends there are."""

from __future__ import annotations

import pytest

from archive.backends import BACKENDS, open_store
from archive.sqlite_store import SqliteStore
from tbtwatch.settings import SettingsError, get_settings, load_settings


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_the_settings_accept_every_backend_name(name):
    assert load_settings(environ={"TBTWATCH_ARCHIVE_BACKEND": name}).archive.backend == name


def test_the_settings_refuse_a_backend_that_does_not_exist():
    with pytest.raises(SettingsError, match="archive.backend is 'postgres'; use 'sqlite' or 'elasticsearch'"):
        load_settings(environ={"TBTWATCH_ARCHIVE_BACKEND": "postgres"})


def test_the_default_backend_is_the_sqlite_file_in_the_data_directory(home):
    settings = get_settings()
    store = open_store(settings)
    try:
        assert type(store) is BACKENDS["sqlite"] is SqliteStore
        assert store.db_path == settings.archive_db and settings.archive_db.is_file()
    finally:
        store.close()

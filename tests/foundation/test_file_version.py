"""``file_version``: an edited configuration file is seen within ``RECHECK_S``, not looked at on every call."""

from __future__ import annotations

import os

from tbtwatch import configfile
from tbtwatch.configfile import file_version


def test_a_file_edit_is_seen_once_the_recheck_time_has_passed(tmp_path, monkeypatch):
    path = tmp_path / "catalogue.yaml"
    assert file_version(path) is None  # not there (yet)
    path.write_text("lines: []\n", encoding="utf-8")
    assert file_version(path) is None  # looked at less than RECHECK_S ago: the answer stands
    monkeypatch.setattr(configfile, "RECHECK_S", 0.0)
    first = file_version(path)
    assert first is not None
    os.utime(path, ns=(first + 10**9, first + 10**9))
    assert file_version(path) == first + 10**9


def test_a_folder_is_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(configfile, "RECHECK_S", 0.0)
    assert file_version(tmp_path) is None

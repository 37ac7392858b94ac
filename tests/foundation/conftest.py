"""Fixtures for the foundation tests: the real pages and the HS nomenclature from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbtwatch.hs import HSNomenclature, load_nomenclature
from tbtwatch.members import Members
from tbtwatch.settings import PROJECT_ROOT

GARBLED_SYMBOL = "G/TBT/N/1122/Rev.1"  # the one dev record whose member code the portal lost


@pytest.fixture(scope="session")
def page_text(shared_data):
    """Read one recorded portal page, skipping when that page is not in the shared data."""

    def read(name: str) -> str:
        path = shared_data / "pages" / name
        if not path.exists():
            pytest.skip(f"recorded page {path} is absent from the shared data")
        return path.read_text(encoding="utf-8")

    return read


@pytest.fixture(scope="session")
def nomenclature(shared_data) -> HSNomenclature:
    path = shared_data / "hs" / "harmonized-system.csv"
    if not path.exists():
        pytest.skip(f"the HS 2022 nomenclature is not at {path}")
    return load_nomenclature(str(path))


@pytest.fixture(scope="session")
def members() -> Members:
    """The project's own table, config/members.yaml (not the settings-chosen one: tests must not follow env)."""
    return Members.load(PROJECT_ROOT / "config" / "members.yaml")


@pytest.fixture(scope="session")
def valid_records(dev_records) -> list[dict]:
    return [r for r in dev_records if r["symbol"] != GARBLED_SYMBOL]


def members_yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "members.yaml"
    path.write_text("members:\n" + body, encoding="utf-8")
    return path

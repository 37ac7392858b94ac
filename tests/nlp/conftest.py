"""NLP test fixtures: one classifier per test session (loading trains the heading model, ~1 s)."""

from __future__ import annotations

import datetime as dt

import pytest

from tbtwatch.hs import load_nomenclature
from tbtwatch.model import Notice, notice_from_dict

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="session")
def nomenclature(shared_data):
    return load_nomenclature(str(shared_data / "hs" / "harmonized-system.csv"))


@pytest.fixture(scope="session")
def catalogue(nomenclature):
    from nlp import load_catalogue

    return load_catalogue(None, nomenclature)


@pytest.fixture(scope="session")
def classifier(catalogue):
    from nlp import Classifier

    return Classifier(catalogue)


@pytest.fixture(scope="session")
def today() -> dt.date:
    """The date the tests assess as of (a fixed date: levels depend on days left)."""
    return TODAY


@pytest.fixture(scope="session")
def make_notice():
    """Build a notice in the real records' shape; only the fields a test cares about need giving
    (by default a US regular notification with 40 days left to comment)."""
    def build(**fields) -> Notice:
        data = {"symbol": "G/TBT/N/USA/9001", "member": "United States", "title": "A notice",
                "comment_deadline": (TODAY + dt.timedelta(days=40)).isoformat(), **fields}
        return notice_from_dict(data)
    return build

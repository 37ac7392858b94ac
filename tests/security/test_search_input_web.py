"""Hostile search input through the web app: the page and the JSON API answer it as data or refuse it clearly.

``test_search_input.py`` proves it at the store; this proves the same strings over HTTP (every search
parameter the routes take), so no route builds a query of its own: never a 5xx, a filter value never
widens the result, and a query SQLite's FTS5 cannot run gets a 400 whose message says what to change.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_search_input import HOSTILE

from archive.sqlite_store import SqliteStore
from tbtwatch.model import notice_from_dict
from tbtwatch.settings import get_settings

FILTERS = ["member", "hs", "line", "objective", "area", "level", "since", "until", "open"]
PAGING = ["sort", "limit", "offset", "page", "after"]  # they order or page the set; they never widen it


@pytest.fixture
def client(home):
    from webapp.app import create_app

    settings = get_settings()
    store = SqliteStore(settings.archive_db)
    store.upsert([notice_from_dict({"symbol": "G/TBT/N/EU/1", "distribution_date": "2025-03-10", "title": "Toy safety"}),
                  notice_from_dict({"symbol": "G/SPS/N/JPN/1", "distribution_date": "2025-03-11",
                                    "title": "农药残留 Pesticide residues"})])
    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as test_client:
        yield test_client
    store.close()


@pytest.mark.parametrize("parameter", ["q", *FILTERS, *PAGING])
def test_hostile_values_in_every_search_parameter_are_data(client, parameter):
    for value in HOSTILE + ["玩具\" OR \"1", "电池*", "<script>alert(1)</script>"]:
        api = client.get("/api/search", params={parameter: value})
        assert api.status_code in (200, 400, 422), (parameter, value, api.text)
        if api.status_code == 200 and parameter in FILTERS:
            assert api.json()["total"] <= 1, (parameter, value)  # a value matches or not; it never adds
        elif api.status_code == 200:
            assert api.json()["total"] <= 2
        else:
            assert api.json()["detail"], (parameter, value)  # a reason, naming what to change
        page = client.get("/search", params={parameter: value})
        assert page.status_code in (200, 400), (parameter, value)
        assert "<script>alert(1)</script>" not in page.text


def test_a_query_fts5_cannot_run_is_refused_with_the_reason(client):
    too_long = " ".join(f"w{i}" for i in range(17))
    api = client.get("/api/search", params={"q": too_long})
    assert api.status_code == 400 and "at most 16" in api.json()["detail"]
    page = client.get("/search", params={"q": "-toys -safety"})
    assert page.status_code == 400 and "only excludes" in page.text

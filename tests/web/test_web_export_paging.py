"""Paging of the API and the exports while notices arrive: X-Total-Count, Link rel="next" under the configured
base URL, the BOM only on a first page, and the ``after`` cursor that neither repeats nor skips a notice.

The module's archive gets more notices over several days (several on one day, one undated); walks insert
new ones between page requests: newer than everything, on the day of the walk's position, older than
everything, and undated.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from webtools import NOTICES, day

EXTRA = [{"symbol": f"G/TBT/N/KOR/{1000 + i}", "member": "Korea, Republic of", "distribution_date": day(-d),
          "title": f"Technical regulation number {i} for household appliances", "description": "Safety rules."}
         for i, d in enumerate([1, 2, 2, 2, 7, 7, 9, 12, 30])]
UNDATED = {"symbol": "G/TBT/N/KOR/999", "member": "Korea, Republic of", "title": "Undated notice of appliances"}
ARRIVALS = itertools.count(2000)


@pytest.fixture(scope="module")
def store(web_settings):
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    archive = SqliteStore(web_settings.archive_db)
    archive.upsert([notice_from_dict(n) for n in [*EXTRA, UNDATED]])
    return archive


def arrive(store, when: str | None) -> str:
    """A new notice distributed on ``when`` (None: undated); returns its symbol."""
    from tbtwatch.model import notice_from_dict

    symbol = f"G/TBT/N/KOR/{next(ARRIVALS)}"
    store.upsert([notice_from_dict({"symbol": symbol, "member": "Korea, Republic of", "distribution_date": when,
                                    "title": "A notice that arrived during the walk"})])
    return symbol


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def existing(store) -> set[str]:
    return {n.symbol for n in store.iter_notices()}


def arrivals_for(step: int, store, cursor_day: str | None) -> str:
    """Each kind of arrival in turn: newest, on the walk's current day, oldest, undated."""
    return arrive(store, [day(0), cursor_day or day(-2), day(-400), None][step % 4])


def test_next_links_follow_the_base_url_not_the_host_header(client, store, web_settings):
    response = client.get("/api/search", params={"sort": "date", "limit": 2, "member": "KOR"},
                          headers={"host": "attacker.example"})
    body = response.json()
    base = web_settings.alerts.base_url.rstrip("/")
    assert body["next"].startswith(base + "/api/search?") and "attacker" not in body["next"]
    assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
    assert response.headers["x-total-count"] == str(body["total"]) == str(len(EXTRA) + 1)
    query = parse_qs(urlsplit(body["next"]).query)
    assert query["member"] == ["KOR"] and query["limit"] == ["2"] and "offset" not in query
    last = body["hits"][-1]["notice"]
    assert query["after"] == [f"{last['distribution_date']}~{last['symbol']}"]  # the page's last notice
    assert [h["symbol"] for h in body["hits"]][0] == "G/TBT/N/KOR/1000"  # newest first


def test_cursor_walk_returns_every_notice_once_while_notices_arrive(client, store):
    before = existing(store)
    seen, url, step, arrived = [], "/api/search?sort=date&limit=3", 0, []
    while url:
        body = client.get(url).json()
        seen += [h["symbol"] for h in body["hits"]]
        cursor = parse_qs(urlsplit(body["next"]).query)["after"][0] if body["next"] else None
        arrived.append(arrivals_for(step, store, cursor.split("~")[0] if cursor and "undated" not in cursor else None))
        step += 1
        url = body["next"] and local(body["next"])
    assert len(seen) == len(set(seen)), "a notice came twice"
    assert before <= set(seen), f"missed: {before - set(seen)}"
    assert set(seen) - before <= set(arrived)  # new ones at most once (those behind the walk's position)
    assert step > 5


def test_offset_walk_would_repeat_notices_in_the_same_situation(client, store):
    """The same arrivals break offset paging: the reason the cursor exists (and proof the scenario bites)."""
    seen, offset, step = [], 0, 0
    while True:
        body = client.get("/api/search", params={"sort": "date", "limit": 3, "offset": offset}).json()
        if not body["hits"]:
            break
        seen += [h["symbol"] for h in body["hits"]]
        arrive(store, day(0))  # newer than everything: pushes every later page down
        offset += 3
        step += 1
    assert len(seen) > len(set(seen))


def test_csv_pages_by_link_header_bom_only_first(client, store):
    before = existing(store)
    url, rows, first, pages = "/api/search?format=csv&limit=4&sort=date", [], True, 0
    while url:
        response = client.get(url)
        assert response.status_code == 200 and int(response.headers["x-total-count"]) >= len(before)
        assert response.content.startswith(b"\xef\xbb\xbf") == first
        rows += [r["symbol"] for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]
        arrive(store, [day(0), day(-3), None][pages % 3])
        link = response.headers.get("link")
        url = link and local(re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1))
        first, pages = False, pages + 1
    assert len(rows) == len(set(rows)) and before <= set(rows) and pages > 3


def test_relevance_pages_use_offset(client, store):
    body = client.get("/api/search", params={"q": "appliances", "limit": 2}).json()
    assert "offset=2" in body["next"] and "after=" not in body["next"]
    assert client.get(local(body["next"])).json()["offset"] == 2


@pytest.mark.parametrize("params, message", [
    ({"after": "yesterday"}, "use the after= value of a next link"),
    ({"after": f"{day(-1)}~G/TBT/N/KOR/1000", "offset": "3"}, "leave out offset"),
    ({"after": f"{day(-1)}~G/TBT/N/KOR/1000", "q": "appliances"}, "add sort=date"),
    ({"after": f"{day(-1)}~G/TBT/N/KOR/77777", "sort": "date"}, "not among that day's results"),
    ({"after": f"{day(-1)}~G/TBT/N/KOR/1000", "since": day(0)}, "outside since/until"),
])
def test_bad_cursors_are_explained(client, store, params, message):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400 and message in response.json()["detail"]


def test_whole_set_export_counts_and_links_the_rest_when_cut(client, store, monkeypatch):
    from webapp.routes import pages

    total = len(existing(store))
    full = client.get("/export.csv")
    assert full.headers["x-total-count"] == str(total) and "link" not in full.headers
    assert full.content.startswith(b"\xef\xbb\xbf")
    monkeypatch.setattr(pages, "EXPORT_MAX", 4)
    cut = client.get("/export.csv", params={"sort": "date"})
    assert len(list(csv.DictReader(io.StringIO(cut.content.decode("utf-8-sig"))))) == 4
    rest_url = re.fullmatch(r'<([^>]+)>; rel="next"', cut.headers["link"]).group(1)
    assert "offset=4" in rest_url and "sort=date" in rest_url
    rest = client.get(local(rest_url))
    assert not rest.content.startswith(b"\xef\xbb\xbf") and "offset=8" in rest.headers["link"]


def test_json_export_of_the_seed_still_whole(client):
    data = client.get("/export.json", params={"area": "SPS"}).json()
    assert [d["symbol"] for d in data] == [n["symbol"] for n in NOTICES if "/SPS/" in n["symbol"]]


def test_openapi_documents_paging_and_the_cursor(client):
    search = client.get("/api/openapi.json").json()["paths"]["/api/search"]["get"]
    assert "can return a notice twice" in search["description"] and "after=<day>~<symbol>" in search["description"]
    params = {p["name"]: p for p in search["parameters"]}
    assert "after" in params and "shift" in params["offset"]["description"]
    assert {"X-Total-Count", "Link"} <= set(search["responses"]["200"]["headers"])


def test_exports_streamed_in_several_chunks_are_still_one_whole_file(client, store, monkeypatch):
    """Rows go out a page per chunk: with pages of 2 the CSV is byte for byte the one-chunk file, and the JSON
    is one array holding every notice once."""
    from webapp import exports

    whole_csv = client.get("/export.csv", params={"sort": "date"}).content
    whole_json = client.get("/export.json", params={"sort": "date"}).json()
    monkeypatch.setattr(exports, "PAGE", 2)
    assert client.get("/export.csv", params={"sort": "date"}).content == whole_csv
    chunked = client.get("/export.json", params={"sort": "date"}).json()
    assert [d["symbol"] for d in chunked] == [d["symbol"] for d in whole_json]
    assert len(chunked) == len(existing(store)) > 4

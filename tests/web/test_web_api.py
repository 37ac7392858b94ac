"""The JSON API: every endpoint, its answers on the seeded archive, and clear 4xx errors for bad input."""

from __future__ import annotations

import csv
import io

import pytest
from webtools import XSS_TITLE, login, outbox_messages

from archive.base import MARK_END, MARK_START


def symbols(body: dict) -> list[str]:
    return [h["symbol"] for h in body["hits"]]


def test_search_english_with_highlights_and_paging(client):
    body = client.get("/api/search", params={"q": "battery", "limit": 2}).json()
    assert body["total"] == 4  # the regulation, its addendum, the charger notice, the Chinese toy (锂电池)
    assert body["also_searched"] == ["电池", "蓄电器", "HS 8506"]
    assert len(body["hits"]) == 2 and body["offset"] == 0
    assert body["next"] and "offset=2" in body["next"]
    following = client.get(body["next"]).json()
    assert following["next"] is None
    assert set(symbols(body)) | set(symbols(following)) == {"G/TBT/N/EU/1132", "G/TBT/N/EU/1132/Add.1",
                                                            "G/TBT/N/USA/2034", "G/TBT/N/CHN/1900"}
    hit = client.get("/api/search", params={"q": "passport"}).json()["hits"][0]
    assert "passport" in hit["highlights"]["description"]
    assert MARK_START not in hit["highlights"]["description"] and MARK_END not in hit["highlights"]["description"]
    assert hit["level"] == "high" and hit["url"].endswith("/notices/G/TBT/N/EU/1132")


@pytest.mark.parametrize("query, expected", [("玩具", ["G/TBT/N/CHN/1900"]), ("电池", None),
                                              ("护照", ["G/TBT/N/EU/1132"])])
def test_search_chinese(client, query, expected):
    found = symbols(client.get("/api/search", params={"q": query}).json())
    if expected is None:  # the Chinese toy standard, the EU regulation's translation, and in English its
        # addendum and the charger notice ("battery" from the catalogue)
        assert set(found) == {"G/TBT/N/CHN/1900", "G/TBT/N/EU/1132", "G/TBT/N/EU/1132/Add.1", "G/TBT/N/USA/2034"}
    else:
        assert found == expected


def test_search_filters_and_date_sort(client):
    def run(**params):
        return symbols(client.get("/api/search", params={"sort": "date", **params}).json())

    assert run(area="SPS") == ["G/SPS/N/JPN/1200"]
    assert run(member="欧盟") == ["G/TBT/N/EU/1132/Add.1", "G/TBT/N/EU/1132"]
    assert run(hs="85") == ["G/TBT/N/USA/2034", "G/TBT/N/EU/1132"]
    assert run(hs=["10", "95"]) == ["G/TBT/N/CHN/1900", "G/SPS/N/JPN/1200"]
    assert run(level="high") == ["G/TBT/N/EU/1132"]
    assert run(line="toys") == ["G/TBT/N/CHN/1900"]
    assert run(objective="Food safety") == ["G/SPS/N/JPN/1200"]
    assert run(open="1") == ["G/TBT/N/USA/2034", "G/TBT/N/CHN/1900", "G/TBT/N/EU/1132"]
    assert "G/SPS/N/JPN/1200" not in run(since=client.get("/api/notices/G/TBT/N/EU/1132").json()
                                         ["notice"]["distribution_date"])


def test_search_csv_format(client):
    response = client.get("/api/search", params={"q": "charger", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["symbol"] for r in rows] == ["G/TBT/N/USA/2034"]
    assert rows[0]["title"] == XSS_TITLE  # text as notified: CSV is data, not markup
    assert rows[0]["products"].startswith("'=HYPERLINK")  # a spreadsheet must not run it as a formula


def test_facets(client):
    body = client.get("/api/facets", params={"area": "TBT"}).json()
    assert body["total"] == 4
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in body["facets"].items()}
    assert facets["member"] == {"EU": 2, "CHN": 1, "USA": 1}
    assert facets["hs_chapter"] == {"85": 2, "95": 1}
    assert facets["level"] == {"high": 1, "medium": 1}
    with_facets = client.get("/api/search", params={"q": "battery", "facets": "true"}).json()
    assert {f["value"] for f in with_facets["facets"]["member"]} == {"EU", "USA", "CHN"}


def test_notice_with_assessment_history_and_review(client):
    body = client.get("/api/notices/g/tbt/n/eu/1132").json()
    assert body["notice"]["symbol"] == "G/TBT/N/EU/1132"
    assert body["notice"]["translations"]["zh"]["title"] == "电池和废电池法规草案"
    assert body["assessment"]["level"] == "high"
    assert [h["symbol"] for h in body["history"]] == ["G/TBT/N/EU/1132", "G/TBT/N/EU/1132/Add.1"]
    assert body["review_status"] == "new"
    addendum = client.get("/api/notices/G/TBT/N/EU/1132/Add.1").json()
    assert addendum["notice"]["base_symbol"] == "G/TBT/N/EU/1132" and addendum["assessment"] is None


def test_hs_lookup(client, web_settings):
    if not web_settings.paths.hs_nomenclature.exists():  # the file, not an empty answer, decides the skip
        pytest.skip(f"the HS nomenclature is not at {web_settings.paths.hs_nomenclature}")
    by_code = client.get("/api/hs", params={"q": "8507"}).json()["results"]
    assert by_code[0]["code"] == "8507" and all(r["code"].startswith("8507") for r in by_code)
    by_words = client.get("/api/hs", params={"q": "lithium-ion"}).json()["results"]
    assert "850760" in [r["code"] for r in by_words]
    by_chinese = client.get("/api/hs", params={"q": "锂离子蓄电池"}).json()["results"]
    assert "850760" in [r["code"] for r in by_chinese] and by_chinese[0]["name_zh"]
    traditional = client.get("/api/hs", params={"q": "鋰離子蓄電池"}).json()["results"]
    assert [r["code"] for r in traditional] == [r["code"] for r in by_chinese]


def test_subscription_created_pending_with_confirmation_mail(client, web_settings):
    before = len(outbox_messages(web_settings))
    response = client.post("/api/subscriptions", json={"email": "api-buyer@example.com", "hs": ["8507"],
                                                       "keywords": ["lithium", "电池"], "lang": "both"})
    assert response.status_code == 202, response.text
    assert response.json() == {"email": "api-buyer@example.com", "status": "pending", "confirmation_sent": True}
    mails = outbox_messages(web_settings)  # delivered after the response (no SMTP host: .eml files)
    assert len(mails) == before + 1 and "confirm" in mails[-1].name


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/search", "/api/facets", "/api/notices/{symbol}", "/api/subscriptions", "/api/hs"} <= set(paths)
    assert not [p for p in paths if not p.startswith("/api/")]  # the pages are not API


BAD_REQUESTS = [
    ("/api/search?limit=abc", 400, "limit 'abc'"),
    ("/api/search?limit=0", 400, "limit 0"),
    ("/api/search?limit=100000", 400, "use 1 to"),
    ("/api/search?offset=-1", 400, "offset -1"),
    ("/api/search?area=XYZ", 400, "TBT or SPS"),
    ("/api/search?member=Atlantis", 400, "not a known WTO member"),
    ("/api/search?hs=battery", 400, "not an HS code"),
    ("/api/search?level=extreme", 400, "level 'extreme'"),
    ("/api/search?since=2025-13-01", 400, "since '2025-13-01'"),
    ("/api/search?since=2025-03-01&until=2025-01-01", 400, "is after"),
    ("/api/search?sort=random", 400, "sort 'random'"),
    ("/api/search?open=maybe", 400, "open 'maybe'"),
    ("/api/search?format=xml", 422, "format"),
    ("/api/search?q=-battery", 400, "only excludes"),
    ("/api/search?q=" + "+".join(f"w{i}" for i in range(20)), 400, "at most 16"),
    ("/api/search?q=" + "x" * 600, 422, "q"),
    ("/api/facets?hs=12345678901", 200, ""),  # a national tariff line is cut to its 6 digits
    ("/api/facets?member=", 200, ""),
    ("/api/notices/not-a-symbol", 400, "not a WTO notification symbol"),
    ("/api/notices/G/TBT/N/EU/99999", 404, "not in the archive"),
    ("/api/hs", 422, "q"),
    ("/api/hs?q=", 422, "q"),
    ("/api/hs?q=85&limit=0", 422, "limit"),
    ("/api/nothing-here", 404, "Not Found"),
]


@pytest.mark.parametrize("url, status, message", BAD_REQUESTS)
def test_bad_parameters_get_clear_errors(client, url, status, message):
    response = client.get(url)
    assert response.status_code == status, response.text
    if status >= 400:
        assert message in response.json()["detail"]


BAD_SUBSCRIPTIONS = [
    ({"email": "not-an-address", "hs": ["8507"]}, 400, "not a valid address"),
    ({"email": "a@example.com"}, 400, "at least one of"),
    ({"email": "a@example.com", "hs": ["battery"]}, 400, "HS code 'battery'"),
    ({"email": "a@example.com", "members": ["Atlantis"]}, 400, "member 'Atlantis'"),
    ({"email": "a@example.com", "product_lines": ["unicorns"]}, 400, "product line 'unicorns'"),
    ({"email": "a@example.com", "hs": ["8507"], "frequency": "hourly"}, 422, "frequency"),
    ({"email": "a@example.com", "hs": ["8507"], "colour": "red"}, 422, "colour"),
    ({"hs": ["8507"]}, 422, "email"),
    ("not json", 422, ""),
    ({"email": "form@example.com", "hs": ["8507"]}, 422, ""),
]


@pytest.mark.parametrize("body, status, message", BAD_SUBSCRIPTIONS)
def test_bad_subscriptions_are_refused_with_the_reason(client, body, status, message):
    if isinstance(body, str):
        response = client.post("/api/subscriptions", content=body, headers={"content-type": "application/json"})
    elif body.get("email") == "form@example.com":  # what a cross-site HTML form can send: not JSON, refused
        response = client.post("/api/subscriptions", content=str(body).replace("'", '"'),
                               headers={"content-type": "text/plain"})
    else:
        response = client.post("/api/subscriptions", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_stats_and_review_queue_are_read_only_endpoints_for_the_working_group(client):
    assert client.get("/api/stats").status_code == 401 and client.get("/api/review").status_code == 401
    login(client)
    figures = client.get("/api/stats").json()
    assert len(figures["months"]) == 12 and figures["open_for_comment"] >= 2 and figures["open_by_member"]["EU"] >= 1
    queue = client.get("/api/review").json()
    assert {r["symbol"] for r in queue} >= {"G/TBT/N/EU/1132", "G/TBT/N/CHN/1900"}
    assert all(r["status"] == "new" and r["cutoff"] for r in queue if r["symbol"] == "G/TBT/N/EU/1132")
    assert client.post("/api/review").status_code == 405  # read-only
    schema = client.get("/api/openapi.json").json()
    ok = schema["paths"]["/api/stats"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/StatsOut"}

"""The Elasticsearch request bodies agree with the index mapping (no server can run here).

Each field a query, sort, highlight or aggregation names must exist in the
strict mapping with a type that supports that use, and every document the store
writes must fit the mapping, so a typo is caught here rather than by a 400 from
a production cluster. The store's error path is exercised against a closed port.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archive import es_bodies as bodies
from archive.base import FACET_FIELDS, MARK_END, MARK_START
from archive.query import build_query
from archive.text import expanded, parse_query
from tbtwatch.model import notice_from_dict
from tbtwatch.settings import get_settings

NOTICE = notice_from_dict({
    "symbol": "G/TBT/N/EU/1132/Add.1", "distribution_date": "2025-03-10", "title": "Batteries",
    "description": "Battery passport", "products": "Batteries (HS 8507.60)", "hs_codes": ["8507.60", "95"],
    "objectives": ["Protection of the environment"], "comment_deadline": "2025-05-09",
    "translations": {"zh": {"title": "电池", "description": "电池护照", "products": "电池"}}})


def _flatten(properties: dict, prefix: str = "") -> dict[str, dict]:
    """Every mapped field path (sub-fields as ``a.b``) with its mapping."""
    out = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        out[path] = spec
        out.update(_flatten(spec.get("properties", {}), f"{path}."))
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = sub_spec
    return out


MAPPED = _flatten(bodies.notice_mappings()["properties"])


def _field(name: str) -> dict:
    return MAPPED[name.split("^")[0]]


def test_text_fields_are_analysed_in_english_and_cjk():
    for name in bodies.text_fields():
        spec = _field(name)
        assert spec["type"] == "text", name
    assert _field("title")["analyzer"] == "english"
    assert _field("title.cjk")["analyzer"] == "cjk"
    assert _field("translations.zh.description.cjk")["analyzer"] == "cjk"


def test_filters_sorts_and_facets_use_keyword_or_date_fields():
    q = build_query(text="battery -toy", areas=["TBT"], members=["EU"], hs_prefixes=["85", "8507", "850760"],
                    product_lines=["batteries"], objectives=["Food safety"], levels=["high"],
                    since=dt.date(2025, 1, 1), until=dt.date(2025, 12, 31), open_on=dt.date(2025, 4, 1),
                    facets=True)
    body = bodies.search(q, parse_query(q.text))
    used = []
    for clause in body["query"]["bool"]["filter"]:
        for kind, spec in clause.items():
            if kind in {"terms", "range", "term"}:
                used += list(spec)
            else:
                used += [next(iter(s["term"])) for s in spec["should"]]
    assert {"area", "member_code", "hs2", "hs4", "hs6", "product_lines", "objectives", "level",
            "distribution_date", "comment_deadline"} <= set(used)
    used += [next(iter(s)) for s in body["sort"] if isinstance(s, dict)]
    used += [a["terms"]["field"] for a in body["aggs"].values()]
    for name in used:
        assert _field(name)["type"] in {"keyword", "date"}, name
    assert set(body["aggs"]) == set(FACET_FIELDS)
    assert body["query"]["bool"]["must_not"][0]["multi_match"]["query"] == "toy"
    assert body["from"] == 0 and body["size"] == 20 and body["track_total_hits"] is True


def test_hs_prefix_filter_picks_the_field_of_its_length():
    clause = bodies.hs_prefix_filter(["85", "8507", "850760"])
    assert [next(iter(s["term"].items())) for s in clause["bool"]["should"]] == [
        ("hs2", "85"), ("hs4", "8507"), ("hs6", "850760")]


def test_highlight_uses_the_archive_marks_on_mapped_text_fields():
    hl = bodies.highlight()
    assert hl["pre_tags"] == [MARK_START] and hl["post_tags"] == [MARK_END]
    assert hl["encoder"] == "default"  # escaping is the web layer's job, after the marks are placed
    for name in hl["fields"]:
        assert _field(name)["type"] == "text", name


def test_no_text_means_date_order_and_no_highlight():
    body = bodies.search(build_query(sort="relevance"), [])
    assert "must" not in body["query"]["bool"] and "highlight" not in body
    assert body["sort"] == bodies.DATE_SORT


def _check_document(doc: dict, properties: dict, where: str = "") -> None:
    for key, value in doc.items():
        assert key in properties, f"{where}{key} is not mapped (the index is dynamic: strict)"
        spec = properties[key]
        if spec.get("type") == "object" and spec.get("enabled") is False:
            continue
        if "properties" in spec and value is not None:
            _check_document(value, spec["properties"], f"{where}{key}.")


def test_notice_document_fits_the_strict_mapping_and_round_trips():
    record = NOTICE.model_dump(mode="json")
    doc = bodies.notice_document(record, NOTICE.content_hash(), "2025-03-10T00:00:00+00:00",
                                 "2025-03-10T00:00:00+00:00", bodies.assessment_fields(None))
    _check_document(doc, bodies.notice_mappings()["properties"])
    assert doc["hs2"] == ["85", "95"] and doc["hs4"] == ["8507"] and doc["hs6"] == ["850760"]
    assert doc["year"] == "2025" and doc["base_symbol"] == "G/TBT/N/EU/1132"
    assert doc["translations"]["zh"]["title"] == "电池"
    assert type(NOTICE).model_validate(json.loads(json.dumps(doc))["record"]) == NOTICE


def test_assessment_document_fits_its_mapping():
    record = {"symbol": NOTICE.symbol, "level": "high", "notice_hash": "abc",
              "product_lines": [{"id": "batteries", "score": 0.9, "evidence": []}]}
    doc = bodies.assessment_document(record, "2025-03-10T00:00:00+00:00")
    _check_document(doc, bodies.assessment_mappings()["properties"])
    assert doc["product_lines"] == ["batteries"] and doc["notice_hash"] == "abc"
    fields = bodies.assessment_fields(record)
    assert set(fields) == set(bodies.ASSESSMENT_FIELDS)
    for name in fields:
        assert MAPPED[name]["type"] == "keyword"


def test_template_names_the_index_exactly():
    template = bodies.index_template("tbtwatch-notices", bodies.notice_mappings())
    assert template["index_patterns"] == ["tbtwatch-notices"]
    assert template["template"]["mappings"]["dynamic"] == "strict"


def test_highlight_keys_match_the_sqlite_store():
    from archive.elastic import _highlight_key

    assert _highlight_key("title.cjk") == "title"
    assert _highlight_key("description") == "description"
    assert _highlight_key("translations.zh.title.cjk") == "title_zh"


def test_missing_url_is_a_settings_error(home, monkeypatch):
    from archive import open_store
    from tbtwatch.settings import SettingsError

    monkeypatch.setenv("TBTWATCH_ARCHIVE_BACKEND", "elasticsearch")
    monkeypatch.delenv("TBTWATCH_ES_URL", raising=False)
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="TBTWATCH_ES_URL"):
        open_store(get_settings())


def test_unreachable_server_is_a_clear_error(home, monkeypatch):
    from archive import open_store
    from archive.elastic import ElasticError

    monkeypatch.setenv("TBTWATCH_ARCHIVE_BACKEND", "elasticsearch")
    monkeypatch.setenv("TBTWATCH_ES_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    get_settings.cache_clear()
    with pytest.raises(ElasticError, match="cannot reach Elasticsearch.*TBTWATCH_ES_URL"):
        open_store(get_settings())


@pytest.fixture
def unreachable_store():
    from elasticsearch import Elasticsearch

    from archive.elastic import ElasticStore

    client = Elasticsearch("http://127.0.0.1:9", max_retries=0, request_timeout=2)
    yield ElasticStore(client, "tbtwatch-unreachable")
    client.close()


@pytest.mark.parametrize("call", [
    lambda s: s.ensure_indices(), lambda s: s.drop(), lambda s: s.refresh_indices(), lambda s: s.count(),
    lambda s: s.upsert([NOTICE]), lambda s: s.get(NOTICE.symbol), lambda s: s.history(NOTICE.symbol),
    lambda s: list(s.iter_notices(dt.date(2025, 1, 1), dt.date(2025, 12, 31))), lambda s: s.stale_assessments(),
    lambda s: s.put_assessments([{"symbol": NOTICE.symbol, "level": "low", "product_lines": []}]),
    lambda s: s.get_assessment(NOTICE.symbol),
    lambda s: s.search(build_query(text="battery -toy", hs_prefixes=["85"], facets=True)),
], ids=["ensure", "drop", "refresh", "count", "upsert", "get", "history", "iter", "stale", "assess", "assessment",
        "search"])
def test_every_client_call_is_well_formed(unreachable_store, call):
    """The client checks its parameters before sending: reaching the network error proves each call is accepted."""
    from archive.elastic import ElasticError

    with pytest.raises(ElasticError, match="cannot reach Elasticsearch"):
        call(unreachable_store)


def test_paging_past_the_result_window_is_a_query_error(unreachable_store):
    from archive.base import QueryError

    with pytest.raises(QueryError, match="first 10,000"):
        unreachable_store.search(build_query(limit=100, offset=9_950))


def test_an_expanded_term_matches_any_phrasing_or_hs_heading_as_in_sqlite():
    q = build_query(text="电池 -玩具")
    body = bodies.search(q, expanded(parse_query(q.text), q.expansions))
    [must] = body["query"]["bool"]["must"]
    phrases = [c["multi_match"]["query"] for c in must["bool"]["should"] if "multi_match" in c]
    assert phrases[0] == "电池" and "battery" in phrases and must["bool"]["minimum_should_match"] == 1
    hs = [s["term"] for c in must["bool"]["should"] if "bool" in c for s in c["bool"]["should"]]
    assert {"hs4": "8507"} in hs
    [excluded] = body["query"]["bool"]["must_not"]
    assert excluded["multi_match"]["query"] == "玩具"  # an exclusion excludes only what was typed

"""What every NoticeStore backend must do (run against SQLite, and Elasticsearch when configured)."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.base import MARK_END, MARK_START, QueryError
from archive.query import build_query
from archive.text import parse_query
from tbtwatch.model import notice_from_dict


def make(symbol: str, **fields):
    base = {"symbol": symbol, "distribution_date": "2025-03-10", "title": f"Regulation {symbol}",
            "description": "", "products": ""}
    base.update(fields)
    return notice_from_dict(base)


BATTERY = make("G/TBT/N/EU/1132", title="Draft regulation on batteries and waste batteries",
               description="Lithium-ion batteries placed on the market shall carry a battery passport.",
               products="Rechargeable batteries (HS 8507.60)", hs_codes=["8507.60"], member="European Union",
               comment_deadline="2025-05-09", objectives=["Protection of the environment"])
TOY_ZH = make("G/TBT/N/CHN/1900", title="玩具安全技术规范", language="zh",
              description="本标准规定了电动玩具和锂电池供电玩具的安全要求。", products="电动玩具 HS 9503",
              hs_codes=["9503"], distribution_date="2025-03-11", comment_deadline="2025-03-20")
PESTICIDE = make("G/SPS/N/JPN/1200", title="Maximum residue limits for pesticides in foods",
                 description="Revision of MRLs for bifenthrin in cereals.", products="Cereals (HS 1001, 1006)",
                 hs_codes=["1001", "1006"], distribution_date="2024-12-01",
                 objectives=["Food safety"])


@pytest.fixture
def filled(store):
    result = store.upsert([BATTERY, TOY_ZH, PESTICIDE])
    assert sorted(result.inserted) == sorted([BATTERY.symbol, TOY_ZH.symbol, PESTICIDE.symbol])
    return store


def symbols(result):
    return [h.notice.symbol for h in result.hits]


def test_upsert_is_idempotent(filled):
    again = filled.upsert([BATTERY, TOY_ZH, PESTICIDE])
    assert again.inserted == [] and again.updated == []
    assert len(again.unchanged) == 3
    assert filled.count() == 3


def test_refetch_with_new_time_is_unchanged_but_new_content_updates(filled):
    refetched = BATTERY.model_copy(update={"fetched_at": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)})
    assert filled.upsert([refetched]).unchanged == [BATTERY.symbol]
    extended = BATTERY.model_copy(update={"comment_deadline": dt.date(2025, 6, 30)})
    assert filled.upsert([extended]).updated == [BATTERY.symbol]
    assert filled.get(BATTERY.symbol).comment_deadline == dt.date(2025, 6, 30)


def test_get_round_trips_every_field(filled):
    got = filled.get("g/tbt/n/eu/1132")
    assert got == BATTERY


def test_a_hit_gives_its_notice_and_the_same_fields_as_json(filled):
    """An export reads ``Hit.record`` (the stored fields, not validated into the model), the pages ``Hit.notice``:
    both must say the same, with and without search words (highlights read the notice)."""
    for text in ("", "batteries"):
        hits = filled.search(build_query(text=text, limit=10)).hits
        assert hits
        for hit in hits:
            assert hit.record == hit.notice.model_dump(mode="json")
            assert hit.notice == filled.get(hit.notice.symbol)


def test_chinese_version_becomes_translation(filled):
    zh = make(BATTERY.symbol, title="电池和废电池法规草案", description="锂离子电池应附带电池护照。", language="zh")
    assert filled.upsert([zh]).updated == [BATTERY.symbol]
    got = filled.get(BATTERY.symbol)
    assert got.title == BATTERY.title and got.language == "en"
    assert got.text("zh").title == "电池和废电池法规草案"
    assert BATTERY.symbol in symbols(filled.search(build_query(text="护照")))


def test_addendum_links_to_base_and_history_is_ordered(filled):
    add = make("G/TBT/N/EU/1132/Add.1", title="Comment period extended", distribution_date="2025-05-01")
    filled.upsert([add])
    assert filled.get(add.symbol).base_symbol == BATTERY.symbol
    assert [n.symbol for n in filled.history(add.symbol)] == [BATTERY.symbol, add.symbol]
    assert [n.symbol for n in filled.history(BATTERY.symbol)] == [BATTERY.symbol, add.symbol]


def test_iter_notices_by_date_range(filled):
    got = [n.symbol for n in filled.iter_notices(dt.date(2025, 1, 1), dt.date(2025, 3, 10))]
    assert got == [BATTERY.symbol]
    assert [n.symbol for n in filled.iter_notices()] == [PESTICIDE.symbol, BATTERY.symbol, TOY_ZH.symbol]


def test_english_search_stems_and_highlights(filled):
    result = filled.search(build_query(text="battery", expand=False))
    assert symbols(result) == [BATTERY.symbol]
    title = result.hits[0].highlights["title"]
    assert f"{MARK_START}batteries{MARK_END}" in title


@pytest.mark.parametrize("query", ["玩具", "电池", "锂电池", "电动玩具"])
def test_chinese_search_finds_two_character_and_longer_words(filled, query):
    assert symbols(filled.search(build_query(text=query, expand=False))) == [TOY_ZH.symbol]


def test_search_across_languages(filled):
    """A Chinese word finds the English notice and an English word the Chinese one, through the catalogue's
    bilingual terms; the expansion is part of the query, for the reader to see."""
    toys = build_query(text="玩具")
    assert "Toys" in toys.expansions[0].phrases
    assert BATTERY.symbol not in symbols(filled.search(toys))
    battery = build_query(text="battery")
    assert "电池" in battery.expansions[0].phrases
    assert set(symbols(filled.search(battery))) == {BATTERY.symbol, TOY_ZH.symbol}  # 锂电池 in the Chinese text
    assert set(symbols(filled.search(build_query(text="电池")))) == {BATTERY.symbol, TOY_ZH.symbol}
    assert symbols(filled.search(build_query(text="battery -玩具"))) == [BATTERY.symbol]  # exclusions as typed


def test_an_hs_name_finds_the_notices_carrying_its_code(store):
    coded = make("G/TBT/N/KOR/1", title="Safety criteria for rechargeable storage units", hs_codes=["850760"])
    store.upsert([coded])
    query = build_query(text="蓄电池")
    assert "8507" in query.expansions[0].hs
    assert symbols(store.search(query)) == [coded.symbol]
    assert symbols(store.search(build_query(text="蓄电池", expand=False))) == []


def test_phrase_and_exclusion(filled):
    assert symbols(filled.search(build_query(text='"battery passport"'))) == [BATTERY.symbol]
    assert symbols(filled.search(build_query(text='"passport battery"'))) == []
    assert symbols(filled.search(build_query(text="regulation -batteries"))) == []


def test_filters(filled):
    def run(**kw):
        return sorted(symbols(filled.search(build_query(**kw))))

    assert run(areas=["SPS"]) == [PESTICIDE.symbol]
    assert run(members=["欧盟"]) == [BATTERY.symbol]
    assert run(hs_prefixes=["85"]) == [BATTERY.symbol]
    assert run(hs_prefixes=["8507"]) == [BATTERY.symbol]
    assert run(hs_prefixes=["850760"]) == [BATTERY.symbol]
    assert run(hs_prefixes=["8506"]) == []
    assert run(hs_prefixes=["10", "95"]) == sorted([PESTICIDE.symbol, TOY_ZH.symbol])
    assert run(objectives=["Food safety"]) == [PESTICIDE.symbol]
    assert run(since=dt.date(2025, 3, 11)) == [TOY_ZH.symbol]
    assert run(until=dt.date(2025, 1, 1)) == [PESTICIDE.symbol]
    assert run(open_on=dt.date(2025, 4, 1)) == [BATTERY.symbol]


def test_sort_by_date_and_paging(filled):
    result = filled.search(build_query(sort="date", limit=2))
    assert result.total == 3
    assert symbols(result) == [TOY_ZH.symbol, BATTERY.symbol]
    assert symbols(filled.search(build_query(sort="date", limit=2, offset=2))) == [PESTICIDE.symbol]


def test_facets_count_the_filtered_set(filled):
    result = filled.search(build_query(facets=True, since=dt.date(2025, 1, 1)))
    facets = {name: {f.value: f.count for f in values} for name, values in result.facets.items()}
    assert facets["area"] == {"TBT": 2}
    assert facets["member"] == {"EU": 1, "CHN": 1}
    assert facets["hs_chapter"] == {"85": 1, "95": 1}
    assert facets["year"] == {"2025": 2}


def test_assessments_are_stored_and_filter_search(filled):
    assessment = {"symbol": BATTERY.symbol, "hs_given": ["850760"], "hs_inferred": [],
                  "product_lines": [{"id": "batteries", "score": 0.9,
                                     "evidence": [{"field": "title", "text": "batteries"}]},
                                    {"id": "chargers", "score": 0.5, "evidence": []}],
                  "relevant": True, "level": "high", "reasons": ["matches batteries"],
                  "notice_hash": BATTERY.content_hash()}
    assert filled.put_assessments([assessment]) == 1
    assert filled.get_assessment(BATTERY.symbol)["level"] == "high"
    assert filled.get_assessment(TOY_ZH.symbol) is None
    many = filled.get_assessments([BATTERY.symbol, TOY_ZH.symbol, BATTERY.symbol.lower()])
    assert list(many) == [BATTERY.symbol] and many[BATTERY.symbol]["level"] == "high"
    assert symbols(filled.search(build_query(levels=["high"]))) == [BATTERY.symbol]
    hit = filled.search(build_query(levels=["high"])).hits[0]
    assert (hit.level, hit.product_lines) == ("high", ["batteries", "chargers"])  # the primary line first
    assert symbols(filled.search(build_query(product_lines=["batteries"]))) == [BATTERY.symbol]
    assert BATTERY.symbol not in filled.stale_assessments()
    assert TOY_ZH.symbol in filled.stale_assessments()
    filled.upsert([BATTERY.model_copy(update={"title": "Amended battery regulation"})])
    assert BATTERY.symbol in filled.stale_assessments()


@pytest.mark.parametrize("text", ['"', "AND", "OR NOT", "NEAR(a b)", "title:x", "*", "'); DROP TABLE notices; --",
                                  "^battery", "a\x00b"])
def test_hostile_queries_neither_break_nor_inject(filled, text):
    result = filled.search(build_query(text=text))
    if parse_query(text):  # words: matched literally or nothing, never every notice
        assert result.total < 3, symbols(result)
    else:  # no word at all: the same as an empty search box
        assert result.total == 3
    assert filled.count() == 3


def test_bad_filters_are_refused_with_the_reason():
    with pytest.raises(QueryError, match="TBT or SPS"):
        build_query(areas=["XYZ"])
    with pytest.raises(QueryError, match="not a known WTO member"):
        build_query(members=["Atlantis"])
    with pytest.raises(QueryError, match="not an HS code"):
        build_query(hs_prefixes=["battery"])
    with pytest.raises(QueryError, match="only excludes"):
        build_query(text="-battery")

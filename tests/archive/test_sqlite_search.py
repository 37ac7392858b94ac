"""SQLite search internals: date-ordered search keys, filter tags, facet columns that follow writes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest

import archive.search_index as search_index
from archive.query import build_query
from archive.sqlite_store import SqliteStore
from tbtwatch.model import notice_from_dict


def make(symbol: str, day: str | None = "2025-03-10", **fields):
    return notice_from_dict({"symbol": symbol, "distribution_date": day, "title": f"Regulation on toys {symbol}",
                             "description": "", "products": "", **fields})


def symbols(result):
    return [h.notice.symbol for h in result.hits]


def facet(result, name):
    return {f.value: f.count for f in result.facets[name]}


@pytest.fixture
def store(tmp_path):
    backend = SqliteStore(tmp_path / "archive.sqlite3")
    yield backend
    backend.close()


def test_date_order_is_newest_day_first_then_latest_written_and_undated_last(store):
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/EU/2", day=None), make("G/TBT/N/EU/3", day="2025-03-11")])
    store.upsert([make("G/TBT/N/EU/4")])  # same day as EU/1, written later
    result = store.search(build_query(text="toys", sort="date"))
    assert symbols(result) == ["G/TBT/N/EU/3", "G/TBT/N/EU/4", "G/TBT/N/EU/1", "G/TBT/N/EU/2"]
    assert result.total == 4


def test_date_range_excludes_undated_notices(store):
    store.upsert([make("G/TBT/N/EU/1", day="2025-03-10"), make("G/TBT/N/EU/2", day=None)])
    assert symbols(store.search(build_query(until=dt.date(2025, 12, 31)))) == ["G/TBT/N/EU/1"]
    assert symbols(store.search(build_query(text="toys", since=dt.date(2025, 1, 1)))) == ["G/TBT/N/EU/1"]
    assert sorted(symbols(store.search(build_query()))) == ["G/TBT/N/EU/1", "G/TBT/N/EU/2"]


def test_a_changed_distribution_date_moves_the_notice(store):
    store.upsert([make("G/TBT/N/EU/1", day="2025-03-10"), make("G/TBT/N/EU/2", day="2025-03-12")])
    store.upsert([make("G/TBT/N/EU/1", day="2025-03-20")])  # a corrected date
    assert symbols(store.search(build_query(text="toys", sort="date"))) == ["G/TBT/N/EU/1", "G/TBT/N/EU/2"]
    assert symbols(store.search(build_query(since=dt.date(2025, 3, 15)))) == ["G/TBT/N/EU/1"]
    assert store.search(build_query(text="toys")).total == 2  # the old FTS row is gone
    assert store.integrity_check() == []


def test_filters_are_exact_tags_not_words_the_user_can_type(store):
    sps = make("G/SPS/N/EU/1", hs_codes=["0201"], objectives=["Food safety"])
    store.upsert([sps, make("G/TBT/N/USA/1", hs_codes=["020110"])])
    assert symbols(store.search(build_query(text="toys", areas=["SPS"]))) == ["G/SPS/N/EU/1"]
    assert symbols(store.search(build_query(hs_prefixes=["020110"]))) == ["G/TBT/N/USA/1"]
    assert len(store.search(build_query(hs_prefixes=["02"])).hits) == 2
    assert symbols(store.search(build_query(objectives=["Food safety"]))) == ["G/SPS/N/EU/1"]
    for tag_text in ("xasps0", "xmeu0", "xh020", "xh02010"):  # what the tags look like inside the index
        assert store.search(build_query(text=tag_text)).total == 0


def test_text_with_assessment_filter_ranks_by_relevance(store):
    strong = make("G/TBT/N/EU/1", title="Toys toys toys safety", products="toys")
    weak = make("G/TBT/N/EU/2", title="Electrical equipment", description="also toys")
    other = make("G/TBT/N/EU/3", title="Toys", products="toys")
    store.upsert([strong, weak, other])
    store.put_assessments([{"symbol": s, "level": "high", "relevant": True} for s in ("G/TBT/N/EU/1", "G/TBT/N/EU/2")])
    result = store.search(build_query(text="toys", levels=["high"]))
    assert result.sort == "relevance" and result.total == 2
    assert symbols(result) == ["G/TBT/N/EU/1", "G/TBT/N/EU/2"]
    assert result.hits[0].score > result.hits[1].score > 0
    assert symbols(store.search(build_query(text="toys", levels=["high"], sort="date", offset=1))) == ["G/TBT/N/EU/1"]


def test_open_for_comment_filter_with_and_without_text(store):
    store.upsert([make("G/TBT/N/EU/1", comment_deadline="2025-05-01"), make("G/TBT/N/EU/2", comment_deadline="2025-03-01"),
                  make("G/TBT/N/EU/3")])
    assert symbols(store.search(build_query(open_on=dt.date(2025, 4, 1)))) == ["G/TBT/N/EU/1"]
    assert symbols(store.search(build_query(text="toys", open_on=dt.date(2025, 4, 1)))) == ["G/TBT/N/EU/1"]
    assert store.search(build_query(text="batteries", open_on=dt.date(2025, 4, 1))).total == 0


def test_the_deadline_and_level_filters_read_their_index_alone(store, tmp_path):
    store.upsert([make("G/TBT/N/EU/1", comment_deadline="2025-05-01")])
    conn = sqlite3.connect(tmp_path / "archive.sqlite3")
    # an archive written before the indexes carried the key: its one-column indexes are replaced on open
    conn.executescript("""DROP INDEX search_docs_deadline_key; DROP INDEX search_docs_level_key;
        CREATE INDEX search_docs_deadline ON search_docs (deadline);
        CREATE INDEX search_docs_level ON search_docs (level);""")
    SqliteStore(tmp_path / "archive.sqlite3").close()
    names = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE tbl_name = 'search_docs' AND type = 'index'")}
    assert {"search_docs_deadline_key", "search_docs_level_key"} <= names
    assert not names & {"search_docs_deadline", "search_docs_level"}
    for where in ("deadline >= '2025-04-01'", "level IN ('high', 'medium')"):
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT group_concat(key) FROM search_docs "
                            f"WHERE +key BETWEEN 0 AND 9 AND {where}").fetchall()
        assert "COVERING INDEX" in plan[0][-1], plan
    conn.close()
    assert symbols(store.search(build_query(open_on=dt.date(2025, 4, 1)))) == ["G/TBT/N/EU/1"]


def test_facet_columns_follow_writes_from_another_connection(store, tmp_path):
    store.upsert([make("G/TBT/N/EU/1", hs_codes=["850760"])])
    assert facet(store.search(build_query(facets=True)), "member") == {"EU": 1}
    writer_done = threading.Event()

    def write_from_another_thread():  # its own SQLite connection, like a crawl beside the web app
        other = SqliteStore(tmp_path / "archive.sqlite3")
        other.upsert([make("G/SPS/N/JPN/1", hs_codes=["1001"]), make("G/TBT/N/EU/1", hs_codes=["9503"])])
        other.put_assessments([{"symbol": "G/SPS/N/JPN/1", "level": "medium", "relevant": True}])
        writer_done.set()

    thread = threading.Thread(target=write_from_another_thread)
    thread.start()
    thread.join(timeout=30)
    assert writer_done.is_set()
    result = store.search(build_query(facets=True))
    assert facet(result, "member") == {"EU": 1, "JPN": 1}
    assert facet(result, "hs_chapter") == {"85": 1, "95": 1, "10": 1}  # a new version's codes join the old
    assert facet(result, "level") == {"medium": 1}
    assert facet(result, "year") == {"2025": 2}
    assert facet(store.search(build_query(text="toys", areas=["TBT"], facets=True)), "area") == {"TBT": 1}


def test_an_archive_with_the_old_search_layout_is_rebuilt_on_open(store, tmp_path):
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/CHN/1", title="电动玩具安全", language="zh")])
    assert facet(store.search(build_query(facets=True)), "member") == {"EU": 1, "CHN": 1}
    conn = sqlite3.connect(tmp_path / "archive.sqlite3")
    conn.executescript("""DROP TABLE notices_fts; DROP TABLE search_docs; DROP TABLE search_state;
        CREATE VIRTUAL TABLE notices_fts USING fts5 (title, products, description, translations);""")
    conn.close()
    reopened = SqliteStore(tmp_path / "archive.sqlite3")
    assert symbols(reopened.search(build_query(text="玩具", expand=False))) == ["G/TBT/N/CHN/1"]
    assert reopened.search(build_query(text="toys", expand=False)).total == 1
    reopened.upsert([make("G/TBT/N/USA/1")])
    # the rebuilt index starts a new epoch: the facet columns reload rather than add to the old ones
    assert facet(reopened.search(build_query(facets=True)), "member") == {"EU": 1, "CHN": 1, "USA": 1}
    assert reopened.integrity_check() == []


def test_more_notices_on_one_day_than_slots_is_a_clear_error_and_loses_nothing(store, monkeypatch):
    monkeypatch.setattr(search_index, "SLOTS", 2)
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/EU/2")])
    with pytest.raises(search_index.DayFullError, match="2025-03-10.*date parsing"):
        store.upsert([make("G/TBT/N/EU/3")])
    assert store.count() == 2
    assert store.integrity_check() == []


def test_a_notice_missing_from_the_index_is_reported_and_a_rebuild_restores_it(store, tmp_path):
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/EU/2")])
    conn = sqlite3.connect(tmp_path / "archive.sqlite3")
    with conn:
        conn.execute("DELETE FROM notices_fts WHERE rowid = (SELECT max(key) FROM search_docs)")
    conn.close()
    assert any("missing from the search index" in p for p in store.integrity_check())
    assert store.search(build_query(text="toys")).total == 1
    store.rebuild_search_index()
    assert store.integrity_check() == []
    assert store.search(build_query(text="toys")).total == 2


def test_a_repeated_search_is_served_from_the_cache_until_any_process_writes(store, tmp_path):
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/EU/2")])
    query = build_query(text="toys", facets=True)
    first = store.search(query)
    assert store.search(build_query(text="toys", facets=True)) is first  # same state, same query: no work
    assert store.search(build_query(text="toys", members=["EU"])) is not first  # another query is computed
    writer = SqliteStore(tmp_path / "archive.sqlite3")  # another store, as a crawl in another process would be
    writer.upsert([make("G/TBT/N/USA/3")])
    fresh = store.search(query)
    assert fresh.total == 3 and facet(fresh, "member") == {"EU": 2, "USA": 1}
    writer.put_assessments([{"symbol": "G/TBT/N/USA/3", "level": "high", "product_lines": [], "relevant": True,
                             "notice_hash": make("G/TBT/N/USA/3").content_hash()}])
    assert {h.notice.symbol: h.level for h in store.search(query).hits}["G/TBT/N/USA/3"] == "high"


def test_large_pages_are_not_cached(store):
    store.upsert([make("G/TBT/N/EU/1")])
    query = build_query(text="toys", limit=500)
    assert store.search(query) is not store.search(query)


def test_a_counting_query_has_the_same_total_and_facets_without_ranking(store):
    store.upsert([make("G/TBT/N/EU/1"), make("G/TBT/N/USA/1", day="2025-03-11"), make("G/SPS/N/JPN/1")])
    query = build_query(text="toys", facets=True)
    counting = query.counting()
    assert (counting.limit, counting.offset, counting.sort, counting.text) == (1, 0, "date", "toys")
    full, counted = store.search(query), store.search(counting)
    assert counted.total == full.total == 3 and counted.facets == full.facets
    assert not query.counting(facets=False).facets

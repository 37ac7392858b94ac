"""Every Elasticsearch request body the archive sends, in one place.

The bodies are plain Elasticsearch JSON (``from``, ``_source``, ``aggs``), as
in Elasticsearch's REST documentation, so each can be checked against it and
pasted into a console. ``archive.elastic`` only sends them and reads the answers.

Two indices per archive name ``NAME``:

- ``NAME`` holds one document per notice (document id = symbol): the filter
  fields as keywords and dates, the text fields analysed twice (``english``
  for stemming, the built-in ``cjk`` analyzer's bigrams for Chinese), the
  denormalised assessment fields the filters need (level, product lines,
  the hash of the notice version that was assessed), and the whole notice
  record unindexed for exact round trips.
- ``NAME-assessments`` holds the classifier's record per symbol, unindexed
  apart from symbol, level and hash.

Each index is created from a composable index template with explicit mappings
(``dynamic: strict``, so a field the code forgot to map is an error, not a
silently guessed type).
"""

from __future__ import annotations

from typing import Any

from archive.base import MARK_END, MARK_START, SearchQuery
from archive.text import Term

LANGUAGES = ("en", "zh", "fr", "es")
TEXT_FIELDS = ("title", "products", "description")
FIELD_BOOSTS = {"title": 5, "products": 3, "description": 1}  # the SQLite store's BM25 weights, roughly
TRANSLATION_BOOST = 2
FACET_SIZE = 20
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window: from + size may not pass it
TEMPLATE_PRIORITY = 200  # above Elasticsearch's built-in templates (100) in case a name ever overlaps
FACET_SOURCES = {  # facet name (archive.base.FACET_FIELDS) -> keyword field aggregated
    "member": "member_code", "area": "area", "hs_chapter": "hs2", "objective": "objectives",
    "year": "year", "level": "level", "product_line": "product_lines",
}

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date", "format": "strict_date"}
_TEXT = {"type": "text", "analyzer": "english", "fields": {"cjk": {"type": "text", "analyzer": "cjk"}}}
_UNINDEXED = {"type": "object", "enabled": False}


def assessments_index(name: str) -> str:
    return f"{name}-assessments"


def notice_mappings() -> dict[str, Any]:
    translations = {lang: {"properties": {f: _TEXT for f in TEXT_FIELDS}} for lang in LANGUAGES}
    return {
        "dynamic": "strict",
        "properties": {
            "symbol": _KEYWORD, "symbols": _KEYWORD, "base_symbol": _KEYWORD,
            "symbols_text": {"type": "text", "analyzer": "standard"},
            "area": _KEYWORD, "kind": _KEYWORD, "member_code": _KEYWORD, "member": _KEYWORD,
            "language": _KEYWORD, "distribution_date": _DATE, "comment_deadline": _DATE, "year": _KEYWORD,
            "hs_codes": _KEYWORD, "hs2": _KEYWORD, "hs4": _KEYWORD, "hs6": _KEYWORD,
            "ics_codes": _KEYWORD, "objectives": _KEYWORD,
            **{f: _TEXT for f in TEXT_FIELDS},
            "translations": {"properties": translations},
            "content_hash": _KEYWORD,
            "first_seen": {"type": "date"}, "updated_at": {"type": "date"},
            "level": _KEYWORD, "product_lines": _KEYWORD, "assessment_hash": _KEYWORD,
            "record": _UNINDEXED,
        },
    }


def assessment_mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "properties": {"symbol": _KEYWORD, "notice_hash": _KEYWORD, "level": _KEYWORD,
                       "product_lines": _KEYWORD, "assessed_at": {"type": "date"}, "record": _UNINDEXED},
    }


def index_template(name: str, mappings: dict[str, Any]) -> dict[str, Any]:
    """``PUT _index_template/<name>``: the exact index name as pattern, one shard (notices are few)."""
    return {
        "index_patterns": [name],
        "priority": TEMPLATE_PRIORITY,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 1}, "mappings": mappings},
        "_meta": {"managed_by": "tbtwatch", "description": "tbtwatch notice archive (archive/es_bodies.py)"},
    }


# -- queries ------------------------------------------------------------------------------------

def text_fields() -> list[str]:
    """Fields a query term is matched against, with boosts; each text field also as its ``.cjk`` bigrams."""
    fields = ["symbols_text^5"]
    for name, boost in FIELD_BOOSTS.items():
        fields += [f"{name}^{boost}", f"{name}.cjk^{boost}"]
    for lang in LANGUAGES:
        for name in TEXT_FIELDS:
            fields += [f"translations.{lang}.{name}^{TRANSLATION_BOOST}",
                       f"translations.{lang}.{name}.cjk^{TRANSLATION_BOOST}"]
    return fields


def term_query(term: Term) -> dict[str, Any]:
    """One parsed term (``archive.text.parse_query``) as a phrase over every text field.

    A phrase of one word is that word; a Chinese word is the phrase of its
    bigrams (``cjk`` field) and of its characters (``english`` field, whose
    standard tokenizer splits Han characters), so 2-character words match.
    The term's words come from the parser, never raw user syntax: a query can
    not inject Elasticsearch query-string operators. An expanded term
    (``archive.thesaurus``) matches any of its phrasings or HS prefixes, as in
    the SQLite store.
    """
    phrases = [{"multi_match": {"query": " ".join(words), "type": "phrase", "fields": text_fields()}}
               for words in term.phrasings]
    if len(phrases) == 1 and not term.hs:
        return phrases[0]
    hs = [hs_prefix_filter(list(term.hs))] if term.hs else []
    return {"bool": {"should": phrases + hs, "minimum_should_match": 1}}


def hs_prefix_filter(prefixes: list[str]) -> dict[str, Any]:
    """A notice matches an HS prefix when one of its codes starts with it (2, 4 or 6 digits)."""
    return {"bool": {"should": [{"term": {f"hs{len(p)}": p}} for p in prefixes], "minimum_should_match": 1}}


def filters(q: SearchQuery) -> list[dict[str, Any]]:
    """The same filters as the SQLite store's WHERE clause, as filter-context clauses (cached, unscored)."""
    clauses: list[dict[str, Any]] = []
    for field, values in (("area", q.areas), ("member_code", q.members), ("objectives", q.objectives),
                          ("product_lines", q.product_lines), ("level", q.levels)):
        if values:
            clauses.append({"terms": {field: values}})
    if q.hs_prefixes:
        clauses.append(hs_prefix_filter(q.hs_prefixes))
    dates = {k: v.isoformat() for k, v in (("gte", q.since), ("lte", q.until)) if v}
    if dates:
        clauses.append({"range": {"distribution_date": dates}})
    if q.open_on:
        clauses.append({"range": {"comment_deadline": {"gte": q.open_on.isoformat()}}})
    return clauses


def highlight() -> dict[str, Any]:
    """Marks around hits are the archive's private-use characters, not HTML: the web layer escapes first."""
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        whole = {"number_of_fragments": 0} if name == "title" else {"fragment_size": 240, "number_of_fragments": 1}
        fields[name] = whole
        fields[f"{name}.cjk"] = whole
    for lang in LANGUAGES:
        for name in ("title", "description"):
            whole = {"number_of_fragments": 0} if name == "title" else {"fragment_size": 240, "number_of_fragments": 1}
            fields[f"translations.{lang}.{name}"] = whole
            fields[f"translations.{lang}.{name}.cjk"] = whole
    return {"pre_tags": [MARK_START], "post_tags": [MARK_END], "encoder": "default", "require_field_match": True,
            "fields": fields}


def facet_aggregations() -> dict[str, Any]:
    return {name: {"terms": {"field": field, "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            for name, field in FACET_SOURCES.items()}


DATE_SORT = [{"distribution_date": {"order": "desc", "missing": "_last"}}, {"symbol": {"order": "desc"}}]


def search(q: SearchQuery, terms: list[Term]) -> dict[str, Any]:
    """``POST NAME/_search`` for a checked query: text terms, filters, sort, page, highlights and facets."""
    positive = [term_query(t) for t in terms if not t.negated]
    negative = [term_query(t) for t in terms if t.negated]
    query: dict[str, Any] = {"bool": {"filter": filters(q)}}
    if positive:
        query["bool"]["must"] = positive
    if negative:
        query["bool"]["must_not"] = negative
    sort = ["_score", *DATE_SORT] if positive and q.sort == "relevance" else DATE_SORT
    body: dict[str, Any] = {
        "query": query, "sort": sort, "from": q.offset, "size": q.limit, "track_total_hits": True,
        "track_scores": True, "_source": ["record", "level", "product_lines"],
    }
    if positive:
        body["highlight"] = highlight()
    if q.facets:
        body["aggs"] = facet_aggregations()
    return body


def history(base_symbol: str) -> dict[str, Any]:
    """The base notification and everything issued on it, oldest first (undated last, as SQLite sorts)."""
    return {
        "query": {"bool": {"should": [{"term": {"symbol": base_symbol}}, {"term": {"base_symbol": base_symbol}}],
                           "minimum_should_match": 1}},
        "sort": [{"distribution_date": {"order": "asc", "missing": "_last"}}, {"symbol": {"order": "asc"}}],
        "size": 1000, "_source": ["record"],
    }


ITER_SORT = [{"distribution_date": {"order": "asc", "missing": "_first"}}, {"symbol": {"order": "asc"}}]


def date_range(since: str | None, until: str | None, page_size: int, search_after: list | None) -> dict[str, Any]:
    """One page of notices distributed in [since, until], oldest first; ``search_after`` continues a scan."""
    dates = {k: v for k, v in (("gte", since), ("lte", until)) if v}
    query = {"range": {"distribution_date": dates}} if dates else {"match_all": {}}
    body: dict[str, Any] = {"query": query, "sort": ITER_SORT, "size": page_size, "_source": ["record"]}
    if search_after is not None:
        body["search_after"] = search_after
    return body


STALE_SCRIPT = ("doc['assessment_hash'].size() == 0 || doc['content_hash'].size() == 0 || "
                "doc['assessment_hash'].value != doc['content_hash'].value")


def stale_assessments(page_size: int, search_after: list | None) -> dict[str, Any]:
    """Notices with no assessment, or one made on another version (the stored hashes differ)."""
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [{"script": {"script": {"source": STALE_SCRIPT, "lang": "painless"}}}]}},
        "sort": [{"first_seen": {"order": "asc"}}, {"symbol": {"order": "asc"}}],
        "size": page_size, "_source": False,
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


# -- documents ----------------------------------------------------------------------------------

def hs_prefixes(codes: list[str]) -> dict[str, list[str]]:
    """hs2/hs4/hs6 keyword values: every prefix of each code at the levels it has."""
    out: dict[str, list[str]] = {"hs2": [], "hs4": [], "hs6": []}
    for code in codes:
        for size in (2, 4, 6):
            if len(code) >= size and code[:size] not in out[f"hs{size}"]:
                out[f"hs{size}"].append(code[:size])
    return out


def notice_document(record: dict[str, Any], content_hash: str, first_seen: str, updated_at: str,
                    assessment: dict[str, Any]) -> dict[str, Any]:
    """The indexed document of one notice; ``record`` is ``Notice.model_dump(mode="json")``.

    ``assessment`` holds the ``ASSESSMENT_FIELDS`` values (``assessment_fields`` of the stored
    assessment, or those carried over from the previous version of the document).
    """
    day = record.get("distribution_date")
    doc = {
        **{k: record.get(k) for k in ("symbol", "symbols", "base_symbol", "area", "kind", "member_code", "member",
                                       "language", "distribution_date", "comment_deadline", "hs_codes",
                                       "ics_codes", "objectives", *TEXT_FIELDS)},
        "symbols_text": " ".join(record.get("symbols") or [record["symbol"]]),
        "year": day[:4] if day else None,
        **hs_prefixes(record.get("hs_codes") or []),
        "translations": {lang: {f: text.get(f, "") for f in TEXT_FIELDS}
                         for lang, text in (record.get("translations") or {}).items() if lang in LANGUAGES},
        "content_hash": content_hash, "first_seen": first_seen, "updated_at": updated_at,
        "record": record,
    }
    doc.update({k: assessment.get(k) for k in ASSESSMENT_FIELDS})
    return doc


ASSESSMENT_FIELDS = ("level", "product_lines", "assessment_hash")


def assessment_fields(assessment: dict[str, Any] | None) -> dict[str, Any]:
    """What the notice document carries of its assessment (for the level and product-line filters)."""
    if not assessment:
        return {"level": None, "product_lines": [], "assessment_hash": None}
    return {"level": assessment.get("level", "none"),
            "product_lines": [str(p["id"]) for p in assessment.get("product_lines", [])],
            "assessment_hash": assessment.get("notice_hash")}


def assessment_document(record: dict[str, Any], assessed_at: str) -> dict[str, Any]:
    fields = assessment_fields(record)
    return {"symbol": record["symbol"], "notice_hash": fields["assessment_hash"], "level": fields["level"],
            "product_lines": fields["product_lines"], "assessed_at": assessed_at, "record": record}

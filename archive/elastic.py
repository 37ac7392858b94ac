"""The Elasticsearch notice store: the scale-out search index behind the same ``NoticeStore`` interface.

SQLite stays the system of record (crawls always write it); when
``archive.backend = "elasticsearch"`` the web app and the CLI search this
index, which ``tbtwatch index rebuild`` fills from SQLite and the daily
pipeline keeps current with ``upsert``.

``upsert`` merges exactly like the SQLite store: it reads the stored versions
of the batch (one ``_mget``), merges each incoming notice into its stored
version with ``tbtwatch.model.merge_notice``, and writes only the notices whose
content hash changed in one ``_bulk`` request (document id = symbol). Writes are
conditional on the ``_seq_no``/``_primary_term`` that was read (``create`` for
new symbols), so two writers racing on one symbol cannot lose a merge: the loser
gets a 409 and its notice is merged again on the fresh version. Passing
already-merged records (as the rebuild does) is therefore safe too: merging a
notice into an identical stored one is a no-op.

All request bodies live in ``archive.es_bodies``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from archive import es_bodies as bodies
from archive.base import (
    FACET_FIELDS, Facet, Hit, NoticeStore, QueryError, SearchQuery, SearchResult, UpsertResult,
)
from archive.text import expanded, parse_query
from tbtwatch.model import Notice, merge_notice
from tbtwatch.settings import SettingsError
from tbtwatch.symbols import parse_symbol

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from tbtwatch.settings import Settings

CHUNK = 500  # documents per _mget/_bulk request
MAX_CONFLICT_ROUNDS = 5


class ElasticError(RuntimeError):
    """Elasticsearch refused or failed a request; the message names the index and the reason."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _highlight_key(field: str) -> str:
    """``title.cjk`` -> ``title``; ``translations.zh.title`` -> ``title_zh`` (the SQLite store's keys)."""
    parts = field.removesuffix(".cjk").split(".")
    return f"{parts[2]}_{parts[1]}" if parts[0] == "translations" else parts[0]


class ElasticStore(NoticeStore):
    def __init__(self, client: Elasticsearch, index: str, *, refresh: bool | str = "wait_for"):
        """``refresh="wait_for"`` makes each write visible to the next search (what callers expect)."""
        self.client = client
        self.index = index
        self.assessments = bodies.assessments_index(index)
        self.refresh = refresh

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticStore:
        """A client for ``archive.es_url`` with credentials from the settings/environment; indices created if new."""
        from elasticsearch import Elasticsearch

        conf = settings.archive
        if not conf.es_url:
            raise SettingsError("archive.backend is 'elasticsearch' but no server is set: set TBTWATCH_ES_URL "
                                "(e.g. https://localhost:9200), or use TBTWATCH_ARCHIVE_BACKEND=sqlite")
        auth: dict[str, Any] = {}
        if conf.es_api_key:
            auth["api_key"] = conf.es_api_key
        elif conf.es_username:
            auth["basic_auth"] = (conf.es_username, conf.es_password)
        client = Elasticsearch(conf.es_url, request_timeout=30, retry_on_timeout=True, max_retries=3, **auth)
        store = cls(client, conf.es_index)
        store.ensure_indices()
        return store

    # -- index management ----------------------------------------------------------------------
    def _call(self, what: str, fn, *args, tolerate: str = "", **kwargs):
        """Run a client call; turn transport and API errors into one error type that names the index.

        ``tolerate`` names an Elasticsearch error type that is an expected outcome (the call returns None).
        """
        from elasticsearch import ApiError, TransportError

        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            if tolerate and exc.message == tolerate:
                return None
            raise ElasticError(f"Elasticsearch index {self.index}: {what} failed ({exc.meta.status}: "
                               f"{exc.message}); check the server log and the index mapping") from exc
        except TransportError as exc:
            raise ElasticError(f"cannot reach Elasticsearch for {what} ({exc}); check TBTWATCH_ES_URL "
                               "and that the server is up") from exc

    def ensure_indices(self) -> None:
        """Put the index templates and create both indices when they do not exist yet."""
        for name, mappings in ((self.index, bodies.notice_mappings()),
                               (self.assessments, bodies.assessment_mappings())):
            if self._call("index check", self.client.indices.exists, index=name):
                continue
            self._call("index template", self.client.indices.put_index_template, name=name,
                       body=bodies.index_template(name, mappings))
            self._call("index creation", self.client.indices.create, index=name,
                       tolerate="resource_already_exists_exception")  # created meanwhile by another process

    def drop(self) -> None:
        """Delete both indices and their templates (tests, and ``index rebuild --fresh``)."""
        for name in (self.index, self.assessments):
            self._call("delete index", self.client.indices.delete, index=name, ignore_unavailable=True)
            self._call("delete template", self.client.options(ignore_status=404).indices.delete_index_template,
                       name=name)

    def refresh_indices(self) -> None:
        self._call("refresh", self.client.indices.refresh, index=[self.index, self.assessments])

    def close(self) -> None:
        self.client.close()

    # -- writing ------------------------------------------------------------------------------
    def _bulk(self, operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send one ``_bulk`` request; return each item's result (action name stripped)."""
        if not operations:
            return []
        response = self._call("bulk write", self.client.bulk, operations=operations, refresh=self.refresh)
        return [next(iter(item.values())) for item in response["items"]]

    def _stored(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Stored documents by id, with their ``_seq_no``/``_primary_term``; missing ids left out."""
        if not ids:
            return {}
        response = self._call("read", self.client.mget, index=index, ids=ids)
        return {d["_id"]: d for d in response["docs"] if d.get("found")}

    def upsert(self, notices: Iterable[Notice]) -> UpsertResult:
        result = UpsertResult()
        batch: dict[str, Notice] = {}
        for notice in notices:  # merge repeats within one batch first, like the SQLite store
            batch[notice.symbol] = merge_notice(batch[notice.symbol], notice) if notice.symbol in batch else notice
        for chunk in _chunks(list(batch.values())):
            result += self._upsert_chunk(chunk)
        return result

    def _upsert_chunk(self, notices: list[Notice]) -> UpsertResult:
        result = UpsertResult()
        pending = {n.symbol: n for n in notices}
        for _ in range(MAX_CONFLICT_ROUNDS):
            if not pending:
                return result
            stored = self._stored(self.index, list(pending))
            new_symbols = [s for s in pending if s not in stored]
            assessments = {s: d["_source"]["record"] for s, d in self._stored(self.assessments, new_symbols).items()}
            operations, outcome = [], {}
            now = _now()
            for symbol, notice in pending.items():
                old = stored.get(symbol)
                if old is None:
                    merged, first_seen = notice, now
                    carried = bodies.assessment_fields(assessments.get(symbol))
                    action = {"create": {"_index": self.index, "_id": symbol}}
                    outcome[symbol] = result.inserted
                else:
                    source = old["_source"]
                    merged = merge_notice(Notice.model_validate(source["record"]), notice)
                    if merged.content_hash() == source["content_hash"]:
                        result.unchanged.append(symbol)
                        continue
                    first_seen = source["first_seen"]
                    carried = {k: source.get(k) for k in bodies.ASSESSMENT_FIELDS}
                    action = {"index": {"_index": self.index, "_id": symbol, "if_seq_no": old["_seq_no"],
                                        "if_primary_term": old["_primary_term"]}}
                    outcome[symbol] = result.updated
                doc = bodies.notice_document(merged.model_dump(mode="json"), merged.content_hash(), first_seen,
                                             now, carried)
                operations += [action, doc]
            retry = {}
            for item in self._bulk(operations):
                symbol = item["_id"]
                if item.get("status") == 409:  # written by someone else since we read it: merge again
                    retry[symbol] = pending[symbol]
                elif item.get("error"):
                    raise ElasticError(f"Elasticsearch index {self.index}: writing {symbol} failed: {item['error']}")
                else:
                    outcome[symbol].append(symbol)
            pending = retry
        raise ElasticError(f"Elasticsearch index {self.index}: {', '.join(pending)} kept changing under concurrent "
                           "writers; run the upsert again")

    def put_assessments(self, assessments: Iterable[dict[str, Any]]) -> int:
        """Index the records, and copy level, product lines and hash onto the notice documents that exist."""
        records = {}
        for a in assessments:
            if "error" in a and "symbol" not in a:
                continue  # a classify error record for a malformed input line
            symbol = str(parse_symbol(a["symbol"]))
            records[symbol] = json.loads(json.dumps({**a, "symbol": symbol}, ensure_ascii=False, default=str))
        now = _now()
        for chunk in _chunks(list(records.items())):
            operations: list[dict[str, Any]] = []
            for symbol, record in chunk:
                operations += [{"index": {"_index": self.assessments, "_id": symbol}},
                               bodies.assessment_document(record, now)]
            for item in self._bulk(operations):
                if item.get("error"):
                    raise ElasticError(f"Elasticsearch index {self.assessments}: writing {item['_id']} failed: "
                                       f"{item['error']}")
            operations = []
            for symbol, record in chunk:
                operations += [{"update": {"_index": self.index, "_id": symbol, "retry_on_conflict": 3}},
                               {"doc": bodies.assessment_fields(record)}]
            for item in self._bulk(operations):
                if item.get("error") and item.get("status") != 404:  # 404: notice not indexed yet, copied later
                    raise ElasticError(f"Elasticsearch index {self.index}: assessment of {item['_id']}: "
                                       f"{item['error']}")
        return len(records)

    # -- reading -------------------------------------------------------------------------------
    def get(self, symbol: str) -> Notice | None:
        found = self._stored(self.index, [str(parse_symbol(symbol))])
        return next((Notice.model_validate(d["_source"]["record"]) for d in found.values()), None)

    def get_assessments(self, symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
        found = self._stored(self.assessments, list(dict.fromkeys(str(parse_symbol(s)) for s in symbols)))
        return {symbol: d["_source"]["record"] for symbol, d in found.items()}

    def history(self, symbol: str) -> list[Notice]:
        base = str(parse_symbol(symbol).base)
        response = self._call("history", self.client.search, index=self.index, body=bodies.history(base))
        return [Notice.model_validate(h["_source"]["record"]) for h in response["hits"]["hits"]]

    def _scan(self, what: str, make_body) -> Iterator[dict[str, Any]]:
        """Every hit of a sorted query, page by page with ``search_after`` (no scroll context to leak)."""
        after = None
        while True:
            hits = self._call(what, self.client.search, index=self.index,
                              body=make_body(CHUNK, after))["hits"]["hits"]
            yield from hits
            if len(hits) < CHUNK:
                return
            after = hits[-1]["sort"]

    def iter_notices(self, since: dt.date | None = None, until: dt.date | None = None) -> Iterator[Notice]:
        since_s, until_s = (since.isoformat() if since else None), (until.isoformat() if until else None)
        for hit in self._scan("listing", lambda size, after: bodies.date_range(since_s, until_s, size, after)):
            yield Notice.model_validate(hit["_source"]["record"])

    def stale_assessments(self) -> list[str]:
        return [hit["_id"] for hit in self._scan("stale assessments", bodies.stale_assessments)]

    def count(self) -> int:
        return int(self._call("count", self.client.count, index=self.index)["count"])

    def search(self, query: SearchQuery) -> SearchResult:
        terms = expanded(parse_query(query.text), query.expansions)
        if query.offset + query.limit > bodies.MAX_RESULT_WINDOW:
            raise QueryError(f"results beyond the first {bodies.MAX_RESULT_WINDOW:,} cannot be paged to: "
                             "narrow the search with filters or a date range")
        response = self._call("search", self.client.search, index=self.index, body=bodies.search(query, terms))
        hits = []
        for h in response["hits"]["hits"]:
            marks: dict[str, str] = {}
            for field, fragments in sorted((h.get("highlight") or {}).items()):  # "x" sorts before "x.cjk"
                marks.setdefault(_highlight_key(field), fragments[0])
            hits.append(Hit(stored=h["_source"]["record"], score=float(h.get("_score") or 0),
                            highlights=marks, level=h["_source"].get("level"),
                            product_lines=list(h["_source"].get("product_lines") or [])))
        facets = {}
        for name in FACET_FIELDS if query.facets else ():
            buckets = response.get("aggregations", {}).get(name, {}).get("buckets", [])
            facets[name] = [Facet(str(b["key"]), int(b["doc_count"])) for b in buckets]
        return SearchResult(total=int(response["hits"]["total"]["value"]), hits=hits, facets=facets)

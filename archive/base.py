"""The one small interface every notice store implements, and the query types it takes."""

from __future__ import annotations

import abc
import datetime as dt
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from tbtwatch.model import Notice
from tbtwatch.symbols import parse_symbol

if TYPE_CHECKING:
    from tbtwatch.settings import Settings

# Highlights are returned with these marks around each hit; the caller escapes the crawled text first and
# only then turns them into <mark> (or strips them). Crawled text may hold any character, private-use ones
# included, so a mark is a random token made per process: text cannot contain one by chance, and no one can
# learn it, since a mark never leaves the process (pages turn it into tags, exports and the API strip it).
_MARK_TOKEN = secrets.token_hex(8)
MARK_START = f"\ue000{_MARK_TOKEN}\ue001"
MARK_END = f"\ue001{_MARK_TOKEN}\ue000"

FACET_FIELDS = ("member", "area", "hs_chapter", "objective", "year", "level", "product_line")


class QueryError(ValueError):
    """A search the store cannot run (bad syntax, bad filter value); the message says why."""


@dataclass(frozen=True)
class Expansion:
    """Other ways of saying one query term (``archive.thesaurus``): each phrase is searched as well as the term,
    and the notices carrying one of the HS prefixes match it too."""

    term: str
    phrases: tuple[str, ...] = ()
    hs: tuple[str, ...] = ()


@dataclass
class SearchQuery:
    text: str = ""
    areas: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    hs_prefixes: list[str] = field(default_factory=list)
    product_lines: list[str] = field(default_factory=list)
    objectives: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    since: dt.date | None = None
    until: dt.date | None = None
    open_on: dt.date | None = None  # open for comment on this day
    sort: Literal["relevance", "date"] = "relevance"
    limit: int = 20
    offset: int = 0
    facets: bool = False
    expansions: list[Expansion] = field(default_factory=list)  # per typed term; shown to the reader

    def counting(self, facets: bool | None = None) -> "SearchQuery":
        """The same set, asked for its total (and facets) only: one hit in date order, so that no ranking
        of every match is computed (BM25 over 20,000 matches costs ~6 ms) for a hit nobody reads."""
        return replace(self, limit=1, offset=0, sort="date", facets=self.facets if facets is None else facets)


@dataclass
class Hit:
    """One search result, its notice as the store keeps it: the JSON text ``Notice.model_dump_json`` wrote, or
    that JSON parsed (``record``). The notice is read from it when first asked for: an export needs only its
    fields, and validating 10,000 rows into the model was a third of an export's time."""

    stored: str | bytes | dict[str, Any]
    score: float = 0.0
    highlights: dict[str, str] = field(default_factory=dict)
    level: str | None = None
    product_lines: list[str] = field(default_factory=list)  # the assessment's line ids, the primary first

    @cached_property
    def record(self) -> dict[str, Any]:
        """The notice's fields as JSON values (``Notice.model_dump(mode="json")``); read it, do not change it."""
        return self.stored if isinstance(self.stored, dict) else json.loads(self.stored)

    @cached_property
    def notice(self) -> Notice:
        return Notice.from_stored(self.stored)


@dataclass
class Facet:
    value: str
    count: int


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    sort: str = "relevance"  # the order actually used: a store may fall back to date for very broad queries


@dataclass
class UpsertResult:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return self.inserted + self.updated

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


class NoticeStore(abc.ABC):
    """Notices and their assessments: upsert by symbol, read, search.

    Upserts merge a new version into the stored one (``tbtwatch.model.merge_notice``)
    and report which symbols changed, so later stages work only on those.
    """

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Settings) -> NoticeStore:
        """The store the settings describe, ready to use (schema or indices created when new)."""

    @abc.abstractmethod
    def upsert(self, notices: Iterable[Notice]) -> UpsertResult: ...

    @abc.abstractmethod
    def get(self, symbol: str) -> Notice | None: ...

    @abc.abstractmethod
    def history(self, symbol: str) -> list[Notice]:
        """The base notification of ``symbol`` and every addendum, corrigendum and revision, oldest first."""

    @abc.abstractmethod
    def iter_notices(self, since: dt.date | None = None, until: dt.date | None = None) -> Iterator[Notice]:
        """Notices distributed in [since, until], oldest first."""

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abc.abstractmethod
    def put_assessments(self, assessments: Iterable[dict[str, Any]]) -> int:
        """Store classifier output (the ``tbtwatch classify`` record shape), keyed by its ``symbol``."""

    def get_assessment(self, symbol: str) -> dict[str, Any] | None:
        return self.get_assessments([symbol]).get(str(parse_symbol(symbol)))

    @abc.abstractmethod
    def get_assessments(self, symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored assessments of these notices by symbol, in one round trip (a page of an export, a
        day's notices); notices without one are left out."""

    @abc.abstractmethod
    def stale_assessments(self) -> list[str]:
        """Symbols with no assessment or one made on an older version of the notice (crash recovery too)."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections."""

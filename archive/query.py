"""Turning what a person typed (CLI options, web form, API parameters) into a checked SearchQuery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from archive.base import QueryError, SearchQuery
from archive.text import parse_query
from archive.thesaurus import Thesaurus, expansions, thesaurus_for
from tbtwatch.hs import HSCodeError, normalise_hs
from tbtwatch.members import MemberError, default_members

LEVELS = ("high", "medium", "low", "none")
MAX_LIMIT = 1000


def _clean(values: Iterable[str] | None) -> list[str]:
    return [v.strip() for v in values or [] if v and v.strip()]


def build_query(*, text: str = "", areas: Iterable[str] | None = None, members: Iterable[str] | None = None,
                hs_prefixes: Iterable[str] | None = None, product_lines: Iterable[str] | None = None,
                objectives: Iterable[str] | None = None, levels: Iterable[str] | None = None,
                since: dt.date | None = None, until: dt.date | None = None, open_on: dt.date | None = None,
                sort: str = "relevance", limit: int = 20, offset: int = 0, facets: bool = False,
                expand: bool = True) -> SearchQuery:
    """Validate every part of a search and say exactly which part is wrong. ``expand``: search each term also
    as the catalogue and the HS names say it in the other language (``archive.thesaurus``)."""
    terms = parse_query(text)  # raises QueryError for unusable text
    area_list = [a.upper() for a in _clean(areas)]
    for area in area_list:
        if area not in {"TBT", "SPS"}:
            raise QueryError(f"area {area!r}: use TBT or SPS")
    member_codes = []
    for m in _clean(members):
        try:
            member_codes.append(default_members().resolve(m).code)
        except MemberError as exc:
            raise QueryError(str(exc)) from exc
    prefixes = []
    for code in _clean(hs_prefixes):
        try:
            prefixes.append(normalise_hs(code))
        except HSCodeError as exc:
            raise QueryError(str(exc)) from exc
    level_list = [lv.lower() for lv in _clean(levels)]
    for level in level_list:
        if level not in LEVELS:
            raise QueryError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    if sort not in {"relevance", "date"}:
        raise QueryError(f"sort {sort!r}: use relevance or date")
    if since and until and since > until:
        raise QueryError(f"since ({since}) is after until ({until})")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit {limit}: use 1 to {MAX_LIMIT}")
    if offset < 0:
        raise QueryError(f"offset {offset}: must be 0 or more")
    return SearchQuery(text=text or "", areas=area_list, members=member_codes, hs_prefixes=prefixes,
                       product_lines=_clean(product_lines), objectives=_clean(objectives), levels=level_list,
                       since=since, until=until, open_on=open_on, sort=sort,  # type: ignore[arg-type]
                       limit=limit, offset=offset, facets=facets,
                       expansions=expansions(terms, default_thesaurus()) if expand and terms else [])


def default_thesaurus() -> Thesaurus:
    """The thesaurus of the configured catalogue and HS nomenclature."""
    from tbtwatch.settings import get_settings

    paths = get_settings().paths
    return thesaurus_for(paths.catalogue, paths.hs_nomenclature)

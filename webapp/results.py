"""One page of search results for the API (JSON or CSV): the hits, the total and the link to the next page.

``next`` links are absolute URLs under ``alerts.base_url`` (the address people
and mail links use, so they stay right behind a reverse proxy whatever Host
header reached the app), with the request's own parameters. Date-ordered results
continue with the ``after`` cursor (``webapp.paging``), others with ``offset``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

from alerts.grouping import Group, text_group
from archive.base import Facet, Hit
from archive.thesaurus import also_searched
from webapp.deps import Resources
from webapp.paging import Cursor, date_ordered, page_after
from webapp.params import Paging, SearchParams

PAGING_PARAMS = {"offset", "page", "after"}


@dataclass
class ResultPage:
    hits: list[Hit]
    total: int
    limit: int
    offset: int | None  # None for a page after a cursor (its position in the set is not known)
    next_url: str | None
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    also_searched: list[str] = field(default_factory=list)  # the query's expansions, for the reader

    @property
    def headers(self) -> dict[str, str]:
        """``X-Total-Count`` and, unless this is the last page, ``Link: <...>; rel="next"`` (RFC 8288)."""
        headers = {"x-total-count": str(self.total)}
        if self.next_url:
            headers["link"] = f'<{self.next_url}>; rel="next"'
        return headers


def next_url(request: Request, base_url: str, **changes: object) -> str:
    """This request's URL under ``base_url``, without its paging parameters, with ``changes``."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGING_PARAMS | set(changes)]
    items += [(k, str(v)) for k, v in changes.items()]
    return f"{base_url.rstrip('/')}{request.url.path}?{urlencode(items)}"


def result_page(
    request: Request, res: Resources, params: SearchParams, paging: Paging, *, facets: bool = False
) -> ResultPage:
    """Run the search for one page (raises ``QueryError`` for bad parameters, before anything is sent)."""
    limit, offset = paging.resolve()
    after = paging.cursor()
    query = params.query(today=res.settings.today(), limit=limit, offset=offset, facets=facets)
    if after is None:
        result = res.store.search(query)
        hits, total, found_facets = result.hits, result.total, result.facets
        more = offset + len(hits) < total
    else:
        hits = page_after(res.store, query, after)
        counted = res.store.search(query.counting())
        total, found_facets, more = counted.total, counted.facets, len(hits) == limit
    following = None
    if hits and more:
        base_url = res.settings.alerts.base_url
        following = (
            next_url(request, base_url, after=Cursor.of(hits[-1]), limit=limit)
            if date_ordered(query)
            else next_url(request, base_url, offset=offset + limit, limit=limit)
        )
    return ResultPage(hits, total, limit, None if after else offset, following, found_facets,
                      also_searched(query.expansions))


def one_per_joint_notification(hits: list[Hit], groups: dict[str, Group]) -> tuple[list[Hit], dict[str, Group]]:
    """One result per text several members notified (a near-duplicate group, or one notice stored under each
    of its ``symbols``): the lead's hit when it is on the page, else the first; with the group of every kept
    hit, so it can say "also notified as ..."."""
    kept: dict[str, Hit] = {}
    shown: dict[str, Group] = dict(groups)
    for hit in hits:
        notice = hit.notice
        group = text_group(notice.symbol, notice.symbols, groups)
        if group is not None:
            shown[notice.symbol] = group
        key = group.id if group else notice.symbol
        if key not in kept or notice.symbol == key:
            kept[key] = hit
    return list(kept.values()), shown

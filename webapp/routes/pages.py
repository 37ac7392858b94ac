"""Public pages: home, search with facets, exports, one notice, statistics."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from alerts import reviews
from alerts.context import safe_links
from alerts.grouping import NoticeGroups
from archive.base import QueryError, SearchResult
from archive.documents import NotifiedDocuments
from archive.query import MAX_LIMIT
from archive.text import highlighter, parse_query
from archive.thesaurus import also_searched
from webapp import stats
from webapp.deadlines import Deadlines
from webapp.deps import Resources, resources
from webapp.exports import EXPORT_MAX, csv_rows, export_filename, iter_hits, json_lines
from webapp.facet_links import facet_sections
from webapp.i18n import Translator, request_lang
from webapp.params import Paging, SearchParams, paging_params, parse_int, search_params
from webapp.results import next_url, one_per_joint_notification
from webapp.security import csrf_protect, current_user
from webapp.templating import query_with, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
PAGE_SIZE = 20
RECENT = 10
STATS_MONTHS = 12


@router.get("/")
def home(request: Request, res: Annotated[Resources, Depends(resources)]):
    from archive.query import build_query

    recent = res.store.search(build_query(sort="date", limit=RECENT))
    open_now = res.store.search(build_query(open_on=res.settings.today(), limit=1)).total
    return render(request, "home.html", {"recent": recent, "open_now": open_now, "res": res})


@router.get("/search")
def search_page(request: Request, params: Annotated[SearchParams, Depends(search_params)],
                paging: Annotated[Paging, Depends(paging_params)],
                res: Annotated[Resources, Depends(resources)]):
    error, result, limit, offset, also = None, SearchResult(0, []), PAGE_SIZE, 0, []
    try:
        limit, offset = paging.resolve(PAGE_SIZE)
        query = params.query(today=res.settings.today(), limit=limit, offset=offset, facets=True)
        result, also = res.store.search(query), also_searched(query.expansions)
    except QueryError as exc:
        error = str(exc)
    page = offset // limit + 1
    pages = max(1, -(-result.total // limit))
    symbols = [h.notice.symbol for h in result.hits]
    groups = res.groups_of(symbols)  # one look-up for the page
    hits, groups = one_per_joint_notification(result.hits, groups)
    lang = request_lang(request)
    facets = facet_sections(result.facets, partial(query_with, request), res, lang, Translator(lang))
    return render(request, "search.html", {
        "params": params, "result": result, "facets": facets, "hits": hits, "folded": len(result.hits) - len(hits),
        "error": error, "page": page, "pages": pages, "limit": limit, "groups": groups, "res": res,
        "levels": ("high", "medium", "low", "none"), "also_searched": also},
        status_code=400 if error else 200)


def export_response(request: Request, res: Resources, params: SearchParams, fmt: str, offset: int = 0):
    """The result set from ``offset`` (at most ``EXPORT_MAX`` rows) as a streamed CSV or JSON file.

    The count runs before streaming, so a bad query is a 400 and not a broken file. A set larger than
    ``EXPORT_MAX`` gets a ``Link: rel="next"`` to the rest (``offset``: use the API's date-ordered
    pages to walk a large set while notices arrive).
    """
    query = params.query(today=res.settings.today(), limit=MAX_LIMIT, offset=offset)
    total = res.store.search(query.counting()).total
    base_url = res.settings.alerts.base_url
    headers = {"x-total-count": str(total),
               "content-disposition": f'attachment; filename="{export_filename(fmt, res.settings.today())}"'}
    if total > offset + EXPORT_MAX:
        headers["link"] = f'<{next_url(request, base_url, offset=offset + EXPORT_MAX)}>; rel="next"'
    hits = iter_hits(res.store, query, EXPORT_MAX)
    if fmt == "csv":
        body = csv_rows(hits, base_url, res.groups_of, bom=offset == 0)
        media = "text/csv; charset=utf-8"
    else:
        body, media = json_lines(hits, base_url, res.groups_of), "application/json"
    return StreamingResponse(body, media_type=media, headers=headers)


@router.get("/export.{fmt}")
def export(request: Request, fmt: str, params: Annotated[SearchParams, Depends(search_params)],
           res: Annotated[Resources, Depends(resources)],
           offset: Annotated[str, Query(description="rows to skip (the next link of a cut export)")] = ""):
    if fmt not in {"csv", "json"}:
        raise HTTPException(404, f"no export format {fmt!r}: use export.csv or export.json")
    return export_response(request, res, params, fmt, parse_int("offset", offset, 0))


@router.get("/notices/{symbol:path}")
def notice_page(request: Request, symbol: str, res: Annotated[Resources, Depends(resources)],
                q: Annotated[str, Query(max_length=200, description="search words: their passage in the notified "
                                                                     "documents is shown")] = ""):
    notice = res.notice_or_404(symbol)
    symbol = notice.symbol
    settings = res.settings
    logged_in = current_user(request) is not None
    documents = NotifiedDocuments(settings.archive_db)
    return render(request, "notice.html", {
        "documents": documents.of(symbol), "passage": documents.passage(symbol, highlighter(parse_query(q))),
        "notice": notice, "assessment": res.store.get_assessment(symbol), "history": res.store.history(symbol),
        "links": safe_links(notice.urls), "review": reviews.get_review(settings, symbol),
        "deadline": Deadlines(settings, res.store).of(notice), "group": NoticeGroups(settings).group_of(symbol),
        "review_log": reviews.review_log(settings, symbol) if logged_in else [], "statuses": reviews.STATUSES,
        "res": res, "today": res.settings.today()})


@router.get("/stats")
def stats_page(request: Request, res: Annotated[Resources, Depends(resources)]):
    today = res.settings.today()
    months = stats.monthly(res.store, today, STATS_MONTHS)
    since = months[0].start
    open_total, open_members, closing = stats.open_for_comment(res.store, today)
    return render(request, "stats.html", {
        "months": months, "bars": stats.stacked_bars(months), "chart": stats, "since": since,
        "lines": stats.line_counts(res.store, since), "open_total": open_total,
        "open_members": open_members, "closing": closing, "res": res, "today": today})

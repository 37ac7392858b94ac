"""The JSON API under ``/api/`` (its OpenAPI document is ``/api/openapi.json``).

Same parameters as the pages; bad parameters are 400 (a search value the
archive cannot use) or 422 (a body that does not fit the schema), each with a
``detail`` that names the parameter and what to use instead.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts import reviews
from alerts.validation import SubscriptionError
from tbtwatch.chinese import to_simplified
from webapp import stats
from webapp.deadlines import Deadlines
from webapp.deps import Resources, resources
from webapp.exports import csv_rows, export_filename, hit_json
from webapp.params import Paging, SearchParams, paging_params, search_params
from webapp.ratelimit import rate_limited
from webapp.results import one_per_joint_notification, result_page
from webapp.routes.subscriptions import sign_up
from webapp.security import current_user

router = APIRouter(prefix="/api", tags=["api"])
HS_LOOKUP_MAX = 20


class Problem(BaseModel):
    detail: str


ERRORS = {400: {"model": Problem, "description": "a parameter the archive cannot use; detail says which"},
          422: {"model": Problem, "description": "a parameter or body of the wrong form"}}


SEARCH_DOC = """Full-text search with filters, a page at a time (JSON, or CSV with ``format=csv``).

``total`` (header ``X-Total-Count``) counts the whole result set; ``next`` (header ``Link: <...>; rel="next"``)
is the URL of the following page, null on the last. A text several members notified (a joint notification)
is one hit, its lead, with ``also_notified_as`` listing the other symbols; ``folded`` says how many of the
page's notifications were folded so (``total`` counts every notification). Exports do the same.

**Paging while notices arrive.** ``offset`` counts from the top of the result set, so a notice that arrives
between two requests shifts every later page by one: a walk by ``offset`` can return a notice twice. For
date-ordered results (``sort=date``, or a search without words) ``next`` therefore continues with the
cursor ``after=<day>~<symbol>`` (the last notice of the page) instead: each page starts right after the
previous one's last notice, so following ``next`` returns every notice that existed when the walk began
exactly once, and a notice arriving meanwhile at most once. Relevance-ranked pages use ``offset`` (ranks
change as notices arrive); to export reliably, ask for ``sort=date``. The CSV's UTF-8 BOM (for Excel)
is only on the first page, so pages can be concatenated."""


@router.get("/search", description=SEARCH_DOC, responses={
    **ERRORS, 200: {"description": "hits as JSON, or CSV with format=csv", "content": {"text/csv": {}},
                    "headers": {"X-Total-Count": {"description": "size of the whole result set",
                                                  "schema": {"type": "integer"}},
                                "Link": {"description": '`<next page URL>; rel="next"`, absent on the last page',
                                         "schema": {"type": "string"}}}}})
def api_search(request: Request, params: Annotated[SearchParams, Depends(search_params)],
               paging: Annotated[Paging, Depends(paging_params)], res: Annotated[Resources, Depends(resources)],
               format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
               facets: Annotated[bool, Query(description="include facet counts")] = False):
    page = result_page(request, res, params, paging, facets=facets and format == "json")
    base_url = res.settings.alerts.base_url
    if format == "csv":
        text = "".join(csv_rows(iter(page.hits), base_url, res.groups_of, bom=page.offset == 0))
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            **page.headers, "content-disposition": f'attachment; filename="{export_filename("csv", res.settings.today())}"'})
    hits, groups = one_per_joint_notification(page.hits, res.groups_of([h.notice.symbol for h in page.hits]))
    items = []
    for hit in hits:
        group = groups.get(hit.notice.symbol)
        items.append(hit_json(hit, base_url, group.others(hit.notice.symbol) if group else []))
    body = {"total": page.total, "offset": page.offset, "limit": page.limit, "next": page.next_url,
            "also_searched": page.also_searched, "folded": len(page.hits) - len(hits), "hits": items}
    if facets:
        body["facets"] = {name: [{"value": f.value, "count": f.count} for f in values]
                          for name, values in page.facets.items()}
    return JSONResponse(body, headers=page.headers)  # already JSON values: FastAPI's encoder would walk them again


@router.get("/facets", responses=ERRORS)
def api_facets(params: Annotated[SearchParams, Depends(search_params)],
               res: Annotated[Resources, Depends(resources)]):
    """Facet counts (member, area, HS chapter, objective, year, level, product line) of the matching set."""
    result = res.store.search(params.query(today=res.settings.today(), facets=True).counting())
    return {"total": result.total, "facets": {name: [{"value": f.value, "count": f.count} for f in values]
                                              for name, values in result.facets.items()}}


@router.get("/notices/{symbol:path}", responses={**ERRORS, 404: {"model": Problem}})
def api_notice(symbol: str, res: Annotated[Resources, Depends(resources)]):
    """One notice with its assessment, its history (base, addenda, corrigenda, revisions) and review status."""
    notice = res.notice_or_404(symbol)
    symbol = notice.symbol
    review = reviews.get_review(res.settings, symbol)
    return {"notice": notice.model_dump(mode="json"), "assessment": res.store.get_assessment(symbol),
            "history": [{"symbol": n.symbol, "kind": n.kind, "distribution_date": n.distribution_date,
                         "title": n.title} for n in res.store.history(symbol)],
            "review_status": review.status if review else None}


class SubscriptionIn(BaseModel):
    """A sign-up; at least one of hs, product_lines, keywords, members, areas or min_level."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254, examples=["buyer@example.com"])
    hs: list[str] = Field(default_factory=list, max_length=100, examples=[["8507", "850760"]])
    product_lines: list[str] = Field(default_factory=list, max_length=100)
    keywords: list[str] = Field(default_factory=list, max_length=100, examples=[["lithium", "电池"]])
    members: list[str] = Field(default_factory=list, max_length=100, examples=[["EU", "美国"]])
    areas: list[Literal["TBT", "SPS"]] = Field(default_factory=list)
    min_level: Literal["none", "low", "medium", "high"] = "none"
    lang: Literal["zh", "en", "both"] = "zh"
    frequency: Literal["immediate", "daily", "weekly"] = "daily"


class SubscriptionOut(BaseModel):
    email: str
    status: str
    confirmation_sent: bool


@router.post("/subscriptions", status_code=202, response_model=SubscriptionOut,
             responses={**ERRORS, 429: {"model": Problem, "description": "too many sign-ups from one address "
                                                                     "(10 a minute); see Retry-After"}},
             dependencies=[Depends(rate_limited("subscribe"))])
def api_subscribe(body: SubscriptionIn, background: BackgroundTasks, res: Annotated[Resources, Depends(resources)]):
    """Subscribe an address: a message with a confirmation link goes to it, and nothing changes until the link
    is used (a new address stays pending; a subscribed address keeps its filters and settings). The answer is
    the same for every address (``status`` pending, ``confirmation_sent`` true), so it tells nobody whether an
    address subscribes."""
    try:
        address = sign_up(res, background, **body.model_dump())
    except SubscriptionError as exc:
        raise HTTPException(400, str(exc)) from None
    return SubscriptionOut(email=address, status="pending", confirmation_sent=True)


@router.get("/hs", responses={**ERRORS, 503: {"model": Problem}})
def api_hs(res: Annotated[Resources, Depends(resources)],
           q: Annotated[str, Query(min_length=1, max_length=100,
                                   description="code prefix, or English or Chinese words")],
           limit: Annotated[int, Query(ge=1, le=100)] = HS_LOOKUP_MAX):
    """HS 2022 lookup for the subscribe form: codes starting with ``q``, or codes whose English description or
    Chinese name contains each of its words (锂电池, 玩具; traditional script is read as simplified)."""
    nomenclature = res.nomenclature
    if nomenclature is None:
        raise HTTPException(503, "the HS nomenclature is not installed (set paths.hs_nomenclature)")
    text = q.strip()
    digits = text.replace(".", "").replace(" ", "")
    if digits.isdigit():
        found = [e for e in nomenclature.entries() if e.code.startswith(digits)]
    else:
        words = to_simplified(text).casefold().split()
        found = [e for e in nomenclature.entries()
                 if all(w in e.description.casefold() or w in nomenclature.name_zh(e.code) for w in words)]
    found.sort(key=lambda e: (e.level if digits.isdigit() else 0, e.code))
    return {"query": text, "results": [{"code": e.code, "description": e.description,
                                        "name_zh": nomenclature.name_zh(e.code), "level": e.level}
                                       for e in found[:limit]]}




def api_user(request: Request) -> str:
    """The logged-in working-group user (the session cookie of the web pages), else 401: the working group's
    figures and queue are not public."""
    user = current_user(request)
    if not user:
        raise HTTPException(401, "log in on /login first; these figures are for the working group")
    return user


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    total: int
    areas: dict[str, int] = Field(description="notices per area (TBT, SPS)")


class StatsOut(BaseModel):
    today: str = Field(description="the day the figures are for ([general] today)")
    months: list[MonthOut]
    open_for_comment: int
    open_by_member: dict[str, int]


class ReviewOut(BaseModel):
    symbol: str
    status: str
    owner: str
    notes: str
    title: str = Field(description="in the notice's own language")
    comment_deadline: str | None = Field(description="after extensions by addendum")
    cutoff: str | None = Field(description="the working group's internal cut-off")
    updated_at: str


AUTH_ERRORS = {**ERRORS, 401: {"model": Problem, "description": "not logged in"}}


@router.get("/stats", response_model=StatsOut, responses=AUTH_ERRORS)
def api_stats(user: Annotated[str, Depends(api_user)], res: Annotated[Resources, Depends(resources)]):
    """Notices per month for the last 12 months and the comment periods open today (read-only)."""
    today = res.settings.today()
    months = stats.monthly(res.store, today, 12)
    open_total, open_members, _ = stats.open_for_comment(res.store, today)
    return StatsOut(today=today.isoformat(), open_for_comment=open_total,
                    open_by_member={f.value: f.count for f in open_members},
                    months=[MonthOut(month=m.label, total=m.total, areas=m.areas) for m in months])


@router.get("/review", response_model=list[ReviewOut], responses=AUTH_ERRORS)
def api_review(user: Annotated[str, Depends(api_user)], res: Annotated[Resources, Depends(resources)]):
    """The open review queue (read-only), soonest deadline first; change a review on the web page."""
    deadlines = Deadlines(res.settings, res.store)
    rows = []
    for review in reviews.list_reviews(res.settings, reviews.OPEN_STATUSES):
        notice = res.store.get(review.symbol)
        due = deadlines.of(notice) if notice else None
        rows.append(ReviewOut(symbol=review.symbol, status=review.status, owner=review.owner, notes=review.notes,
                              title=notice.title if notice else "",
                              comment_deadline=str(due.effective) if due and due.effective else None,
                              cutoff=str(due.cutoff) if due and due.cutoff else None, updated_at=review.updated_at))
    return sorted(rows, key=lambda r: (r.comment_deadline or "9999", r.symbol))

"""The working group's review queue: notices by status and comment deadline; status and notes changes.

Reviews live in ``alerts.reviews`` (the digest opens them); this page only
reads and calls ``update_review``. Every route needs a logged-in member.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from alerts import reviews
from webapp.deadlines import Deadlines
from webapp.deps import Resources, resources
from webapp.security import csrf_protect, require_user, safe_next
from webapp.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
FAR_FUTURE = dt.date.max


@router.get("/review")
def review_queue(request: Request, user: Annotated[str, Depends(require_user)],
                 res: Annotated[Resources, Depends(resources)], status: str = "open"):
    if status == "open":
        chosen = reviews.OPEN_STATUSES
    elif status == "all":
        chosen = reviews.STATUSES
    else:
        try:
            chosen = (reviews.parse_status(status),)
        except reviews.ReviewError as exc:
            raise HTTPException(400, str(exc)) from None
    deadlines = Deadlines(res.settings, res.store)
    rows = []
    for review in reviews.list_reviews(res.settings, chosen):
        notice = res.store.get(review.symbol)
        rows.append((review, notice, deadlines.of(notice) if notice else None))
    rows.sort(key=lambda r: (r[2].effective if r[2] and r[2].effective else FAR_FUTURE, r[0].symbol))
    counts = {s: 0 for s in reviews.STATUSES}
    for review in reviews.list_reviews(res.settings):
        counts[review.status] += 1
    return render(request, "review.html", {"rows": rows, "status": status, "counts": counts,
                                           "statuses": reviews.STATUSES, "today": res.settings.today(), "res": res})


@router.post("/review/{symbol:path}")
def change_review(symbol: str, user: Annotated[str, Depends(require_user)],
                  res: Annotated[Resources, Depends(resources)],
                  status: Annotated[str, Form(max_length=40)] = "", note: Annotated[str, Form(max_length=4000)] = "",
                  owner: Annotated[str, Form(max_length=64)] = "", next: Annotated[str, Form()] = ""):
    symbol = res.notice_or_404(symbol).symbol
    try:
        review = reviews.update_review(res.settings, symbol, status=status or None, owner=owner or user,
                                       note=f"{note.strip()} ({user})" if note.strip() else None)
    except reviews.ReviewError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(safe_next(next or f"/notices/{review.symbol}"), status_code=303)

"""``/filters``: a subscriber manages their named filters, exclusions, webhooks and personal feeds.

The page is opened from the manage link of every message (the signed
unsubscribe-purpose token of ``alerts.tokens`` proves control of the address,
as on ``/subscriptions/manage``); every change is a POST carrying that token and
the session's CSRF token, and answers with a redirect back to the page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from alerts import feeds, subscriptions, tokens, webhooks
from alerts.rules import AREAS, LEVELS, Filter
from alerts.run import describe_rule
from alerts.validation import SubscriptionError
from webapp.deps import Resources, resources
from webapp.feeds import labels
from webapp.i18n import request_lang
from webapp.security import csrf_protect
from webapp.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Text = Annotated[str, Form(max_length=2000)]
Token = Annotated[str, Form(max_length=2000)]


class _Denied(Exception):
    pass


def _subscriber(res: Resources, token: str) -> subscriptions.Subscriber:
    try:
        claims = tokens.read_token(res.settings, token, tokens.UNSUBSCRIBE)
    except tokens.TokenError as exc:
        raise _Denied(str(exc)) from None
    subscriber = subscriptions.get_subscriber(res.settings, claims.subject)
    if subscriber is None:
        raise _Denied("this link is for an address that has no subscription")
    return subscriber


def _form_values(flt: Filter | None) -> dict[str, str | list[str]]:
    """A filter as the form shows it (empty for a new one)."""
    if flt is None:
        return {
            "name": "",
            "hs": "",
            "members": "",
            "keywords": "",
            "product_lines": [],
            "areas": [],
            "min_level": "none",
            "exclude_hs": "",
            "exclude_keywords": "",
        }
    rule = flt.include
    return {
        "name": flt.name,
        "hs": ", ".join(rule.hs),
        "members": ", ".join(rule.members),
        "keywords": ", ".join(rule.keywords),
        "product_lines": rule.product_lines,
        "areas": rule.areas,
        "min_level": rule.min_level,
        "exclude_hs": ", ".join(h for x in flt.exclude for h in x.hs),
        "exclude_keywords": ", ".join(k for x in flt.exclude for k in x.keywords),
    }


def _page(
    request: Request,
    res: Resources,
    token: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    secret: str | None = None,
    values: dict | None = None,
    status_code: int = 200,
):
    lang = request_lang(request)
    try:
        subscriber = _subscriber(res, token)
    except _Denied as exc:
        return render(
            request,
            "filters.html",
            {"L": labels()[lang], "error": str(exc), "subscriber": None},
            status_code=403,
        )
    hooks = webhooks.list_endpoints(res.settings, subscriber.id)
    rows = [
        {
            "filter": f,
            "values": _form_values(f),
            "include": describe_rule(f.include),
            "exclude": "; ".join(describe_rule(r) for r in f.exclude),
            "feed": feeds.filter_feed_url(res.settings, f.id or 0, lang),
            "hooks": [h for h in hooks if h.filter_id == f.id],
        }
        for f in subscriber.filters
    ]
    return render(
        request,
        "filters.html",
        {
            "L": labels()[lang],
            "subscriber": subscriber,
            "rows": rows,
            "token": token,
            "error": error,
            "notice": notice,
            "secret": secret,
            "new": values or _form_values(None),
            "areas": AREAS,
            "levels": LEVELS,
            "lines": list(res.catalogue) if res.catalogue else [],
        },
        status_code=status_code,
    )


def _back(token: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/filters?token={quote(token)}&done={done}", status_code=303)


@router.get("/filters")
def filters_page(
    request: Request, res: Annotated[Resources, Depends(resources)], token: str = "", done: str = ""
):
    lang = request_lang(request)
    notice = {"saved": labels()[lang]["filter_saved"], "deleted": labels()[lang]["filter_deleted"]}.get(done)
    return _page(request, res, token, notice=notice)


@router.post("/filters")
def save_filter(
    request: Request,
    res: Annotated[Resources, Depends(resources)],
    token: Token = "",
    filter_id: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    hs: Text = "",
    members: Text = "",
    keywords: Text = "",
    product_lines: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    areas: Annotated[list[str], Form()] = [],  # noqa: B006
    min_level: Annotated[str, Form(max_length=20)] = "none",
    exclude_hs: Text = "",
    exclude_keywords: Text = "",
):
    """Add a filter, or change the one ``filter_id`` names (name, include and exclude rules)."""
    values = {
        "name": name,
        "hs": hs,
        "members": members,
        "keywords": keywords,
        "product_lines": product_lines,
        "areas": areas,
        "min_level": min_level,
        "exclude_hs": exclude_hs,
        "exclude_keywords": exclude_keywords,
    }
    try:
        subscriber = _subscriber(res, token)
        include = res.rule(
            hs=hs,
            members=members,
            keywords=keywords,
            product_lines=product_lines,
            areas=areas,
            min_level=min_level,
        )
        exclusion = res.exclusion(hs=exclude_hs, keywords=exclude_keywords)
        exclude = [exclusion] if exclusion else []
        if filter_id.strip().isdigit():
            subscriptions.update_filter(
                res.settings, subscriber.email, int(filter_id), name=name, include=include, exclude=exclude
            )
        else:
            subscriptions.subscribe(
                res.settings,
                subscriber.email,
                include,
                lang=subscriber.lang,
                frequency=subscriber.frequency,
                name=name,
                exclude=exclude,
                source="web",
            )
    except (_Denied, SubscriptionError) as exc:
        return _page(request, res, token, error=str(exc), values=values, status_code=400)
    return _back(token, "saved")


@router.post("/filters/{filter_id}/delete")
def delete_filter(
    request: Request, filter_id: int, res: Annotated[Resources, Depends(resources)], token: Token = ""
):
    try:
        subscriptions.remove_filter(res.settings, _subscriber(res, token).email, filter_id)
    except (_Denied, SubscriptionError) as exc:
        return _page(request, res, token, error=str(exc), status_code=400)
    return _back(token, "deleted")


@router.post("/filters/{filter_id}/pause")
def pause_filter(
    request: Request, filter_id: int, res: Annotated[Resources, Depends(resources)], token: Token = "",
    paused: Annotated[str, Form(max_length=1)] = "1",
):
    """Pause the filter (``paused=1``) or resume it (``paused=0``)."""
    try:
        subscriptions.set_filter_paused(res.settings, _subscriber(res, token).email, filter_id, paused == "1")
    except (_Denied, SubscriptionError) as exc:
        return _page(request, res, token, error=str(exc), status_code=400)
    return _back(token, "saved")


@router.post("/filters/{filter_id}/webhooks")
def add_webhook(
    request: Request,
    filter_id: int,
    res: Annotated[Resources, Depends(resources)],
    token: Token = "",
    url: Text = "",
):
    """Register an endpoint; the page shows its signing secret once."""
    try:
        subscriber = _subscriber(res, token)
        endpoint = webhooks.register(
            res.settings, subscriber.email, filter_id, url, webhooks.WebhookPolicy.from_settings(res.settings)
        )
    except (_Denied, webhooks.WebhookError) as exc:
        return _page(request, res, token, error=str(exc), status_code=400)
    return _page(request, res, token, secret=endpoint.secret)


@router.post("/filters/webhooks/{endpoint_id}/delete")
def delete_webhook(
    request: Request, endpoint_id: int, res: Annotated[Resources, Depends(resources)], token: Token = ""
):
    try:
        subscriber = _subscriber(res, token)
        endpoint = webhooks.get_endpoint(res.settings, endpoint_id)
        if endpoint is None or endpoint.subscriber_id != subscriber.id:
            raise webhooks.WebhookError(f"webhook {endpoint_id} is not one of yours")
        webhooks.remove(res.settings, endpoint_id)
    except (_Denied, webhooks.WebhookError) as exc:
        return _page(request, res, token, error=str(exc), status_code=400)
    return _back(token, "saved")

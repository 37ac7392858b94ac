"""Exporters' subscription pages: subscribe, confirm, manage, unsubscribe (the signed links of the alerts).

Subscribers, filters and tokens belong to ``alerts``; these pages validate
input with the app's ``alerts.validation.Vocabulary`` (``Resources``), sign up with ``alerts.signups``
(which queues the confirmation message, or holds a known address's request for
its owner) and deliver the outbox after the response; the answer is the same
for every address. Confirm and unsubscribe links open a page with a button: a GET never
changes anything, so mail scanners that prefetch links cannot act for the user.
The one-click unsubscribe of RFC 8058 (``List-Unsubscribe=One-Click``, posted by
the mail client without a cookie) is accepted on ``POST /unsubscribe``: the
signed token is the proof there, as the CSRF token is for the browser's form.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse

from alerts import run, signups, subscriptions, tokens
from alerts.rules import AREAS, FREQUENCIES, LANGUAGES, LEVELS
from alerts.validation import SubscriptionError, validate_email
from webapp.deps import Resources, resources
from webapp.ratelimit import rate_limited
from webapp.security import check_csrf, csrf_protect
from webapp.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
one_click = APIRouter(include_in_schema=False)  # checks the CSRF token itself, see unsubscribe()

def _choices(res: Resources) -> dict:
    return {"areas": AREAS, "levels": LEVELS, "languages": LANGUAGES, "frequencies": FREQUENCIES,
            "line_groups": line_groups(res)}


def line_groups(res: Resources) -> list[tuple[str, list]]:
    """The catalogue's product lines grouped by the HS chapter of their first code (the 52 lines as a dozen
    groups a reader can scan), chapters in code order; each group with the chapter's code for its name."""
    groups: dict[str, list] = {}
    for line in res.catalogue or []:
        groups.setdefault(line.hs[0][:2] if line.hs else "", []).append(line)
    return sorted(groups.items())


def sign_up(res: Resources, background: BackgroundTasks, *, email: str, hs, members, keywords, product_lines,
            areas, min_level: str, lang: str, frequency: str) -> str:
    """Validate and sign up (``alerts.signups``: a known address's request is held for its owner); deliver the
    message after the response. Returns the address as stored, the only thing the answer may depend on."""
    problems = []
    try:
        email = validate_email(email)
    except SubscriptionError as exc:
        problems.append(str(exc))
    try:
        rule = res.rule(hs=hs, product_lines=product_lines, keywords=keywords,
                        members=members, areas=areas, min_level=min_level or None)
    except SubscriptionError as exc:
        problems.append(str(exc))
    if problems:  # every problem at once, so the form is fixed in one go
        raise SubscriptionError("; ".join(problems))
    signups.sign_up(res.settings, email, rule, lang=lang, frequency=frequency, source="web")
    background.add_task(run.deliver_outbox, res.settings)
    return email


@router.get("/subscribe")
def subscribe_form(request: Request, res: Annotated[Resources, Depends(resources)]):
    values = {"lang": "zh" if request.session.get("lang", "zh") == "zh" else "en", "frequency": "daily",
              "min_level": "none", "areas": [], "product_lines": []}
    return render(request, "subscribe.html", {"values": values, "error": None, "res": res, **_choices(res)})


@router.post("/subscribe", dependencies=[Depends(rate_limited("subscribe"))])
def subscribe(request: Request, background: BackgroundTasks, res: Annotated[Resources, Depends(resources)],
              email: Annotated[str, Form(max_length=254)] = "", hs: Annotated[str, Form(max_length=2000)] = "",
              members: Annotated[str, Form(max_length=2000)] = "",
              keywords: Annotated[str, Form(max_length=2000)] = "",
              product_lines: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
              areas: Annotated[list[str], Form()] = [],  # noqa: B006
              min_level: Annotated[str, Form(max_length=20)] = "none",
              lang: Annotated[str, Form(max_length=10)] = "zh", frequency: Annotated[str, Form(max_length=20)] = "daily"):
    values = {"email": email, "hs": hs, "members": members, "keywords": keywords, "product_lines": product_lines,
              "areas": areas, "min_level": min_level, "lang": lang, "frequency": frequency}
    try:
        address = sign_up(res, background, **values)
    except SubscriptionError as exc:  # the form comes back filled in, with every problem listed
        return render(request, "subscribe.html", {"values": values, "error": str(exc), "res": res, **_choices(res)},
                      status_code=400)
    return render(request, "subscribed.html", {"email": address})


def _claims(res: Resources, token: str, purpose: str) -> tuple[tokens.TokenClaims | None, str | None]:
    try:
        return tokens.read_token(res.settings, token, purpose), None
    except tokens.TokenError as exc:
        return None, str(exc)


@router.get("/subscriptions/confirm")
def confirm_page(request: Request, res: Annotated[Resources, Depends(resources)], token: str = ""):
    claims, error = _claims(res, token, tokens.CONFIRM)
    return render(request, "confirm.html", {"token": token, "email": claims.subject if claims else "",
                                            "error": error, "done": None}, status_code=400 if error else 200)


@router.post("/subscriptions/confirm")
def confirm(request: Request, res: Annotated[Resources, Depends(resources)],
            token: Annotated[str, Form(max_length=2000)] = ""):
    try:
        subscriber = subscriptions.confirm(token, res.settings)
    except tokens.TokenError as exc:
        return render(request, "confirm.html", {"token": token, "email": "", "error": str(exc), "done": None},
                      status_code=400)
    return _confirmed_page(request, res, token, subscriber)


@router.get("/subscriptions/change")
def change_page(request: Request, res: Annotated[Resources, Depends(resources)], token: str = ""):
    """What a held sign-up asks for the address, with the button that applies it (a GET changes nothing)."""
    try:
        held, error = signups.held_request(res.settings, token), None
    except tokens.TokenError as exc:
        held, error = None, str(exc)
    return render(request, "confirm.html", {"token": token, "email": held.email if held else "", "error": error,
                                            "done": None, "action": "/subscriptions/change"},
                  status_code=400 if error else 200)


@router.post("/subscriptions/change")
def apply_change(request: Request, res: Annotated[Resources, Depends(resources)],
                 token: Annotated[str, Form(max_length=2000)] = ""):
    try:
        subscriber = signups.apply_change(res.settings, token)
    except (tokens.TokenError, SubscriptionError) as exc:
        return render(request, "confirm.html", {"token": token, "email": "", "error": str(exc), "done": None},
                      status_code=400)
    return _confirmed_page(request, res, token, subscriber)


def _confirmed_page(request: Request, res: Resources, token: str, subscriber: subscriptions.Subscriber):
    manage = "/subscriptions/manage?token=" + tokens.make_token(res.settings, tokens.UNSUBSCRIBE, subscriber.email)
    return render(request, "confirm.html", {"token": token, "email": subscriber.email, "error": None,
                                            "done": subscriber, "manage_url": manage})


def _manage_page(request: Request, res: Resources, token: str, *, saved: bool = False, error: str | None = None):
    """The subscriber's settings and filters (name, include and exclude rules), with links to change them."""
    claims, denied = _claims(res, token, tokens.UNSUBSCRIBE)
    subscriber = subscriptions.get_subscriber(res.settings, claims.subject) if claims else None
    if claims and subscriber is None:
        denied = "this link is for an address that has no subscription"
    filters = [{"name": f.name, "include": run.describe_rule(f.include),
                "exclude": "; ".join(run.describe_rule(r) for r in f.exclude)}
               for f in (subscriber.filters if subscriber else [])]
    return render(request, "manage.html", {
        "token": token, "subscriber": subscriber, "filters": filters, "error": denied or error, "saved": saved,
        "filters_url": "/filters?token=" + quote(token), "languages": LANGUAGES, "frequencies": FREQUENCIES},
        status_code=400 if denied or error else 200)


@router.get("/subscriptions/manage")
def manage(request: Request, res: Annotated[Resources, Depends(resources)], token: str = "", done: str = ""):
    return _manage_page(request, res, token, saved=done == "saved")


@router.post("/subscriptions/manage")
def change_preferences(request: Request, res: Annotated[Resources, Depends(resources)],
                       token: Annotated[str, Form(max_length=2000)] = "",
                       lang: Annotated[str, Form(max_length=10)] = "",
                       frequency: Annotated[str, Form(max_length=20)] = ""):
    """Change the language and frequency of every alert to the address the signed link names."""
    claims, error = _claims(res, token, tokens.UNSUBSCRIBE)
    if claims is None:
        return _manage_page(request, res, token)
    try:
        subscriptions.update_preferences(res.settings, claims.subject, lang=lang or None,
                                         frequency=frequency or None)
    except SubscriptionError as exc:
        return _manage_page(request, res, token, error=str(exc))
    return RedirectResponse(f"/subscriptions/manage?token={quote(token)}&done=saved", status_code=303)


@router.get("/unsubscribe")
def unsubscribe_page(request: Request, res: Annotated[Resources, Depends(resources)], token: str = ""):
    claims, error = _claims(res, token, tokens.UNSUBSCRIBE)
    return render(request, "unsubscribe.html", {"token": token, "email": claims.subject if claims else "",
                                                "error": error, "done": None}, status_code=400 if error else 200)


@one_click.post("/unsubscribe")
def unsubscribe(request: Request, res: Annotated[Resources, Depends(resources)], token: str = "",
                form_token: Annotated[str, Form(alias="token", max_length=2000)] = "",
                one_click_field: Annotated[str, Form(alias="List-Unsubscribe", max_length=20)] = "",
                csrf_token: Annotated[str, Form(max_length=100)] = ""):
    if one_click_field != "One-Click":
        check_csrf(request, csrf_token)
    token = token or form_token
    try:
        subscriber = subscriptions.unsubscribe_by_token(token, res.settings)
    except (tokens.TokenError, SubscriptionError) as exc:
        return render(request, "unsubscribe.html", {"token": token, "email": "", "error": str(exc), "done": None},
                      status_code=400)
    return render(request, "unsubscribe.html", {"token": token, "email": subscriber.email, "error": None,
                                                "done": subscriber})


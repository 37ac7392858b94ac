"""Login and logout for working-group members (accounts: ``tbtwatch users add NAME``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from webapp.deps import Resources, resources
from webapp.ratelimit import rate_limited
from webapp.security import SESSION_KEY, csrf_protect, rotate_csrf, safe_next
from webapp.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


@router.get("/login")
def login_form(request: Request, next: str = "/review"):
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(rate_limited("login"))])
def login(request: Request, res: Annotated[Resources, Depends(resources)],
          name: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "",
          next: Annotated[str, Form()] = "/review"):
    user = res.users.authenticate(name, password)
    if user is None:
        return render(request, "login.html", {"next": safe_next(next), "error": "login_failed"}, status_code=401)
    request.session[SESSION_KEY] = res.users.open_session(user)
    rotate_csrf(request)  # a token seen before login is not valid after it
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, res: Annotated[Resources, Depends(resources)]):
    """End the session on the server (a copy of the cookie is then worth nothing), keep the language."""
    if request.session.get(SESSION_KEY):
        res.users.close_session(request.session[SESSION_KEY])
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/", status_code=303)

"""What keeps the web app safe with untrusted notice text and a logged-in working group.

- Every response carries a restrictive Content-Security-Policy (no inline
  script or style, no framing) and no Referer (confirm and unsubscribe links
  carry tokens in their URLs).
- Sessions are a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous),
  holding a server-side session id (``webapp.users``: ended at logout and at a
  password change), the interface language and a per-session CSRF token.
  The token is made only when a page actually renders a form (``LazyCsrfToken``),
  so reading pages sets no cookie at all (caches and privacy both gain).
- Every POST of an HTML form is checked against that token (``csrf_protect``,
  attached to each HTML router); the token is rotated at login.
- HEAD is answered like GET without the body (``HeadAsGet``): link checkers and
  monitors probe with HEAD, and FastAPI's GET routes would otherwise say 405.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
SESSION_KEY = "sid"  # the cookie's server-side session id (webapp.users), set at login


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every HTTP response (errors included)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """Pure ASGI middleware: a HEAD request runs the GET route and the body is dropped (headers kept)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def session_secret(signing_secret: bytes) -> str:
    """A key for session cookies derived from the alerts signing secret, so one secret serves both uses."""
    return hmac.new(signing_secret, b"tbtwatch web session", hashlib.sha256).hexdigest()


class CsrfError(Exception):
    """A form POST without the session's CSRF token (stale form, or a request forged by another site)."""


class LoginRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


class LazyCsrfToken:
    """The CSRF token as templates print it: the session gets one only when a form is rendered."""

    def __init__(self, request: Request):
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def rotate_csrf(request: Request) -> None:
    request.session["csrf"] = secrets.token_urlsafe(32)


async def csrf_protect(request: Request) -> None:
    """Router dependency: a POST must echo the session's token in the ``csrf_token`` field."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    check_csrf(request, form.get(CSRF_FIELD))


def check_csrf(request: Request, sent: object) -> None:
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent.encode(), expected.encode())):
        raise CsrfError()


def current_user(request: Request) -> str | None:
    """The user of the request's session if it is live on the server (``Users.session_user``): a session ended
    by logout or a password change, or expired, is dropped from the cookie."""
    session_id = request.session.get(SESSION_KEY)
    if not session_id:
        return None
    user = request.app.state.resources.users.session_user(session_id)
    if user is None:
        request.session.pop(SESSION_KEY)
    return user


def require_user(request: Request) -> str:
    """Dependency for working-group pages: the logged-in user, else a redirect to the login page."""
    user = current_user(request)
    if not user:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return user


def safe_next(url: str | None) -> str:
    """A post-login redirect target, only ever a path on this site."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/review"
    return url


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")

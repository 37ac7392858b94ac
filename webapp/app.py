"""The analysts' archive: server-rendered pages and a JSON API over the configured notice store."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from alerts.tokens import load_secret
from archive.backends import open_store
from archive.base import NoticeStore, QueryError
from tbtwatch.settings import Settings, get_settings
from webapp import apidocs, feeds, filters
from webapp.bodylimit import BodyLimit
from webapp.deps import Resources
from webapp.gate import ConcurrencyGate
from webapp.routes import api, auth, pages, review, subscriptions
from webapp.ratelimit import RateLimited, default_limiters
from webapp.security import CsrfError, HeadAsGet, LoginRequired, SecurityHeaders, login_url, session_secret
from webapp.templating import render
from webapp.users import SESSION_HOURS

STATIC = Path(__file__).with_name("static")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem(request: Request, status: int, detail: str, headers: dict[str, str] | None = None):
    """An error as JSON for the API, as a page for people."""
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    response = render(request, "error.html", {"status": status, "detail": detail}, status_code=status)
    response.headers.update(headers or {})
    return response


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = " ".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {str(got)[:60]!r})"
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}{shown}")
    return "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError):
        return _problem(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return _problem(request, 422 if _is_api(request) else 400, _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(CsrfError)
    async def csrf_error(request: Request, exc: CsrfError):
        return _problem(request, 403, "this form expired or was not sent from this site: reload the page and "
                                      "submit it again")

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return _problem(request, 429, str(exc), {"retry-after": str(exc.retry_after)})

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    try:
        from archive.elastic import ElasticError
    except ImportError:  # pragma: no cover - the elasticsearch client is a declared dependency
        return

    @app.exception_handler(ElasticError)
    async def search_backend_down(request: Request, exc: ElasticError):
        return _problem(request, 503, f"the search index is unavailable: {exc}")


def create_app(settings: Settings | None = None, store: NoticeStore | None = None) -> FastAPI:
    """The app for ``settings`` (default: the process's settings) over ``store`` (default: the configured one)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="tbtwatch", version="1", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
        description="Search WTO TBT/SPS notifications, read one with its assessment and history, "
                    "and subscribe to alerts. Texts are as notified (untrusted: escape them when shown).")
    app.state.resources = Resources(settings, store or open_store(settings))
    app.state.rate_limits = default_limiters()
    app.add_middleware(SessionMiddleware, secret_key=session_secret(load_secret(settings)),
                       session_cookie="tbtwatch_session", max_age=SESSION_HOURS * 3600, same_site="lax",
                       https_only=settings.alerts.base_url.startswith("https://"))
    app.add_middleware(BodyLimit, limit=settings.web.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    # outermost: a request waiting for its turn has cost nothing yet
    app.add_middleware(ConcurrencyGate, limit=settings.web.concurrency)
    apidocs.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages, auth, review, subscriptions, api, feeds, filters):
        app.include_router(module.router)
    app.include_router(subscriptions.one_click)
    _install_error_handlers(app)
    return app

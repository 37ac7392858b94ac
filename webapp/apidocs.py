"""``/api/docs``: the OpenAPI documentation page, with Swagger UI served by the app itself.

Offline and intranet deployments reach no CDN, so the Swagger UI files come from
the ``swagger-ui-py`` package (Swagger UI 5, which reads OpenAPI 3.1; mounted under ``/static/swagger``) and the page
starts it from a static script, which the Content-Security-Policy allows. Swagger
UI sets inline styles, so this page alone also allows those.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from webapp.security import CSP

DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tbtwatch API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="icon" href="/static/swagger/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"content-security-policy": DOCS_CSP})


def install(app: FastAPI) -> None:
    """The page and its assets (mounted before ``/static`` so the more specific path wins)."""
    app.mount("/static/swagger", StaticFiles(directory=str(files("swagger_ui") / "static")), name="swagger")
    app.include_router(router)

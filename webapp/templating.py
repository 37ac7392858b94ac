"""The Jinja2 environment: autoescaping everywhere, the filter that turns search marks into ``<mark>``, and the
one that shows Chinese text in simplified script in the Chinese interface."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from archive.base import MARK_END, MARK_START
from tbtwatch.chinese import to_simplified
from webapp.i18n import Translator, request_lang
from webapp.security import LazyCsrfToken, current_user

TEMPLATES = Path(__file__).with_name("templates")


def highlight(text: str | None) -> Markup:
    """Escape the (untrusted) text first, then turn the store's marks into ``<mark>`` tags.

    The marks are random per-process tokens (``archive.base.MARK_START``) that
    escaping leaves alone and crawled text cannot contain, so the only markup in
    the result is ``<mark>``/``</mark>`` around the query's hits. Marks that
    touch are merged: a backend that highlights Chinese character by character
    (Elasticsearch's standard tokenizer on an English field) still shows 电池 as
    one marked word, not 电 and 池 apart.
    """
    escaped = str(escape(text or "")).replace(MARK_END + MARK_START, "")
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def plain(text: str | None) -> str:
    """Text with the search marks removed (exports, attributes)."""
    return (text or "").replace(MARK_START, "").replace(MARK_END, "")


_ENCODED = "tbtwatch.encoded_query"  # the request scope's key for its encoded parameters (query_with)


class _EncodedQuery:
    """A request's own parameters, each encoded once, and what is left of them without some keys (kept per
    set of keys): a search page links every facet value, a hundred links that differ in one parameter."""

    def __init__(self, request: Request):
        self._pairs = [(k, _encoded_pair(k, v)) for k, v in request.query_params.multi_items()]
        self._without: dict[frozenset[str], list[str]] = {}

    def without(self, keys: frozenset[str]) -> list[str]:
        kept = self._without.get(keys)
        if kept is None:
            kept = self._without[keys] = [pair for key, pair in self._pairs if key not in keys]
        return kept


def query_with(request: Request, drop: tuple[str, ...] = (), **changes: Any) -> str:
    """The current query string with some parameters replaced, added to (lists) or dropped: what
    ``urlencode`` gives, the request's own parameters encoded once per request."""
    encoded = request.scope.get(_ENCODED)
    if encoded is None:
        encoded = request.scope[_ENCODED] = _EncodedQuery(request)
    parts = encoded.without(frozenset((*drop, *changes)))
    added = [_link_pair(key, str(v)) for key, value in changes.items() if value is not None
             for v in (value if isinstance(value, list) else [value])]
    return "?" + "&".join([*parts, *added] if added else parts)


def _encoded_pair(key: str, value: str) -> str:
    """``key=value`` as ``urlencode`` writes it."""
    return f"{quote_plus(key)}={quote_plus(value)}"


# The values links set are a small set (facet values, page numbers, languages): each encoded once per
# process. A request's own values (typed words) are not kept.
_link_pair = lru_cache(maxsize=4096)(_encoded_pair)


def _environment() -> jinja2.Environment:
    # auto_reload off: templates ship with the code, and checking each one's mtime cost a stat per page part
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["highlight"] = highlight
    env.filters["plain"] = plain
    env.filters["script"] = script
    return env


def script(text: str, lang: str) -> str:
    """Crawled text as the interface shows it: simplified characters in the Chinese interface (Taiwanese
    sources write traditional ones); unchanged in English."""
    return to_simplified(text) if lang == "zh" else text


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):
    """Render a page with what every page needs: language, labels, CSRF token, user."""
    lang = request_lang(request)
    base = {"request": request, "lang": lang, "t": Translator(lang), "csrf_token": LazyCsrfToken(request),
            "user": current_user(request), "query_with": lambda **kw: query_with(request, **kw),
            "other_lang": "en" if lang == "zh" else "zh"}
    return templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code)

"""``/feeds/``: Atom feeds per catalogue product line, per member and per personal filter, and their index.

The feeds themselves are built by ``alerts.feeds``. Line and member feeds are
public, like the search they repeat; a filter's feed needs the signed token in
its URL and is marked private (not cached by shared caches, not indexed).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from alerts import feeds
from archive.base import SearchQuery
from tbtwatch.members import MemberError
from webapp.deps import Resources, resources
from webapp.i18n import request_lang
from webapp.templating import render

router = APIRouter(prefix="/feeds", include_in_schema=False)  # like the pages: the API document is /api only
ATOM_TYPE = "application/atom+xml; charset=utf-8"
LABELS_FILE = Path(__file__).with_name("feeds_i18n.yaml")
FeedLang = Annotated[Literal["zh", "en"], Query(description="language of titles and summaries")]


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    """``{"zh": {key: text}, "en": {...}}`` for the feed and filter pages."""
    raw = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))
    return {lang: {key: texts[lang] for key, texts in raw.items()} for lang in ("zh", "en")}


def atom_response(feed: feeds.Feed, res: Resources, *, private: bool = False) -> Response:
    body = feeds.render_atom(feed, base_url=res.settings.alerts.base_url, members=res.members)
    headers = {"Cache-Control": "private, max-age=300" if private else "public, max-age=900"}
    if private:
        headers["X-Robots-Tag"] = "noindex"
    return Response(body, media_type=ATOM_TYPE, headers=headers)


@router.get("/")
def feed_index(request: Request, res: Annotated[Resources, Depends(resources)]):
    """Every public feed: the catalogue's product lines and the members that have notices in the archive."""
    lang = request_lang(request)
    members = res.store.search(SearchQuery(limit=1, facets=True)).facets.get("member", [])
    return render(
        request,
        "feeds.html",
        {
            "L": labels()[lang],
            "lines": list(res.catalogue) if res.catalogue else [],
            "members": [(f.value, res.member_name(f.value, lang), f.count) for f in members],
        },
    )


@router.get("/lines/{line_id}.atom")
def line_feed(line_id: str, res: Annotated[Resources, Depends(resources)], lang: FeedLang = "zh"):
    """The newest notices of one catalogue product line."""
    line = res.catalogue.get(line_id) if res.catalogue else None
    if line is None:
        raise HTTPException(
            404, f"product line {line_id!r} is not in the catalogue; see /feeds/ for the list"
        )
    return atom_response(feeds.line_feed(res.settings, res.store, line.id, line.name(lang), lang), res)


@router.get("/members/{code}.atom")
def member_feed(code: str, res: Annotated[Resources, Depends(resources)], lang: FeedLang = "zh"):
    """The newest notices of one WTO member (code or name: EU, USA, 欧盟)."""
    try:
        member = res.members.resolve(code)
    except MemberError as exc:
        raise HTTPException(404, f"member {code!r}: {exc}") from None
    return atom_response(
        feeds.member_feed(res.settings, res.store, member.code, member.name(lang), lang), res
    )


@router.get("/filters/{filter_id}.atom")
def filter_feed(
    filter_id: int,
    res: Annotated[Resources, Depends(resources)],
    lang: FeedLang = "zh",
    token: Annotated[str, Query(max_length=2000, description="the signed token of the feed link")] = "",
):
    """A personal filter's matches (exclusions applied); the URL's token is the only credential."""
    try:
        flt = feeds.personal_filter(res.settings, filter_id, token)
    except feeds.FeedAccessError as exc:
        raise HTTPException(403, str(exc)) from None
    return atom_response(feeds.filter_feed(res.settings, res.store, flt, lang), res, private=True)

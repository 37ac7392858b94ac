"""What routes share: the settings, the store and the reference lists, made once per app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from fastapi import HTTPException, Request

from alerts.grouping import Group, NoticeGroups
from alerts.validation import Vocabulary
from archive.base import Facet, NoticeStore
from tbtwatch.model import Notice
from tbtwatch.symbols import SymbolError, normalise_symbol
from webapp.objectives import MergedFacet, load_objectives
from webapp.users import Users


@dataclass
class Resources(Vocabulary):
    """The alerts' reference lists (members, HS nomenclature, catalogue) plus the store and the users."""

    store: NoticeStore

    @cached_property
    def users(self) -> Users:
        return Users(self.settings)

    def groups_of(self, symbols: list[str]) -> dict[str, Group]:
        """Symbol -> its near-duplicate group (a text several members notified), for a page of results."""
        return NoticeGroups(self.settings).groups_of(symbols) if symbols else {}

    def member_name(self, code: str, lang: str) -> str:
        member = self.members.get(code)
        return member.name(lang) if member else code

    def line_name(self, line_id: str, lang: str) -> str:
        line = self.catalogue.get(line_id) if self.catalogue else None
        return line.name(lang) if line else line_id

    def notice_or_404(self, symbol: str) -> Notice:
        """The stored notice a URL names: 400 for a malformed symbol, 404 when it is not archived."""
        try:
            symbol = normalise_symbol(symbol)
        except SymbolError as exc:
            raise HTTPException(400, str(exc)) from None
        notice = self.store.get(symbol)
        if notice is None:
            raise HTTPException(404, f"{symbol} is not in the archive")
        return notice

    def objectives(self, facets: list[Facet], lang: str) -> list[MergedFacet]:
        """The objective facet merged across languages and wordings, named in ``lang``."""
        return load_objectives(self.settings.paths.objectives).merge(facets, lang)

    def hs_label(self, code: str, lang: str = "en") -> str:
        """An HS code's name in the interface's language: China Customs' or Taiwan's in Chinese (the English
        one where neither names it), the HS description in English."""
        if not self.nomenclature:
            return ""
        return (lang == "zh" and self.nomenclature.name_zh(code)) or self.nomenclature.description(code)


async def resources(request: Request) -> Resources:
    """The app's resources (async: a plain dependency would cost a thread-pool hop per request)."""
    return request.app.state.resources

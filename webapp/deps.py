"""What routes share: the settings, the store and the reference lists, made once per app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from fastapi import Request

from archive.base import NoticeStore
from tbtwatch.hs import HSNomenclature, load_nomenclature
from tbtwatch.members import Members, load_members
from tbtwatch.settings import Settings
from webapp.users import Users

log = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: Settings
    store: NoticeStore

    @cached_property
    def members(self) -> Members:
        return load_members(str(self.settings.paths.members))

    @cached_property
    def nomenclature(self) -> HSNomenclature | None:
        path = self.settings.paths.hs_nomenclature
        if not path.exists():
            log.warning("HS nomenclature not found at %s: HS lookup and chapter names are off", path)
            return None
        return load_nomenclature(str(path))

    @cached_property
    def catalogue(self):
        """The product catalogue (``nlp.catalogue``), or None when it cannot be loaded (names shown as ids)."""
        try:
            from nlp.catalogue import load_catalogue

            return load_catalogue(self.settings.paths.catalogue, self.nomenclature) if self.nomenclature else None
        except (ImportError, OSError, ValueError) as exc:
            log.warning("product catalogue not available (%s): product lines are shown by id", exc)
            return None

    @cached_property
    def users(self) -> Users:
        return Users(self.settings)

    def member_name(self, code: str, lang: str) -> str:
        member = self.members.get(code)
        return member.name(lang) if member else code

    def line_name(self, line_id: str, lang: str) -> str:
        line = self.catalogue.get(line_id) if self.catalogue else None
        return line.name(lang) if line else line_id

    def hs_label(self, code: str) -> str:
        return self.nomenclature.description(code) if self.nomenclature else ""


def resources(request: Request) -> Resources:
    return request.app.state.resources

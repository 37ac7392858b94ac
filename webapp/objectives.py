"""Notification objectives as one bilingual vocabulary (``config/objectives.yaml``), for facets and labels.

Sources write the same objective in English, in Chinese and in several wordings
("Protection of human health or safety", "保护人类健康安全"), so a facet over the
stored strings lists it several times. Here each written form maps to one
objective, shown in the reader's language, counted once, and linked to a search
for every form the facet merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from archive.base import Facet
from tbtwatch.configfile import file_version


@dataclass(frozen=True)
class Objective:
    en: str
    zh: str
    also: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class MergedFacet:
    """One objective's facet entry: its name in the reader's language, the stored forms it counts, the count."""

    label: str
    values: list[str] = field(default_factory=list)
    count: int = 0


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


class Objectives:
    def __init__(self, objectives: list[Objective]):
        self._by_key = {_key(form): o for o in objectives for form in (o.en, o.zh, *o.also)}

    def get(self, written: str) -> Objective | None:
        return self._by_key.get(_key(written))

    def merge(self, facets: list[Facet], lang: str) -> list[MergedFacet]:
        """The facet's stored values grouped by objective (unknown forms stay as written), most first."""
        merged: dict[str, MergedFacet] = {}
        for facet in facets:
            objective = self.get(facet.value)
            label = objective.name(lang) if objective else facet.value
            entry = merged.setdefault(label, MergedFacet(label))
            entry.values.append(facet.value)
            entry.count += facet.count
        return sorted(merged.values(), key=lambda m: (-m.count, m.label))


@lru_cache(maxsize=4)
def _load(path: str, _version: int) -> Objectives:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return Objectives([Objective(str(e["en"]), str(e["zh"]), tuple(map(str, e.get("also") or [])))
                       for e in data.get("objectives") or []])


def load_objectives(path: Path) -> Objectives:
    """The vocabulary in ``path`` (empty when the file is missing), re-read when the file changes (within a
    second: ``file_version``)."""
    version = file_version(path)
    return Objectives([]) if version is None else _load(str(path), version)

"""Search across languages: what else a query term means, from the catalogue's bilingual terms and the HS names.

A Chinese reader types 玩具 and an English notice says "toys"; an exporter types "battery" and the only text of
a regulation is Chinese. Each query term that is a catalogue term or product-line name (in either language)
is searched also as the line's terms in the other language; a term that names HS headings (in the Chinese or
the English name of a heading) also finds the notices that carry those codes, whatever their language. The
expansion is shown to the reader ("also searched: toy, toys"), so a surprising hit explains itself.

The catalogue is read as data (its names and terms only; ``nlp.catalogue`` validates it for the classifier),
the HS names from the nomenclature; both once per process and file version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from archive.base import Expansion
from archive.text import Term, is_cjk
from tbtwatch.configfile import file_version
from tbtwatch.hs import HSNomenclature, load_nomenclature

MAX_PHRASES = 8  # alternatives per term: the catalogue's shortest ways of saying it
MAX_HEADINGS = 4  # a word naming more headings than this is too general to stand for their codes
MAX_REMEMBERED = 4096  # expansions kept per thesaurus (it is rebuilt when the catalogue changes)
_SEGMENT = re.compile(r"[;；,，、(（]")


def stem(word: str) -> str:
    """A plural-insensitive key for an English word (batteries -> battery, toys -> toy, boxes -> box)."""
    word = word.casefold()
    for suffix, replacement in (("ies", "y"), ("xes", "x"), ("ches", "ch"), ("shes", "sh"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + replacement
    return word


def phrase_key(text: str) -> str:
    """Case-, plural- and spacing-insensitive form of a phrase ("Electric Toys" == "electric toy")."""
    return " ".join(stem(w) for w in re.findall(r"\w+", text))


@dataclass(frozen=True)
class Line:
    names: tuple[str, ...]
    terms_en: tuple[str, ...]
    terms_zh: tuple[str, ...]


def _contains(outer: str, inner: str) -> bool:
    """Whether searching ``inner`` already finds ``outer``: a word run for English, a substring for Chinese
    (searched as character bigrams)."""
    return inner in outer if is_cjk(inner) else f" {inner} " in f" {outer} "


def _shortest(phrases: list[str], typed: str) -> list[str]:
    """One phrase per key, and only those that neither the typed term nor another phrase is part of: "toy"
    finds "electric toy" already."""
    by_key: dict[str, str] = {}
    for phrase in phrases:
        by_key.setdefault(phrase_key(phrase), phrase)
    finders = [*by_key, typed]
    kept = [p for k, p in by_key.items() if k and not any(o != k and o and _contains(k, o) for o in finders)]
    return sorted(kept, key=lambda p: (len(p), p))


@dataclass
class Thesaurus:
    lines: list[Line]
    nomenclature: HSNomenclature | None = None
    _by_key: dict[str, list[Line]] = field(init=False, default_factory=dict)
    _headings: list[tuple[str, str, str]] = field(init=False, default_factory=list)  # code, en, zh
    # term -> its expansion: finding the headings a word names scans all 1,229 (~1 ms), and readers
    # search the same words again and again
    _expanded: dict[str, Expansion | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for line in self.lines:
            for phrase in (*line.names, *line.terms_en, *line.terms_zh):
                self._by_key.setdefault(phrase_key(phrase), []).append(line)
        if self.nomenclature is not None:
            for entry in self.nomenclature.entries(level=4):
                zh = _SEGMENT.split(self.nomenclature.name_zh(entry.code), 1)[0]
                en = _SEGMENT.split(entry.description, 1)[0]
                self._headings.append((entry.code, phrase_key(en), zh))

    def expand(self, term: Term) -> Expansion | None:
        """The other phrasings and HS headings of one positive term, or None when it has none."""
        text = term.display
        if text not in self._expanded:
            if len(self._expanded) >= MAX_REMEMBERED:
                self._expanded.clear()
            self._expanded[text] = self._expansion(text)
        return self._expanded[text]

    def _expansion(self, text: str) -> Expansion | None:
        key = phrase_key(text)
        phrases: list[str] = []
        for line in self._by_key.get(key, []):
            other = line.terms_en if is_cjk(text) else line.terms_zh
            phrases += [p for p in (*line.names, *other) if phrase_key(p) != key]
        headings = self._headings_named(text, key)
        if not phrases and not headings:
            return None
        return Expansion(term=text, phrases=tuple(_shortest(phrases, key)[:MAX_PHRASES]), hs=tuple(headings))

    def _headings_named(self, text: str, key: str) -> list[str]:
        if is_cjk(text):
            found = [code for code, _, zh in self._headings if len(text) >= 2 and text in zh]
        else:
            found = [code for code, en, _ in self._headings if key and f" {key} " in f" {en} "]
        return found if len(found) <= MAX_HEADINGS else []

    def heading_name(self, code: str, lang: str) -> str:
        """The heading's short name in ``lang`` for the "also searched" line."""
        if self.nomenclature is None:
            return ""
        name = self.nomenclature.name_zh(code) if lang == "zh" else self.nomenclature.description(code)
        return _SEGMENT.split(name, 1)[0]


def _read_lines(path: Path) -> list[Line]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Line(names=tuple(str(e[k]) for k in ("name_en", "name_zh") if e.get(k)),
                 terms_en=tuple(map(str, e.get("terms_en") or [])), terms_zh=tuple(map(str, e.get("terms_zh") or [])))
            for e in data.get("lines") or [] if isinstance(e, dict)]


@lru_cache(maxsize=4)
def _thesaurus(catalogue: str, nomenclature: str, versions: tuple[int | None, int | None]) -> Thesaurus:
    hs = load_nomenclature(nomenclature) if versions[1] is not None else None
    return Thesaurus(_read_lines(Path(catalogue)) if versions[0] is not None else [], hs)


def thesaurus_for(catalogue: Path, nomenclature: Path) -> Thesaurus:
    """The thesaurus of these files, rebuilt when either file changes (an edited catalogue takes effect
    within a second: ``file_version``)."""
    return _thesaurus(str(catalogue), str(nomenclature), (file_version(catalogue), file_version(nomenclature)))


def expansions(terms: list[Term], thesaurus: Thesaurus) -> list[Expansion]:
    """One expansion per positive term that has one (excluded terms exclude only what was typed)."""
    found = [thesaurus.expand(t) for t in terms if not t.negated]
    return [e for e in found if e is not None]


def also_searched(found: list[Expansion]) -> list[str]:
    """What the reader is told was searched besides their words: the phrasings, then the HS headings."""
    phrases = [p for e in found for p in e.phrases]
    codes = [f"HS {code}" for e in found for code in e.hs]
    return list(dict.fromkeys(phrases + codes))

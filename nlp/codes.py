"""Finding HS, CCCN and ICS codes in notice text.

Products-covered fields write codes in many ways: ``HS 8507.60``, ``HS code(s):
850760``, ``(HS 850650)``, ``HS编码:9401.80``, ``HS:8525;8526;8527``, a portal's JSON
``HS:[{"uid":"95"}]``, ``CCCN 8418.69.90.00.9A``, ``Chapter 85``, ``第85章``, ranges
such as ``8501-8504``, and ICS codes such as ``ICS 29.220.20``. A code is only read
after a label (HS, CCCN, ICS, Chapter, 税目...), because bare numbers in notices are
mostly dates, regulation numbers and limits. Codes inside an exclusion clause
("不包括税目为90.14") are kept but marked excluded.

This module is pure text processing; ``nlp.components`` wraps it as a spaCy component.
"""

from __future__ import annotations

import re
from collections.abc import Container
from functools import lru_cache
from typing import NamedTuple

from nlp.scopes import covering_scope, exclusion_scopes
from nlp.terms import TermScanner
from tbtwatch.hs import HSCodeError, normalise_hs

# A scan for the literal start of a label (an Aho-Corasick automaton: "h", "c", "i", "t" are
# common letters, at each of which a regex alternation would try its branches), then the full
# label pattern is tried only there; the "not inside a word" test is done in Python. Patterns are
# lower case: the text is searched lower-cased (a case-insensitive regex is several times slower).
_LABEL_START = TermScanner(["hs", "h.s.", "cccn", "ics", "chapter", "tariff", "海关编码", "商品编码", "税", "第"])
_LABELS = re.compile(
    r"(?P<hs>(?:h\.s\.|hsn?(?![a-z])|cccn|海关编码|商品编码|税则号列|税则号|税号|税目|tariff\s+(?:lines?|items?|headings?|codes?))"
    r"(?:\s*(?:code\s*\(s\)|codes?|headings?|subheadings?|nos?\.|numbers?|编码|代码|编号|分类号|税号|号列|号|为))*\s*[:：]?)"
    r"|(?P<ics>ics(?![a-z])(?:\s*(?:code\s*\(s\)|codes?|编码|代码|分类号|编号|号))*\s*[:：]?)"
    r"|(?P<chapter>(?:hs\s+)?chapters?\s+(?=\d))"
    r"|第\s*(?P<chapter_zh>\d{1,2})\s*章"
)

# A list after a label: codes joined by separators, JSON debris and range marks.
_HS_ITEM = r"\d{2}[\d.]*[a-z]?(?![\d])"
_ICS_ITEM = r"\d{2}(?:\.\d{3}(?:\.\d{2})?)?(?![\d.]\d)"
_FILLER = r"(?:[\s\[\]{}\"'：:,;，；、/|&\-–~]|uid|and|or|to|和|及|与|或|至|以及)"
_LISTS = {
    "hs": re.compile(rf"(?:{_FILLER}*{_HS_ITEM})+"),
    "ics": re.compile(rf"(?:{_FILLER}*{_ICS_ITEM})+"),
    "chapter": re.compile(rf"(?:{_FILLER}*\d{{1,2}}(?![\d.]))+"),
}
_HS_ITEMS = re.compile(_HS_ITEM)
_ICS_ITEMS = re.compile(_ICS_ITEM)
_CHAPTER_ITEMS = re.compile(r"\d{1,2}")
_RANGE_GAP = re.compile(r"^[\s\"']*(?:-|–|~|to|至)[\s\"']*$")
_MAX_RANGE = 100


def _labels(lower: str) -> list[tuple[re.Match[str], str, int]]:
    """(label match, kind, end of the code list after it) for every label not inside a word."""
    found = []
    pos = 0
    for at in _LABEL_START.starts(lower):
        if at < pos or (at and lower[at - 1].isascii() and lower[at - 1].isalpha()):
            continue
        label = _LABELS.match(lower, at)
        if label is None:
            continue
        kind = label.lastgroup or "hs"
        if kind == "chapter_zh":
            pos = label.end()
            found.append((label, kind, pos))
            continue
        listed = _LISTS[kind].match(lower, label.end())
        pos = listed.end() if listed else label.end()
        found.append((label, kind, pos))
    return found


class CodeMention(NamedTuple):
    """One code written in a text: ``kind`` is "hs" or "ics"; ``code`` is normalised."""

    kind: str
    code: str
    start: int
    end: int
    excluded: bool = False


def _expand_range(first: str, last: str, known: Container[str] | None) -> list[str]:
    """``8501-8504`` names every heading in between; only codes the nomenclature has are kept."""
    if len(first) != len(last) or not (0 < int(last) - int(first) <= _MAX_RANGE):
        return [first, last]
    width = len(first)
    codes = [str(n).zfill(width) for n in range(int(first), int(last) + 1)]
    return [c for c in codes if known is None or c in known] or [first, last]


@lru_cache(maxsize=65536)
def _normalised(item: str) -> str | None:
    """``normalise_hs`` of a listed item (memoised: the same codes recur across notices)."""
    try:
        return normalise_hs(item.rstrip("abcdefghijklmnopqrstuvwxyz"))
    except HSCodeError:
        return None


def _hs_items(text: str, start: int, end: int, items: re.Pattern[str],
              known: Container[str] | None, chapters: bool = False) -> list[tuple[str, int, int]]:
    """Normalised HS codes in ``text[start:end]``, ranges expanded."""
    found: list[tuple[str, int, int]] = []
    previous_end = None
    for m in items.finditer(text, start, end):
        code = m.group(0).zfill(2) if chapters else _normalised(m.group(0))
        if code is None:
            continue
        if previous_end is not None and found and _RANGE_GAP.match(text[previous_end:m.start()]):
            first = found.pop()
            for c in _expand_range(first[0], code, known):
                found.append((c, first[1], m.end()))
        else:
            found.append((code, m.start(), m.end()))
        previous_end = m.end()
    if known is None:
        return found
    return [(k, s, e) for code, s, e in found if (k := _known_stem(code, known))]


def _known_stem(code: str, known: Container[str]) -> str | None:
    """The code itself if the nomenclature has it, else its heading or chapter (national splits)."""
    for stem in (code, code[:4], code[:2]):
        if len(stem) >= 2 and stem in known:
            return stem
    return None


def extract_codes(text: str, known_hs: Container[str] | None = None, *, lower: str | None = None,
                  scopes: list[tuple[int, int]] | None = None) -> list[CodeMention]:
    """Every labelled HS/CCCN/chapter and ICS code in ``text``, in order of appearance.

    ``known_hs`` (the HS nomenclature) drops numbers that are no HS code at all, such
    as a national 98xx line or a misread year. ``lower`` and ``scopes`` (the text
    lower-cased with the same offsets, and its exclusion scopes) save recomputing
    them when the caller has them.
    """
    if not text:
        return []
    lower = lower if lower is not None else text.lower()
    scopes = scopes if scopes is not None else exclusion_scopes(lower)
    mentions: list[CodeMention] = []
    for label, kind, list_end in _labels(lower):
        if kind == "chapter_zh":
            items = [(label.group("chapter_zh").zfill(2), label.start(), label.end())]
        elif kind == "ics":
            items = [(m.group(0), m.start(), m.end()) for m in _ICS_ITEMS.finditer(lower, label.end(), list_end)]
        else:
            items = _hs_items(lower, label.end(), list_end, _CHAPTER_ITEMS if kind == "chapter" else _HS_ITEMS,
                              known_hs, chapters=kind == "chapter")
        hs_kind = "ics" if kind == "ics" else "hs"
        mentions += [CodeMention(hs_kind, code, s, e, covering_scope(scopes, s) is not None) for code, s, e in items]
    mentions.sort(key=lambda m: (m.start, m.kind))
    return mentions


def given_hs_codes(mentions: list[CodeMention]) -> list[str]:
    """The HS codes a text says are covered (excluded ones left out), first mention first."""
    return list(dict.fromkeys(m.code for m in mentions if m.kind == "hs" and not m.excluded))


def hide_codes(text: str) -> str:
    """``text`` with every code label and listed code removed.

    The evaluation uses this to turn a notice that gives codes into one that does
    not, so that the heading inferrer is judged on words alone.
    """
    if not text:
        return text
    lower = text.lower()
    if len(lower) != len(text):
        lower = text
    out, pos = [], 0
    for label, _, list_end in _labels(lower):
        if label.start() >= pos:
            out.append(text[pos:label.start()])
        pos = max(pos, list_end)
    out.append(text[pos:])
    return "".join(out)

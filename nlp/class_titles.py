"""Where a products field quotes a standards class's title rather than naming a product.

ePing writes the products covered as ``Petroleum jelly (HS code(s): 271210); Cosmetics.
Toiletries (ICS code(s): 71.100.70)``: the second part is the title of the ICS class the
member chose, and the Chinese portals translate it the same way (``通风机。风扇。空调(ICS
分类号:23.120)``). A class title names a whole field of standards, so a catalogue term
inside it ("Cosmetics") says the measure is near that product line, not that the line's
goods are covered: the petroleum jelly above is HS 2712, not a cosmetic. The classifier
treats a term found in such a span as weak evidence (``matching.class_title`` in
levels.yaml).

A span is a class title when an ICS label in brackets follows it, or, where the label
was left out, by the ICS titles' own style: two or more short names joined by full stops
("Cosmetics. Toiletries", "电信。音频和视频工程"), which member-written product lists do
not use.
"""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"[^;；()（）\[\]\n]+")
_ICS_LABEL_AFTER = re.compile(r"\s*[(（]\s*ics(?![a-z])", re.IGNORECASE)
_FULL_STOP = re.compile(r"\.(?=\s|$)|。")
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z'’-]{2,}(?:[ ,-]+[A-Za-z'’-]+){0,5}")
_CJK_NAME = re.compile(r"[\u3400-\u9fff]{2,12}")


def class_title_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of every part of ``text[start:end]`` that is a standards class's title."""
    spans = []
    for segment in _SEGMENT.finditer(text, start, len(text) if end is None else end):
        if _ICS_LABEL_AFTER.match(text, segment.end()) or _is_dotted_title(segment.group()):
            spans.append(segment.span())
    return spans


def _is_dotted_title(segment: str) -> bool:
    """Two or more short names joined by full stops, each a capitalised name or a run of Chinese."""
    if "." not in segment and "。" not in segment:
        return False
    names = [name.strip() for name in _FULL_STOP.split(segment)]
    if names and not names[-1]:
        names.pop()  # a closing full stop
    return len(names) >= 2 and all(_LATIN_NAME.fullmatch(n) or _CJK_NAME.fullmatch(n) for n in names)


def within(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` lies inside one of ``spans``."""
    return any(s <= start and end <= e for s, e in spans)

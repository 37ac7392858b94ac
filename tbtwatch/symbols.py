"""WTO document symbols, the natural key of every notice.

Real pages write symbols with stray spaces, lower case, full-width slashes and
several symbols on one line (joint notifications of the East African Community
or the Gulf states), so parsing is forgiving about form and strict about shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUFFIX_KINDS = {"add": "addendum", "corr": "corrigendum", "rev": "revision", "suppl": "supplement"}
_SUFFIX_CANON = {"add": "Add", "corr": "Corr", "rev": "Rev", "suppl": "Suppl"}

_SYMBOL_RE = re.compile(
    r"""(?<![A-Za-z])G\s*/\s*(?P<area>TBT|SPS)\s*/\s*
        (?:N\s*/\s*(?P<member>[A-Z]{2,4})|Notif\s*\.\s*(?P<year>\d{2}))\s*/\s*(?P<number>\d{1,5})(?!\d)
        (?P<suffixes>(?:\s*/\s*(?:Add|Corr|Rev|Suppl)\s*\.?\s*\d{1,3}(?!\d))*)""",
    re.IGNORECASE | re.VERBOSE,
)
# G/TBT/N/1122/Rev.1: a symbol whose member code was lost (seen on portals); named in the error.
_NO_MEMBER_RE = re.compile(r"G\s*/\s*(?:TBT|SPS)\s*/\s*N\s*/\s*\d", re.IGNORECASE)
_SUFFIX_RE = re.compile(r"(Add|Corr|Rev|Suppl)\s*\.?\s*(\d{1,3})", re.IGNORECASE)


class SymbolError(ValueError):
    """A string that is not a WTO TBT/SPS notification symbol."""


@dataclass(frozen=True, slots=True)
class Symbol:
    area: str
    member_code: str
    number: int
    suffixes: tuple[tuple[str, int], ...] = ()
    notif_year: str = ""  # set for the 1995-2000 series G/TBT/Notif.YY/N, which names no member

    def __str__(self) -> str:
        series = f"Notif.{self.notif_year}" if self.notif_year else f"N/{self.member_code}"
        text = f"G/{self.area}/{series}/{self.number}"
        return text + "".join(f"/{_SUFFIX_CANON[k]}.{n}" for k, n in self.suffixes)

    @property
    def base(self) -> Symbol:
        """The notification this document belongs to (a revision is its own base series)."""
        return Symbol(self.area, self.member_code, self.number, (), self.notif_year)

    @property
    def parent(self) -> Symbol | None:
        """The document one suffix up: Rev.1/Add.2 belongs to Rev.1, Add.1 to the base."""
        if not self.suffixes:
            return None
        return Symbol(self.area, self.member_code, self.number, self.suffixes[:-1], self.notif_year)

    @property
    def kind(self) -> str:
        """Kind of the document, from its last suffix (regular when it has none)."""
        if not self.suffixes:
            return "regular"
        return SUFFIX_KINDS[self.suffixes[-1][0]]


DOCUMENTS_ONLINE = "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename="
_FILE_SUFFIX = {"add": "A", "corr": "C", "rev": "R", "suppl": "S"}


def document_url(symbol: Symbol) -> str:
    """The notified document itself on WTO Documents Online: ``G/TBT/N/TPKM/530/Add.1`` is the file
    ``q:/G/TBT/N/TPKM530A1.pdf`` (member, number and suffix letters run together, as the WTO names its files);
    '' for the 1995-2000 series, whose files are named otherwise."""
    if symbol.notif_year or not symbol.member_code:
        return ""
    suffixes = "".join(f"{_FILE_SUFFIX[kind]}{number}" for kind, number in symbol.suffixes)
    return f"{DOCUMENTS_ONLINE}q:/G/{symbol.area}/N/{symbol.member_code}{symbol.number}{suffixes}.pdf"


def _normalise_text(text: str) -> str:
    return text.replace("／", "/").replace("．", ".").replace("\u3000", " ")


def _to_symbol(match: re.Match[str]) -> Symbol:
    suffixes = tuple(
        (kind.lower(), int(num)) for kind, num in _SUFFIX_RE.findall(match.group("suffixes") or "")
    )
    return Symbol(match.group("area").upper(), (match.group("member") or "").upper(), int(match.group("number")),
                  suffixes, match.group("year") or "")


def parse_symbol(text: str) -> Symbol:
    """Parse exactly one symbol; anything else around it is an error."""
    cleaned = _normalise_text(text).strip()
    match = _SYMBOL_RE.fullmatch(cleaned)
    if not match:
        why = (" (the member code between N/ and the number is missing)"
               if _NO_MEMBER_RE.match(cleaned) else "")
        raise SymbolError(
            f"{text!r} is not a WTO notification symbol{why}; expected the form G/TBT/N/USA/2034 "
            "or G/SPS/N/EU/715/Add.1"
        )
    return _to_symbol(match)


def find_symbols(text: str) -> list[Symbol]:
    """All symbols in a free text, in order, without repeats."""
    seen: dict[str, Symbol] = {}
    for match in _SYMBOL_RE.finditer(_normalise_text(text)):
        symbol = _to_symbol(match)
        seen.setdefault(str(symbol), symbol)
    return list(seen.values())


def normalise_symbol(text: str) -> str:
    """The canonical spelling (``g / tbt / n / usa / 1 / add 1`` -> ``G/TBT/N/USA/1/Add.1``), for keys and links."""
    return str(parse_symbol(text))

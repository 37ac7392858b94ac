"""Harmonized System codes: normalising what notices write, and the HS 2022 nomenclature.

Notices write codes as ``8507.60``, ``8507 60``, ``85.07``, ``HS 8507.60.00`` or
national 8 to 10 digit tariff lines; the archive keeps 2, 4 or 6 digit strings so
that prefix matching (chapter, heading, subheading) is a string prefix test.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# The label in front of a code: "HS", "HS code(s):", "HS编码:", "HS 代碼：", "CCCN", "税号".
_CODE_CHARS = re.compile(r"^(?:HS|CCCN|H\.S\.)?\s*(?:code\(s\)|codes?|[编編][码碼]|代[码碼]|[税稅][号號]|[税稅]目)?\s*[:：]?\s*",
                         re.IGNORECASE)
_CHAPTER_RE = re.compile(r"^(?:chapter|ch\.?|第)\s*(\d{1,2})\s*章?$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s.\-·]")


class HSCodeError(ValueError):
    """A string that cannot be read as an HS code."""


def normalise_hs(text: str) -> str:
    """Return the 2, 4 or 6 digit form of an HS code as written in a notice.

    Longer national tariff lines are cut to their international 6 digits; a
    5-digit group (``01063``, a one-dash subheading group) is cut to its heading.
    """
    raw = str(text).strip()
    chapter = _CHAPTER_RE.match(raw)
    if chapter:
        digits = chapter.group(1).zfill(2)
    else:
        body = _CODE_CHARS.sub("", raw, count=1)
        if not body or not re.fullmatch(r"[\d\s.\-·]+", body):
            raise HSCodeError(f"{text!r} is not an HS code: expected digits such as 8507, 8507.60 or 850760")
        digits = _SEPARATORS.sub("", body)
    if len(digits) < 2:
        raise HSCodeError(f"{text!r} is not an HS code: at least the 2-digit chapter is needed")
    if len(digits) == 3 or len(digits) == 5:
        digits = digits[: len(digits) - 1]
    digits = digits[:6]
    if digits[:2] == "00":
        raise HSCodeError(f"{text!r} is not an HS code: there is no chapter 00 (chapters are 01-97, 98-99 national)")
    return digits


# A code in a list: digit pairs joined by dots or by one space before a lone pair ("8507 60"),
# so "8450 8516" stays two codes.
_LIST_CODE = re.compile(r"(?<![\d.])\d{2}(?:(?:\.|\s(?=\d{2}(?!\d)))?\d{2}){0,4}(?!\d)")


def find_hs_codes(text: str) -> list[str]:
    """Codes in a list such as ``7217.3011;7217.3021`` or ``1001、1002``, normalised, in order."""
    found: dict[str, None] = {}
    for match in _LIST_CODE.finditer(text or ""):
        try:
            found.setdefault(normalise_hs(match.group(0)))
        except HSCodeError:
            continue
    return list(found)


@dataclass(frozen=True, slots=True)
class HSEntry:
    code: str
    description: str
    parent: str
    level: int
    section: str


class HSNomenclature:
    """The HS 2022 nomenclature (chapters, headings, subheadings) loaded from UN Comtrade's CSV."""

    def __init__(self, entries: dict[str, HSEntry]):
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> HSNomenclature:
        if not path.exists():
            raise FileNotFoundError(
                f"HS nomenclature not found at {path}; set paths.hs_nomenclature in config/settings.toml "
                "or TBTWATCH_PATHS_HS_NOMENCLATURE to the harmonized-system.csv file"
            )
        entries: dict[str, HSEntry] = {}
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = row["hscode"].strip()
                if not code.isdigit():
                    continue
                entries[code] = HSEntry(code, row["description"].strip(), row["parent"].strip(),
                                        int(row["level"]), row["section"].strip())
        return cls(entries)

    def __contains__(self, code: str) -> bool:
        return code in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, code: str) -> HSEntry | None:
        return self._entries.get(code)

    def description(self, code: str) -> str:
        entry = self._entries.get(code)
        return entry.description if entry else ""

    def entries(self, level: int | None = None) -> list[HSEntry]:
        return [e for e in self._entries.values() if level is None or e.level == level]

    def validate(self, code: str) -> str:
        """Normalise a code and check that it (or, for national lines, its 6-digit stem) exists."""
        digits = normalise_hs(code)
        if digits not in self._entries:
            raise HSCodeError(f"{code!r}: HS code {digits} is not in the HS 2022 nomenclature")
        return digits


@lru_cache(maxsize=4)
def load_nomenclature(path: str) -> HSNomenclature:
    """One nomenclature per process and path: it is read by every stage."""
    return HSNomenclature.load(Path(path))

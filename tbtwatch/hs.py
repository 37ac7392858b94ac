"""Harmonized System codes: normalising what notices write, and the bilingual HS 2022 nomenclature.

Notices write codes as ``8507.60``, ``8507 60``, ``85.07``, ``HS 8507.60.00`` or
national 8 to 10 digit tariff lines; the archive keeps 2, 4 or 6 digit strings so
that prefix matching (chapter, heading, subheading) is a string prefix test.

The nomenclature is UN Comtrade's English HS 2022 file plus, when they lie beside
it, two Chinese sources (see ``../shared/data/hs/SOURCE.md``): China Customs'
8-digit commodity names (simplified, HS 2022 basis, with their English names) and
Taiwan's tariff heading and subheading texts (traditional, HS 2017 basis), turned
into simplified script with Taiwan's wording by OpenCC (``tw2sp``). Every code then
has a Chinese name for readers, and every heading a bag of Chinese and English
product names for the heading inferrer.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import opencc

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


# File names of the Chinese sources, looked for in the folder of the English nomenclature.
CN_CUSTOMS_FILE = "cn-customs-hs8-2023.csv"
TW_TARIFF_FILE = "tw-customs-hs-headings.csv"
_CHAPTER_PREFIX = re.compile(r"^第\s*[0-9０-９]+\s*章[\s\u3000]*")
_GENERIC_ZH = ("其他", "其它")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass
class ChineseNames:
    """Chinese (and China Customs' English) names of HS codes, keyed by code."""

    tw: dict[str, str] = field(default_factory=dict)  # 2/4/6-digit Taiwan texts, simplified script
    cn: dict[str, str] = field(default_factory=dict)  # 8-digit China Customs names
    cn_en: dict[str, str] = field(default_factory=dict)  # their English names
    by_heading: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    en_by_heading: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tw_chapters_en: dict[str, str] = field(default_factory=dict)  # Taiwan's English chapter titles

    @classmethod
    def load(cls, folder: Path) -> "ChineseNames":
        """Both files of ``folder`` that exist (either may be missing: the names are then partial)."""
        names = cls()
        cn_path, tw_path = folder / CN_CUSTOMS_FILE, folder / TW_TARIFF_FILE
        if cn_path.exists():
            for row in _rows(cn_path, ("code", "zh", "en")):
                code = row["code"].strip()
                if code.isdigit() and len(code) >= 6:
                    names.cn[code] = row["zh"].strip()
                    names.cn_en[code] = row["en"].strip()
        if tw_path.exists():
            converter = opencc.OpenCC("tw2sp")
            for row in _rows(tw_path, ("code", "zh_hant", "en")):
                code = row["code"].strip()
                if code.isdigit() and len(code) in (2, 4, 6):
                    text = _CHAPTER_PREFIX.sub("", converter.convert(row["zh_hant"].strip()))
                    names.tw[code] = text.translate(_FULLWIDTH_DIGITS)
                    if len(code) == 2:
                        names.tw_chapters_en[code] = re.sub(r"^chapter\s+\d+\s*", "", row["en"].strip(), flags=re.I)
        for code, text in [*names.tw.items(), *names.cn.items()]:
            if len(code) >= 4 and text:
                names.by_heading[code[:4]].append(text)
        for code, text in names.cn_en.items():
            if text:
                names.en_by_heading[code[:4]].append(text)
        return names

    def name(self, code: str, parent_name: str) -> str:
        """The Chinese name of ``code``: Taiwan's legal text, China Customs' where Taiwan has none or
        only a relative text ("其他", "二氧化锰者"; then with its parent's name in front, so that it
        stands alone)."""
        if len(code) >= 8:
            return self.cn.get(code, "")
        text = self.tw.get(code, "")
        if len(code) == 6 and (not text or _relative(text)):
            lines = [v for k, v in self.cn.items() if k.startswith(code)]
            if len(lines) == 1 or (lines and not text):
                return lines[0]
            if text and parent_name:
                return f"{parent_name}：{text}"
        if not text and len(code) == 4:  # HS 2022 headings Taiwan's 2017 file lacks (8806 drones)
            lines = sorted((k, v) for k, v in self.cn.items() if k.startswith(code))
            return lines[0][1] if lines else ""
        return text


_TITLE_STOP = frozenset("and of the thereof or other articles their parts".split())


def _title_words(text: str) -> tuple[str, ...]:
    """The content words of an English title in alphabetical order, each as often as it stands (empty for
    non-English text): "Wood charcoal" is not the title "Wood and articles of wood; wood charcoal"."""
    words = re.findall(r"[a-z]+", text.lower())
    if not words or re.search(r"[\u3400-\u9fff]", text):
        return ()
    return tuple(sorted(w for w in words if w not in _TITLE_STOP))


def _title_zh(text: str) -> str:
    """A Chinese title without punctuation and spaces ('' when it has no Chinese)."""
    return "".join(re.findall(r"[\u3400-\u9fff]+", text))


def _relative(text: str) -> bool:
    """A subheading text that only makes sense under its heading ("其他", "二氧化锰者", "鲜的")."""
    return text.startswith(_GENERIC_ZH) or text.endswith("者") or len(text) <= 4


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
        return list(reader)


class HSNomenclature:
    """The HS 2022 nomenclature (chapters, headings, subheadings), in English and Chinese."""

    def __init__(self, entries: dict[str, HSEntry], names: ChineseNames | None = None):
        self._entries = entries
        self._names = names or ChineseNames()
        self._zh: dict[str, str] = {}
        self._chapter_titles: dict[tuple[str, ...] | str, str] | None = None
        self._chapter_title_room = 0  # no text longer than this is a chapter's title (chapter_named)

    @classmethod
    def load(cls, path: Path) -> HSNomenclature:
        """UN Comtrade's CSV at ``path`` and the Chinese name files beside it (see the module docstring)."""
        if not path.exists():
            raise FileNotFoundError(
                f"HS nomenclature not found at {path}; set paths.hs_nomenclature in config/settings.toml "
                "or TBTWATCH_PATHS_HS_NOMENCLATURE to the harmonized-system.csv file"
            )
        entries: dict[str, HSEntry] = {}
        for row in _rows(path, ("hscode", "description", "parent", "level", "section")):
            code = row["hscode"].strip()
            if not code.isdigit():
                continue
            entries[code] = HSEntry(code, row["description"].strip(), row["parent"].strip(),
                                    int(row["level"]), row["section"].strip())
        return cls(entries, ChineseNames.load(path.parent))

    def __contains__(self, code: str) -> bool:
        return code in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, code: str) -> HSEntry | None:
        return self._entries.get(code)

    def description(self, code: str) -> str:
        entry = self._entries.get(code)
        return entry.description if entry else ""

    def name_zh(self, code: str) -> str:
        """The simplified-Chinese name of an HS code ('' when neither Chinese source names it)."""
        if code not in self._zh:
            parent = self._entries[code].parent if code in self._entries else code[:-2]
            parent_name = self.name_zh(parent) if len(parent) >= 4 and len(code) == 6 else ""
            self._zh[code] = self._names.name(code, parent_name)
        return self._zh[code]

    def names_zh(self, heading: str) -> list[str]:
        """Every Chinese text under a 4-digit heading: Taiwan's heading and subheadings, China's lines."""
        return list(self._names.by_heading.get(heading, ()))

    def names_en_extra(self, heading: str) -> list[str]:
        """China Customs' English names of the 8-digit lines under a heading (product words the
        HS descriptions lack)."""
        return list(self._names.en_by_heading.get(heading, ()))

    def chapter_named(self, text: str) -> str | None:
        """The chapter whose own title ``text`` is ("PLASTICS AND ARTICLES THEREOF", "Live animals",
        "活动物"): products fields often name a whole chapter so. Word order and case do not matter.

        A text more than twice as long as the longest title is none (checked first: most
        products fields are long lists, and every notice without codes asks)."""
        if self._chapter_titles is None:
            titles: dict[tuple[str, ...] | str, str] = {}
            longest = 0
            for entry in self.entries(2):
                for title in (entry.description, self._names.tw_chapters_en.get(entry.code, "")):
                    if _title_words(title):
                        titles.setdefault(_title_words(title), entry.code)
                        longest = max(longest, len(title))
                if self.name_zh(entry.code):
                    titles.setdefault(_title_zh(self.name_zh(entry.code)), entry.code)
                    longest = max(longest, len(self.name_zh(entry.code)))
            self._chapter_titles, self._chapter_title_room = titles, 2 * longest
        if len(text) > self._chapter_title_room:
            return None
        key = _title_words(text) or _title_zh(text)
        return self._chapter_titles.get(key) if key else None

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

"""Read the WTO notification form (TBT fields 1-11, the SPS form, the addendum form) from page text.

Every source that carries the form's text (the WTO document itself, Chinese
portals' translations, table layouts, traditional characters) goes through
``parse_notification_form``. It finds the known labels (``crawlers.form_labels``),
reads each value up to the next label, and maps values to notice fields. Form
fields the notice model has no place for (agency, articles, relevant documents,
texts available from...) are returned under ``leftovers`` so the validate
pipeline can count and log them instead of dropping them silently.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from crawlers.cells import find_ics_codes, find_urls
from crawlers.form_labels import BOILERPLATE, CHECKBOX_FIELDS, LABELS, TRADITIONAL_TO_SIMPLIFIED
from tbtwatch.dates import date_text, deadline_from, parse_date
from tbtwatch.hs import HSCodeError, find_hs_codes, normalise_hs
from tbtwatch.members import default_members
from tbtwatch.symbols import Symbol, find_symbols

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CHECKED = re.compile(r"\[\s*[xX✓√]\s*\]")
_CHECKBOX = re.compile(r"\[\s*[xX✓√]?\s*\]")
_ARTICLE_CHECKED = re.compile(r"\[\s*[xX]\s*\]\s*(\d+(?:\.\d+)+)|(\d+(?:\.\d+)+)\s*\[\s*[xX]\s*\]")
_TRAILING_NUMBER = re.compile(r"(?:^|\n)[\s•·]*\d{1,2}\s*[.、]?\s*$")
_HS_CONTEXT = re.compile(r"HS\s*(?:编码|編碼|code\(?s?\)?)?\s*[:：]?\s*(\d[\d.,;、\s]*(?:(?:and|和|及)\s*[\d.,;、\s]+)*)",
                         re.IGNORECASE)
_CODE_LINE = re.compile(r"^\s*(\d{2,10})\s+-\s+", re.MULTILINE)
_AREA_SUFFIX = re.compile(r"\s*\((?:TBT|SPS)\)\s*$")
_TITLE_PAGES = re.compile(r"\s*[(（](?:[^()（）]*(?:\d+\s*页|页\)|pages?)[^()（）]*|\d+\s*page\(s\)[^()]*)[)）]\s*[。.]?\s*$",
                          re.IGNORECASE)


@dataclass(frozen=True)
class _Found:
    field: str
    start: int  # where the label starts
    end: int  # where its value starts
    checked: bool | None  # the addendum checkbox before the label, if any


@lru_cache(maxsize=1)
def _label_regex() -> tuple[re.Pattern[str], tuple[str, ...], tuple[bool, ...]]:
    parts, fields, colons = [], [], []
    for i, label in enumerate(LABELS):
        pattern = label.pattern
        if label.boundary:
            pattern = rf"(?<![(（A-Za-z0-9])(?:{pattern})(?![A-Za-z])"
        suffix = r"\s*[:：]" if label.needs_colon else r"[ \t]*[:：]?"
        parts.append(f"(?P<l{i}>{pattern}){suffix}")
        fields.append(label.field)
        colons.append(label.needs_colon)
    return re.compile("|".join(parts), re.IGNORECASE), tuple(fields), tuple(colons)


def _fold(text: str) -> str:
    """Simplified characters and ASCII punctuation for matching; same length as the input."""
    return text.translate(TRADITIONAL_TO_SIMPLIFIED).translate(str.maketrans("，（）", ",()"))


def _prepare(text: str) -> str:
    """Drop table rules and blank runs that portals' layouts add; keep line structure."""
    lines = []
    for line in text.replace("\r", "").split("\n"):
        line = line.replace("|", " ").replace("\u3000", " ").replace("\xa0", " ").strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def _find_labels(text: str) -> list[_Found]:
    regex, fields, _ = _label_regex()
    folded = _fold(text)
    found = []
    for match in regex.finditer(folded):
        field = fields[int(match.lastgroup[1:])]
        before = folded[max(0, match.start() - 5):match.start()]
        box = _CHECKBOX.search(before)
        checked = bool(_CHECKED.search(before)) if box else None
        found.append(_Found(field, match.start(), match.end(), checked))
    return found


def _clean_value(value: str) -> str:
    """A value without the next field's number or checkbox that the layout left at its end."""
    previous = None
    while value != previous:
        previous = value
        value = value.strip(" \n|•·")
        value = _TRAILING_NUMBER.sub("", value)
        value = re.sub(r"\[\s*[xX]?\s*\]\s*$", "", value)
    return value


def _sections(text: str) -> tuple[str, list[tuple[str, str, bool | None]]]:
    """The text before the first label, and (field, value, checked) for every label in order."""
    found = _find_labels(text)
    preamble = text[: found[0].start] if found else text
    sections = []
    for here, nxt in zip(found, [*found[1:], None]):
        value = text[here.end: nxt.start if nxt else len(text)]
        sections.append((here.field, _clean_value(value), here.checked))
    return _clean_value(_CHECKBOX.sub("", preamble)), sections


def _first(values: dict[str, list[str]], *fields: str) -> str:
    for field in fields:
        for value in values.get(field, []):
            if value:
                return value
    return ""


def _hs_codes(hs_value: str, products: str) -> list[str]:
    source = hs_value
    if not source:  # codes written inside the products text: "(HS: 02.01, 02.02)"
        source = "; ".join(m.group(1).strip() for m in _HS_CONTEXT.finditer(products))
    line_codes = _CODE_LINE.findall(source)  # "1101 - Wheat or meslin flour." lines
    if line_codes:
        codes = []
        for code in line_codes:
            try:
                codes.append(normalise_hs(code))
            except HSCodeError:
                continue
        return list(dict.fromkeys(codes))
    return find_hs_codes(source.replace("HS", " "))


def _objectives(value: str) -> list[str]:
    if _CHECKBOX.search(value):
        items = re.split(r"(?=\[\s*[xX✓√]?\s*\])", value)
        chosen = [_CHECKBOX.sub("", item) for item in items if _CHECKED.match(item.strip())]
    else:
        chosen = re.split(r"[;；。\n]|,\s*(?=[A-Z])", value)
    cleaned = [_AREA_SUFFIX.sub("", c).strip(" ,.，、") for c in chosen]
    return [c for c in cleaned if c and len(c) > 1]


def _pick_symbol(symbols: list[Symbol], member: str) -> Symbol | None:
    """The symbol of the notifying member when a page lists a joint notification's symbols."""
    if not symbols:
        return None
    known = default_members().find(member) if member else None
    if known:
        for symbol in symbols:
            if symbol.member_code == known.code:
                return symbol
    return symbols[0]


def _language(*texts: str) -> str:
    sample = "".join(texts)
    letters = sum(ch.isalpha() for ch in sample)
    if letters and len(_CJK.findall(sample)) / letters > 0.2:
        return "zh"
    return "en"


def _date_after_symbol(text: str, symbol: Symbol) -> dt.date | None:
    """The WTO document header puts the distribution date right after the symbol."""
    match = re.search(re.escape(str(symbol)).replace("/", r"\s*/\s*"), _fold(text), re.IGNORECASE)
    if not match:
        return None
    return parse_date(text[match.end(): match.end() + 24].split("\n(")[0])


def parse_notification_form(text: str, language: str | None = None,
                            distribution_date: dt.date | None = None) -> dict[str, Any]:
    """Notice fields read from a notification form's text, plus ``leftovers`` (form fields with no notice field).

    ``distribution_date`` (when the caller knows it from elsewhere) is used when
    the form gives none and to compute relative deadlines ("60 days from
    notification"). A form without any symbol raises ``FormError``.
    """
    prepared = _prepare(text)
    preamble, sections = _sections(prepared)
    values: dict[str, list[str]] = {}
    actions: dict[str, str] = {}
    for field, value, checked in sections:
        if field == "ignore":
            continue
        if field in CHECKBOX_FIELDS:
            if checked:
                actions[field] = value
            continue
        values.setdefault(field, []).append(value)

    symbols = find_symbols(_first(values, "symbol")) or find_symbols(prepared)
    member = _first(values, "member").split("\n")[0].strip()
    symbol = _pick_symbol(symbols, member)
    if symbol is None:
        raise FormError("no WTO notification symbol (G/TBT/N/... or G/SPS/N/...) in the form text")
    ordered = [symbol, *[s for s in symbols if s != symbol]]
    if len(find_symbols(_first(values, "symbol"))) < 2:  # other symbols in the text are references, not joint
        ordered = [symbol]

    dist = parse_date(_first(values, "distribution_date")) or _date_after_symbol(prepared, symbol)
    dist = dist or distribution_date
    products = _first(values, "products")
    title = _title(values, symbol)
    description = _first(values, "description")
    deadline_text = actions.get("comment_period_changed") or _first(values, "new_deadline", "comment_deadline")
    notice: dict[str, Any] = {
        "symbol": str(symbol),
        "symbols": [str(s) for s in ordered],
        "member": member,
        "distribution_date": dist,
        "title": title,
        "description": description,
        "products": products,
        "hs_codes": _hs_codes(" ".join(values.get("hs", [])), products),
        "ics_codes": find_ics_codes(" ".join(values.get("ics", [])) + " " + products),
        "objectives": _objectives(_first(values, "objectives")),
        "comment_deadline": deadline_from(deadline_text, dist),
        "adoption_date": date_text(actions.get("measure_adopted") or _first(values, "adoption_date")),
        "entry_into_force": date_text(actions.get("measure_in_force") or _first(values, "entry_into_force")),
        "language": language or _language(title, description, products),
        "urls": find_urls(" ".join([*values.get("texts_available", []), actions.get("final_text", ""),
                                       actions.get("content_changed", "")])),
    }
    mapped = {"symbol", "member", "distribution_date", "title", "description", "products", "hs", "ics",
              "objectives", "comment_deadline", "new_deadline", "adoption_date", "entry_into_force"}
    leftovers = {f: "\n".join(v for v in vs if v) for f, vs in values.items() if f not in mapped}
    leftovers.update({f"addendum_{f}": v or "[X]" for f, v in actions.items()})
    leftover_preamble = _unexplained_preamble(preamble)
    if leftover_preamble:
        leftovers["preamble"] = leftover_preamble
    notice["leftovers"] = {k: v for k, v in leftovers.items() if v}
    return notice


def _title(values: dict[str, list[str]], symbol: Symbol) -> str:
    """The document's title; a portal's "title" that is only the symbol ("G/TBT/N/X/1/Add.5(补遗)") is not one."""
    for candidate in values.get("title", []):
        first_block = candidate.split("\n页数")[0].split("\n語言")[0].strip()
        text = _TITLE_PAGES.sub("", " ".join(first_block.split()))
        if text and not (find_symbols(text) and len(re.sub(r"G/\S+|[()（）补遗]", "", text).strip()) < 3):
            return text
    return ""


def _unexplained_preamble(preamble: str) -> str:
    """Lines before the first label that are not the symbol, a date, a job number or the form's heading."""
    kept = []
    for line in preamble.split("\n"):
        line = line.strip()
        if not line or line in BOILERPLATE or find_symbols(line) or parse_date(line):
            continue
        if re.fullmatch(r"[\d\-\s()]+|以下通报根据.*|.*circulated at the request.*", line):
            continue
        kept.append(line)
    return "\n".join(kept)


class FormError(ValueError):
    """Text that is not a notification form (no symbol); the page is kept raw with this error."""

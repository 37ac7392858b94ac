"""The notice: one WTO TBT/SPS notification document, as every stage sees it.

The symbol is the natural key. Text fields hold the notice in ``language``; a
translation from another source (a Chinese portal's version of an English
notice) is kept in ``translations`` rather than overwriting the original, so the
digest can show the Chinese with the English beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tbtwatch.dates import parse_date
from tbtwatch.hs import normalise_hs
from tbtwatch.notice_dates import DATE_FIELDS, DateField, TextDates, dates_from_text
from tbtwatch.symbols import parse_symbol

Area = Literal["TBT", "SPS"]
Kind = Literal["regular", "addendum", "corrigendum", "revision", "supplement", "emergency"]
Language = Literal["en", "zh", "fr", "es"]

TEXT_FIELDS = ("title", "description", "products")
WTO_LANGUAGES = ("en", "fr", "es")  # the languages notifications are filed in; others are translations


# Longest text the model keeps per field, in characters (the longest real description is a few thousand).
# A crawled or imported value beyond its cap is cut there; the crawl keeps the raw page and the import the
# raw line, so nothing is lost. The caps bound every stage: the classifier joins one language's fields into
# one spaCy doc, at most three such languages share the "en" pipeline, and 3 x (2,000 + 20,000 + 200,000)
# stays under spaCy's default max_length of 1,000,000 (tests/foundation/test_model.py checks it).
TEXT_CAPS = {"title": 2_000, "products": 20_000, "description": 200_000, "member": 300, "adoption_date": 1_000,
             "entry_into_force": 1_000, "source": 100}
ONE_LINE_FIELDS = ("member", "adoption_date", "entry_into_force", "source")  # cleaned, on one line

# The validation context of a notice the archive wrote (``Notice.from_stored``): its JSON is the dump of a
# notice that passed every validator, and they are idempotent, so cleaning, symbol parsing and reading the
# dates from the text again would give the same values at several times the cost of reading the JSON.
_STORED = {"stored": True}


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context) and info.context.get("stored", False)


def over_caps(data: Any) -> list[str]:
    """The text fields of a raw record (translations included) longer than ``TEXT_CAPS``, as dotted names."""
    if not isinstance(data, dict):
        return []
    found = [name for name, cap in TEXT_CAPS.items() if isinstance(data.get(name), str) and len(data[name]) > cap]
    translations = data.get("translations")
    for lang, local in (translations.items() if isinstance(translations, dict) else ()):
        found += [f"translations.{lang}.{name}" for name in over_caps(local) if name in TEXT_CAPS]
    return found


def _capped(name: str, value: str) -> str:
    return value[: TEXT_CAPS[name]].rstrip()


_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x85": "\n"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")


def clean_text(value: Any) -> str:
    """Crawled text without control characters (NUL, BEL, ESC...) and with one kind of line break.

    Control characters have no meaning in a notice and can upset mail, terminals
    and XML; line separators become plain newlines.
    """
    if value is None:
        return ""
    return _CONTROL.sub("", str(value).replace("\r\n", "\n").translate(_LINE_BREAKS)).strip()


class LocalText(BaseModel):
    """Title, description and products in one language."""

    model_config = ConfigDict(extra="forbid")
    title: str = ""
    description: str = ""
    products: str = ""

    @field_validator("title", "description", "products", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str:
        return value if _stored(info) else _capped(info.field_name, clean_text(value))


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _lone_surrogate(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (key or value) holding a surrogate code point, else None."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _SURROGATE.search(key):
            return name
        found = _lone_surrogate(item, name)
        if found is not None:
            return found
    return None


def _today() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Notice(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    symbol: str
    area: Area | None = None
    kind: Kind | None = None
    base_symbol: str | None = None
    symbols: list[str] = Field(default_factory=list, description="all symbols of a joint notification")
    member: str = ""
    member_code: str = ""
    distribution_date: dt.date | None = None
    title: str = ""
    description: str = ""
    products: str = ""
    hs_codes: list[str] = Field(default_factory=list)
    ics_codes: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(default_factory=list)
    comment_deadline: dt.date | None = None
    adoption_date: str | None = None
    entry_into_force: str | None = None
    dates_read_from_text: list[DateField] = Field(
        default_factory=list, description="the date fields read from the notice's text, not given by its source")
    language: Language = "en"
    translations: dict[str, LocalText] = Field(default_factory=dict)
    urls: list[str] = Field(default_factory=list)
    source: str = ""
    fetched_at: dt.datetime = Field(default_factory=_today)

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any, info: ValidationInfo) -> Any:
        """Refuse a lone surrogate (JSON's ``"\\ud800"``): it is no character, and no store or file can encode it."""
        where = None if _stored(info) else _lone_surrogate(data)
        if where is not None:
            raise ValueError(f"{where or 'record'} holds a lone surrogate (half of a UTF-16 pair): "
                             "the source's text is damaged; fix its encoding")
        return data

    @model_validator(mode="before")
    @classmethod
    def _fold_single_url(cls, data: Any) -> Any:
        """Sources and the development set give one ``url``; the model keeps a list."""
        if isinstance(data, dict) and "url" in data:
            data = dict(data)
            url = data.pop("url")
            if url:
                data["urls"] = [url, *[u for u in data.get("urls", []) if u != url]]
        return data

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str, info: ValidationInfo) -> str:
        return value if _stored(info) else str(parse_symbol(value))

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return values if _stored(info) else list(dict.fromkeys(str(parse_symbol(v)) for v in values))

    @field_validator("hs_codes")
    @classmethod
    def _hs(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return values if _stored(info) else list(dict.fromkeys(normalise_hs(v) for v in values))

    @field_validator("title", "description", "products", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str:
        return value if _stored(info) else _capped(info.field_name, clean_text(value))

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator(*ONE_LINE_FIELDS, mode="before")
    @classmethod
    def _one_line(cls, value: Any, info: ValidationInfo) -> str | None:
        """Names, dates as notified and the source: cleaned like the texts, on one line (empty: absent)."""
        if value is None:
            return None if info.field_name in ("adoption_date", "entry_into_force") else ""
        if _stored(info):
            return value
        text = _capped(info.field_name, " ".join(clean_text(value).split()))
        return text or (None if info.field_name in ("adoption_date", "entry_into_force") else "")

    @field_validator("ics_codes", "objectives", "urls")
    @classmethod
    def _clean_list(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return values if _stored(info) else list(dict.fromkeys(clean_text(v) for v in values if v and clean_text(v)))

    @model_validator(mode="after")
    def _derive_from_symbol(self, info: ValidationInfo) -> "Notice":
        if _stored(info):
            return self
        parsed = parse_symbol(self.symbol)
        if not (self.title or self.description or self.products):
            raise ValueError("the notice has no title, description or products text")
        if self.area and self.area != parsed.area:
            raise ValueError(f"area {self.area} contradicts symbol {self.symbol}")
        self.area = parsed.area
        self.member_code = parsed.member_code or self.member_code
        # The symbol decides the kind; only an emergency (a property of the form) can refine a regular one.
        if not (self.kind == "emergency" and parsed.kind == "regular"):
            self.kind = parsed.kind  # type: ignore[assignment]
        self.base_symbol = str(parsed.base) if parsed.suffixes else None
        self.translations = dict(sorted(self.translations.items()))  # one order, one content hash
        if self.symbol not in self.symbols:
            self.symbols = [self.symbol, *self.symbols]
        return self

    @model_validator(mode="after")
    def _read_dates_from_text(self, info: ValidationInfo) -> "Notice":
        """Fill the dates the source left empty with those the notice's text states; a source's value stays.

        Here, in the model, so a crawl, ``tbtwatch import`` and any other way in
        read them alike. A value read from the text earlier is read again, since
        the text may have changed (a merge, a new translation); it is always what
        the present text says, and ``dates_read_from_text`` tells it apart.
        """
        if _stored(info):
            return self
        for name in self.dates_read_from_text:
            setattr(self, name, None)
        missing = tuple(name for name in DATE_FIELDS if getattr(self, name) in (None, ""))
        read = dates_from_text(self, missing) if missing else TextDates()
        self.dates_read_from_text = [name for name in missing if getattr(read, name) is not None]
        for name in self.dates_read_from_text:
            setattr(self, name, getattr(read, name))
        return self

    @classmethod
    def from_stored(cls, data: str | bytes | dict[str, Any]) -> "Notice":
        """The notice whose JSON a store wrote (``model_dump_json`` of a validated notice, as text or parsed):
        types are checked, the cleaning and derivations that made it are not run again. Other JSON goes
        through ``model_validate_json``."""
        if isinstance(data, dict):
            return cls.model_validate(data, context=_STORED)
        return cls.model_validate_json(data, context=_STORED)

    # -- derived views -------------------------------------------------
    def text(self, lang: str | None = None) -> LocalText:
        """The notice's text in ``lang`` if it has it, else in its own language."""
        if lang and lang != self.language and lang in self.translations:
            return self.translations[lang]
        # the notice's own fields are validated already: not cleaned again (an export asks for every row)
        return LocalText.model_construct(title=self.title, description=self.description, products=self.products)

    def all_text(self) -> str:
        """Every text field in every language, for search and classification."""
        parts = [self.title, self.products, self.description]
        for t in self.translations.values():
            parts.extend([t.title, t.products, t.description])
        return "\n".join(p for p in parts if p)

    @property
    def compliance_date(self) -> dt.date | None:
        """The day products must comply: the entry into force that an addendum adopting the measure reports.

        A draft's proposed entry into force is a plan; once an addendum says the
        measure is adopted or in force, its date of entry into force is the date
        exporters must meet, and readers (digest, alerts) show it first. It is a
        view of ``entry_into_force`` rather than a field of its own, so the date
        lives in one place and a JSON round trip of the notice stays exact. None
        for other notices and when the entry into force is not a full date.
        """
        if self.kind != "addendum" or not self.entry_into_force:
            return None
        return parse_date(self.entry_into_force)

    def is_open(self, today: dt.date) -> bool:
        return self.comment_deadline is not None and self.comment_deadline >= today

    def content_hash(self) -> str:
        """Hash of what was notified (not when it was fetched): an unchanged re-crawl is a no-op."""
        payload = self.model_dump_json(exclude={"fetched_at", "source"})  # field order is fixed by the model
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def merge_notice(existing: Notice, incoming: Notice) -> Notice:
    """Combine two versions of one symbol from different fetches or sources.

    A version in another language becomes a translation, except that the WTO's
    own text (English, French or Spanish) arriving after a portal's Chinese
    translation becomes the notice's text and the Chinese moves to the
    translations; the order in which sources report must not decide which text
    is the original. A version in the same language replaces the text.
    Structured fields take the incoming value where it has one and keep the
    existing value where it does not, so a sparse source (a feed entry) never
    erases what a rich one (the form) gave.
    """
    if existing.symbol != incoming.symbol:
        raise ValueError(f"cannot merge {incoming.symbol} into {existing.symbol}")
    merged = existing.model_dump()
    translations = {**existing.translations, **incoming.translations}
    skip: set[str] = set()
    if incoming.language != existing.language:
        if incoming.language in WTO_LANGUAGES and existing.language not in WTO_LANGUAGES:
            translations[existing.language] = existing.text()
        else:
            translations[incoming.language] = incoming.text()
            skip = set(TEXT_FIELDS) | {"language", "member"}  # the member's name stays in the original's language
    skip |= {*DATE_FIELDS, "dates_read_from_text"}
    for name, value in incoming.model_dump().items():
        if name in skip or name == "translations":
            continue
        if value not in (None, "", [], {}):
            if isinstance(value, list) and name in {"urls", "symbols", "hs_codes", "ics_codes", "objectives"}:
                value = list(dict.fromkeys([*merged.get(name, []), *value]))
            merged[name] = value
    merged["translations"] = {k: v for k, v in translations.items() if k != merged.get("language")}
    merged.update(_given_dates(existing, incoming))
    return Notice.model_validate(merged)


def _given_dates(existing: Notice, incoming: Notice) -> dict[str, Any]:
    """The date fields as sources gave them, the incoming value first; values read from a text are left out.

    The merged notice reads those again from the merged text, so a value read
    from one version's text never replaces a value another source gave.
    """
    given: dict[str, Any] = {"dates_read_from_text": []}
    for name in DATE_FIELDS:
        values = [getattr(n, name) for n in (incoming, existing) if name not in n.dates_read_from_text]
        given[name] = next((v for v in values if v not in (None, "")), None)
    return given


class NoticeError(ValueError):
    """A record that is not a valid notice; the message names the fields at fault."""


def notice_from_dict(data: dict[str, Any], *, ignore_unknown: bool = False) -> Notice:
    """Validate a dict as a notice, with an error message a person can act on."""
    if ignore_unknown:
        data = {k: v for k, v in data.items() if k in Notice.model_fields or k == "url"}
    try:
        return Notice.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "record"
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field (not part of the notice model)"
            problems.append(f"{where}: {message}")
        symbol = data.get("symbol", "?") if isinstance(data, dict) else "?"
        raise NoticeError(f"notice {symbol}: " + "; ".join(problems)) from None

"""Turning what a person typed (CLI options, CSV cells) into a valid ``Rule``, or saying what is wrong.

Every problem in one input is reported together ("HS code 8599: not in HS 2022;
member 'Atlantis': not a WTO member"), so a CSV row or a command is fixed in one go.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from alerts.rules import AREAS, FREQUENCIES, LANGUAGES, LEVELS, Rule, normalise_keyword
from tbtwatch.hs import HSCodeError, HSNomenclature, load_nomenclature, normalise_hs
from tbtwatch.members import MemberError, Members, load_members
from tbtwatch.settings import Settings

log = logging.getLogger(__name__)

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_LINE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Not on spaces: member names ("United States"), keywords ("lithium battery") and HS codes ("8507 60") have them.
_SPLIT = re.compile(r"[;,，；、]")


class SubscriptionError(ValueError):
    """Subscription input that cannot be accepted; the message lists each reason."""


def split_values(text: str | list[str] | None) -> list[str]:
    """Values from repeated options or one cell separated by ``;``, ``,`` or ``、``."""
    if text is None:
        return []
    items = text if isinstance(text, list) else [text]
    return [v.strip() for item in items for v in _SPLIT.split(item) if v.strip()]


def validate_email(address: str) -> str:
    """A plain address (no display name); the domain lower-cased. Control characters are refused outright."""
    address = (address or "").strip()
    if not _EMAIL.match(address) or len(address) > 254:
        raise SubscriptionError(f"email {address!r}: not a valid address (expected name@example.com)")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def validate_keyword(text: str) -> str:
    if any(unicodedata.category(c)[0] == "C" for c in text):
        raise SubscriptionError(f"keyword {text!r}: contains control characters")
    keyword = normalise_keyword(text)
    if not any(c.isalpha() for c in keyword):
        raise SubscriptionError(f"keyword {text!r}: needs at least one letter or Chinese character")
    if len(keyword) < 2 or len(keyword) > 60:
        raise SubscriptionError(f"keyword {text!r}: use 2 to 60 characters")
    return keyword


@lru_cache(maxsize=4)
def _load_catalogue(path: str, mtime_ns: int, nomenclature: HSNomenclature):
    """One parse of the catalogue per process and file version: it takes ~80 ms, and every sign-up,
    filter change and confirmation makes a Vocabulary (an edited file has a new mtime and is re-read)."""
    from nlp.catalogue import load_catalogue

    return load_catalogue(path, nomenclature)


@dataclass
class Vocabulary:
    """The reference lists subscription values are checked against, loaded once from the settings' paths."""

    settings: Settings

    @cached_property
    def members(self) -> Members:
        return load_members(str(self.settings.paths.members))

    @cached_property
    def nomenclature(self) -> HSNomenclature | None:
        path = self.settings.paths.hs_nomenclature
        if not path.exists():
            log.warning("HS nomenclature not found at %s: HS codes are checked for form only", path)
            return None
        return load_nomenclature(str(path))

    @cached_property
    def catalogue(self):
        """The product catalogue (``nlp.catalogue``), or None when it cannot be loaded."""
        if self.nomenclature is None:
            return None
        path = self.settings.paths.catalogue
        try:
            return _load_catalogue(str(path), path.stat().st_mtime_ns, self.nomenclature)
        except (ImportError, OSError, ValueError) as exc:
            log.warning("product catalogue not available (%s): product lines are known by id only", exc)
            return None

    @cached_property
    def line_names(self) -> dict[str, tuple[str, str]] | None:
        """Catalogue line id -> (Chinese name, English name); None when the catalogue is not available."""
        if self.catalogue is None:
            return None
        return {line.id: (line.name_zh, line.name_en) for line in self.catalogue.lines}

    @property
    def product_lines(self) -> set[str] | None:
        return None if self.line_names is None else set(self.line_names)

    def hs(self, text: str) -> str:
        try:
            code = normalise_hs(text)
        except HSCodeError as exc:
            raise SubscriptionError(f"HS code {text!r}: {exc}") from None
        if self.nomenclature is not None and code not in self.nomenclature and code[:2] not in {"98", "99"}:
            raise SubscriptionError(
                f"HS code {text!r}: {code} is not a chapter, heading or subheading of HS 2022"
            )
        return code

    def member(self, text: str) -> str:
        try:
            return self.members.resolve(text).code
        except MemberError as exc:
            raise SubscriptionError(f"member {text!r}: {exc}") from None

    def product_line(self, text: str) -> str:
        line_id = text.strip().lower()
        known = self.product_lines
        if (known is not None and line_id not in known) or (known is None and not _LINE_ID.match(line_id)):
            choices = f"; known lines: {', '.join(sorted(known))}" if known else ""
            raise SubscriptionError(f"product line {text!r}: not in the product catalogue{choices}")
        return line_id

    def exclusion(self, *, hs=None, keywords=None, product_lines=None) -> Rule | None:
        """The exclude rule (HS prefixes, keywords, product lines that veto a match), or None when empty."""
        rule = self.rule(hs=hs, keywords=keywords, product_lines=product_lines)
        return rule if rule.has_topic else None

    def rule(
        self,
        *,
        hs=None,
        product_lines=None,
        keywords=None,
        members=None,
        areas=None,
        min_level: str | None = None,
    ) -> Rule:
        """A rule from raw values; ``SubscriptionError`` lists every invalid value."""
        problems: list[str] = []

        def each(values, check) -> list[str]:
            good = []
            for value in split_values(values):
                try:
                    good.append(check(value))
                except SubscriptionError as exc:
                    problems.append(str(exc))
            return list(dict.fromkeys(good))

        def area(value: str) -> str:
            if value.upper() not in AREAS:
                raise SubscriptionError(f"area {value!r}: use TBT or SPS")
            return value.upper()

        rule = Rule(
            hs=each(hs, self.hs),
            product_lines=each(product_lines, self.product_line),
            keywords=each(keywords, validate_keyword),
            members=each(members, self.member),
            areas=each(areas, area),
            min_level=(min_level or "none").strip().lower(),
        )
        if rule.min_level not in LEVELS:
            problems.append(f"level {min_level!r}: use one of {', '.join(LEVELS)}")
        if problems:
            raise SubscriptionError("; ".join(problems))
        return rule


def validate_filter_name(text: str | None) -> str:
    """A filter's name as the reader gave it ("EU batteries", "海湾电子烟"): one line, 1 to 60 characters."""
    name = " ".join((text or "").split())
    if any(unicodedata.category(c)[0] == "C" for c in text or "" if c not in "\t\r\n"):
        raise SubscriptionError(f"filter name {text!r}: contains control characters")
    if not 1 <= len(name) <= 60:
        raise SubscriptionError(f"filter name {text!r}: use 1 to 60 characters")
    return name


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    value = (value or "").strip().lower()
    if value not in choices:
        raise SubscriptionError(f"{name} {value!r}: use one of {', '.join(choices)}")
    return value


def check_language(value: str) -> str:
    return check_choice("language", value, LANGUAGES)


def check_frequency(value: str) -> str:
    return check_choice("frequency", value, FREQUENCIES)

"""WTO members: the code used in symbols, English and Chinese names, aliases and market weight.

Portals name members in Chinese (美国, 欧盟, 台澎金马单独关税区) or English (Kenya,
European Union); symbols use codes (USA, EU, TPKM). The table is data
(``config/members.yaml``) so the working group can correct a name or a weight.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tbtwatch.configfile import ConfigError, read_yaml


class MemberError(ValueError):
    """A name or code that is not a known WTO member."""


@dataclass(frozen=True, slots=True)
class Member:
    code: str
    name_en: str
    name_zh: str
    weight: float = 0.5
    groups: tuple[str, ...] = ()

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" and self.name_zh else self.name_en


def _fold(text: str) -> str:
    """Full-width to half-width, accents dropped: ``Côte d’Ivoire`` and ``Cote d'Ivoire`` compare equal."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(text: str) -> str:
    """Lookup key: case, spacing, punctuation and accents do not distinguish two member names."""
    return "".join(c for c in _fold(text).casefold()
                   if not c.isspace() and not unicodedata.category(c).startswith("P"))


def _is_cjk(label: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in label)


def _label_pattern(label: str) -> str:
    """A Chinese name matches anywhere; a Latin name only as whole words, an acronym (USA, UK) only in capitals."""
    body = r"\s*".join(re.escape(part) for part in _fold(label).split())
    if _is_cjk(label):
        return body
    bounded = rf"(?<![A-Za-z]){body}(?![A-Za-z])"
    return bounded if label.isupper() else f"(?i:{bounded})"


def _name_clash(label: str, code: str, other: str) -> MemberError:
    return MemberError(f"name {label!r} is given to both {code} and {other}; "
                       "remove it from one of them (config/members.yaml)")


class Members:
    """The members table; a name, alias or code that points at two members is refused at load."""

    def __init__(self, members: list[Member], aliases: dict[str, str]):
        self._by_code: dict[str, Member] = {}
        for m in members:
            if m.code in self._by_code:
                raise MemberError(f"member code {m.code} is listed twice; keep one entry (config/members.yaml)")
            if not 0.0 <= m.weight <= 1.0:
                raise MemberError(f"member {m.code}: weight {m.weight} is outside [0, 1] (config/members.yaml)")
            self._by_code[m.code] = m
        self._lookup: dict[str, str] = {}
        named = [(label, m.code) for m in members for label in (m.code, m.name_en, m.name_zh) if label]
        for label, code in [*named, *aliases.items()]:
            key = _key(label)
            if self._lookup.get(key, code) != code:
                raise _name_clash(label, self._lookup[key], code)
            self._lookup[key] = code
        self._labels = [label for label, _ in [*named, *aliases.items()]]
        self._finder: re.Pattern[str] | None = None

    @classmethod
    def load(cls, path: Path) -> Members:
        fix = "fix the file (config/members.yaml in the repository shows the form), or set paths.members"
        data = read_yaml(path, fix)
        if not isinstance(data, dict) or not data.get("members"):
            raise ConfigError(path, "no members (the file is empty or has no 'members:' list of entries)", fix)
        members: list[Member] = []
        aliases: dict[str, str] = {}
        for i, entry in enumerate(data.get("members", [])):
            try:
                code = str(entry["code"]).upper()
                members.append(Member(code, entry["en"], entry.get("zh", ""), float(entry.get("weight", 0.5)),
                                      tuple(entry.get("groups", []))))
            except (KeyError, TypeError, ValueError) as exc:
                raise MemberError(f"{path}: member entry #{i + 1} ({entry!r}) is not usable ({exc!r}): "
                                  "each entry needs code and en, and weight must be a number") from exc
            for alias in entry.get("aliases", []) or []:
                if aliases.get(str(alias), code) != code:
                    raise _name_clash(str(alias), aliases[str(alias)], code)
                aliases[str(alias)] = code
        return cls(members, aliases)

    def __iter__(self):
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Member | None:
        return self._by_code.get(code.upper())

    def resolve(self, text: str) -> Member:
        """The member a code, English name, Chinese name or alias stands for."""
        code = self._lookup.get(_key(text or ""))
        if code is None:
            raise MemberError(f"{text!r} is not a known WTO member code or name (see config/members.yaml)")
        return self._by_code[code]

    def find(self, text: str) -> Member | None:
        try:
            return self.resolve(text)
        except MemberError:
            return None

    def find_all(self, text: str) -> list[Member]:
        """Every member named in a text, in order of first mention, without repeats.

        For joint notices whose member field lists several members
        (``阿拉伯联合酋长国、巴林王国、科威特国、...``). The longest name wins where
        names overlap (印度尼西亚 is not 印度, Papua New Guinea is not Guinea).
        """
        if self._finder is None:
            labels = sorted(set(self._labels), key=lambda label: len(_fold(label)), reverse=True)
            self._finder = re.compile("|".join(_label_pattern(label) for label in labels))
        found: dict[str, Member] = {}
        for match in self._finder.finditer(_fold(text or "")):
            code = self._lookup[_key(match.group(0))]
            found.setdefault(code, self._by_code[code])
        return list(found.values())


@lru_cache(maxsize=4)
def load_members(path: str) -> Members:
    return Members.load(Path(path))


def default_members() -> Members:
    from tbtwatch.settings import get_settings

    return load_members(str(get_settings().paths.members))

"""WTO members: the code used in symbols, English and Chinese names, aliases and market weight.

Portals name members in Chinese (美国, 欧盟, 台澎金马单独关税区) or English (Kenya,
European Union); symbols use codes (USA, EU, TPKM). The table is data
(``config/members.yaml``) so the working group can correct a name or a weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml


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


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


class Members:
    def __init__(self, members: list[Member], aliases: dict[str, str]):
        self._by_code = {m.code: m for m in members}
        self._lookup: dict[str, str] = {}
        for m in members:
            for label in (m.code, m.name_en, m.name_zh):
                if label:
                    self._lookup[_key(label)] = m.code
        for alias, code in aliases.items():
            self._lookup[_key(alias)] = code

    @classmethod
    def load(cls, path: Path) -> "Members":
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise MemberError(f"members file not found: {path} (set paths.members in config/settings.toml)") from exc
        except yaml.YAMLError as exc:
            raise MemberError(f"{path}: malformed YAML: {exc}") from exc
        members: list[Member] = []
        aliases: dict[str, str] = {}
        for i, entry in enumerate(data.get("members", [])):
            try:
                code = str(entry["code"]).upper()
                members.append(Member(code, entry["en"], entry.get("zh", ""), float(entry.get("weight", 0.5)),
                                      tuple(entry.get("groups", []))))
            except (KeyError, TypeError, ValueError) as exc:
                raise MemberError(f"{path}: member entry #{i + 1} ({entry!r}) needs code and en: {exc}") from exc
            for alias in entry.get("aliases", []) or []:
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


@lru_cache(maxsize=4)
def load_members(path: str) -> Members:
    return Members.load(Path(path))


def default_members() -> Members:
    from tbtwatch.settings import get_settings

    return load_members(str(get_settings().paths.members))

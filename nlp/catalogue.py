"""The export catalogue: Shenzhen's product lines, with HS prefixes and terms, loaded from YAML.

The catalogue is data (``config/catalogue/shenzhen.yaml``) that the working group
edits, so the loader checks every entry and reports all problems at once, each
with the entry's id and line, instead of failing on the first or silently
ignoring a line whose HS code is mistyped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tbtwatch.configfile import read_text
from tbtwatch.hs import HSNomenclature, load_nomenclature

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; ``problems`` lists each bad entry with its line."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s) in the catalogue:\n  " + "\n  ".join(problems)
                         + "\nFix these entries (see the comment at the top of the file for the expected form).")


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One export product line: what it is called, which HS codes it covers, how notices name it."""

    id: str
    name_en: str
    name_zh: str
    hs: tuple[str, ...]
    terms_en: tuple[str, ...]
    terms_zh: tuple[str, ...]
    weight: float
    line: int = 0

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def hs_overlap(self, code: str) -> str | None:
        """The line's prefix that ``code`` falls under (or, for a broad code, lies under ``code``)."""
        for prefix in self.hs:
            if code.startswith(prefix) or prefix.startswith(code):
                return prefix
        return None

    def covers(self, code: str) -> bool:
        """True when ``code`` is at least as specific as one of the line's prefixes and under it."""
        return any(code.startswith(prefix) for prefix in self.hs)


@dataclass(frozen=True)
class Catalogue:
    lines: tuple[ProductLine, ...]
    path: Path | None = None
    _by_id: dict[str, ProductLine] = field(default_factory=dict, repr=False, compare=False)
    _by_code: dict[str, list[tuple[ProductLine, str]]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({line.id: line for line in self.lines})

    def __iter__(self):
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def __contains__(self, line_id: str) -> bool:
        return line_id in self._by_id

    @property
    def ids(self) -> list[str]:
        return [line.id for line in self.lines]

    def get(self, line_id: str) -> ProductLine | None:
        return self._by_id.get(line_id)

    def lines_for_code(self, code: str) -> list[tuple[ProductLine, str]]:
        """Lines whose HS prefixes overlap ``code``, with the overlapping prefix (memoised: codes repeat)."""
        found = self._by_code.get(code)
        if found is None:
            found = self._by_code[code] = [(line, p) for line in self.lines if (p := line.hs_overlap(code))]
        return found


def _entry_lines(text: str) -> list[int]:
    """The 1-based line of each entry under ``lines:``, in order (for error messages)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "lines" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _terms(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    raw = entry.get(key)
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: {key} is empty; give at least one term")
        return ()
    terms = []
    for term in raw:
        text = " ".join(str(term if term is not None else "").split())
        if not text:
            problems.append(f"{where}: {key} has an empty term")
        else:
            terms.append(text)
    return tuple(dict.fromkeys(terms))


def _hs(entry: dict[str, Any], where: str, nomenclature: HSNomenclature, problems: list[str]) -> tuple[str, ...]:
    raw = entry.get("hs")
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: hs is empty; give the HS 2022 codes or prefixes the line covers")
        return ()
    codes = []
    for code in raw:
        text = str(code).strip()
        if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", text):
            problems.append(f"{where}: HS code {text!r} must be 2, 4 or 6 digits (quote it: \"0101\")")
        elif text not in nomenclature:
            problems.append(f"{where}: unknown HS code {text} (not in the HS 2022 nomenclature)")
        else:
            codes.append(text)
    return tuple(dict.fromkeys(codes))


def parse_catalogue(text: str, path: Path, nomenclature: HSNomenclature) -> Catalogue:
    """Validate catalogue YAML; raise ``CatalogueError`` listing every bad entry by id and line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(path, [f"malformed YAML: {exc}"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list) or not data["lines"]:
        raise CatalogueError(path, ["the file needs a top-level 'lines:' list of product lines"])
    positions = _entry_lines(text)
    problems: list[str] = []
    lines: list[ProductLine] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data["lines"]):
        line_no = positions[index] if index < len(positions) else 0
        if not isinstance(entry, dict):
            problems.append(f"line {line_no}: entry #{index + 1} is not a mapping (id, name_en, ...)")
            continue
        line_id = str(entry.get("id") or "").strip()
        where = f"line {line_no}: {line_id or f'entry #{index + 1}'}"
        if not _ID.match(line_id):
            problems.append(f"{where}: id must be lower-case letters, digits and underscores")
        elif line_id in seen:
            problems.append(f"{where}: duplicate id (first used at line {seen[line_id]})")
        else:
            seen[line_id] = line_no
        names = {k: str(entry.get(k) or "").strip() for k in ("name_en", "name_zh")}
        for key, value in names.items():
            if not value:
                problems.append(f"{where}: {key} is empty")
        try:
            weight = float(entry.get("weight", 0.5))
            if not 0.0 <= weight <= 1.0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"{where}: weight {entry.get('weight')!r} must be a number from 0 to 1")
            weight = 0.5
        unknown = set(entry) - {"id", "name_en", "name_zh", "hs", "terms_en", "terms_zh", "weight"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        lines.append(ProductLine(
            id=line_id, name_en=names["name_en"], name_zh=names["name_zh"],
            hs=_hs(entry, where, nomenclature, problems),
            terms_en=_terms(entry, "terms_en", where, problems), terms_zh=_terms(entry, "terms_zh", where, problems),
            weight=weight, line=line_no))
    if problems:
        raise CatalogueError(path, problems)
    return Catalogue(tuple(lines), path)


FIX = "fix the file (save it as UTF-8 text), or set paths.catalogue in config/settings.toml"


def load_catalogue(path: str | Path | None = None, nomenclature: HSNomenclature | None = None) -> Catalogue:
    """Load and validate the catalogue (default: ``paths.catalogue`` from the settings).

    ``path`` may also be a folder: every ``*.yaml`` file in it that has a ``lines:``
    list is read, so a large catalogue can be split by sector.
    """
    from tbtwatch.settings import get_settings

    settings = get_settings()
    path = Path(path) if path else settings.paths.catalogue
    nomenclature = nomenclature or load_nomenclature(str(settings.paths.hs_nomenclature))
    if path.is_dir():
        files = [f for f in sorted(path.glob("*.yaml")) if re.search(r"^lines:", read_text(f, FIX), re.M)]
        if not files:
            raise CatalogueError(path, ["the folder has no YAML file with a 'lines:' list"])
        parts = [parse_catalogue(read_text(f, FIX), f, nomenclature) for f in files]
        merged = [line for part in parts for line in part.lines]
        duplicates = sorted({line.id for line in merged if sum(1 for m in merged if m.id == line.id) > 1})
        if duplicates:
            raise CatalogueError(path, [f"duplicate id {d} across files" for d in duplicates])
        return Catalogue(tuple(merged), path)
    if not path.exists():
        raise CatalogueError(path, ["file not found; set paths.catalogue in config/settings.toml or pass --catalogue"])
    return parse_catalogue(read_text(path, FIX), path, nomenclature)

"""Why an assessment says what it says, in English and Chinese from one list.

The level rules and the classifier state each reason once, as a code with
parameters (``Reason("product_line", {"line": Named("Toys", "玩具"), "score": 1.0,
...})``). The wording is data: ``config/catalogue/reasons.yaml`` holds an English and
a Chinese template per code and the labels of coded values (measure types, notice
kinds, levels), so both languages always give the same reasons in the same order and
the working group can reword them without touching code.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import yaml

LANGUAGES = ("en", "zh")

# Every reason code the stage produces, with the parameters its templates may use.
REASON_PARAMS: dict[str, frozenset[str]] = {code: frozenset(params) for code, params in {
    "no_match": (),
    "product_line": ("line", "score", "exposure"),
    "also_matches": ("lines",),
    "measure": ("measure",),
    "measure_cue": ("measure", "cue"),
    "kind": ("kind",),
    "market": ("member", "weight"),
    "domestic": ("member",),
    "market_unknown": ("member", "weight"),
    "deadline_unknown": (),
    "deadline_closed": ("date", "days"),
    "deadline_urgent": ("date", "days"),
    "deadline_open": ("date", "days"),
    "score": ("score", "level"),
    "excluded": ("lines", "text"),
}.items()}


# Parameters whose value is said differently per language: a label key, a ``Named``, or a list of ``Named``.
_LOCALISED: dict[str, tuple[str, ...]] = {code: tuple(p for p in sorted(params) if p in {
    "line", "lines", "member", "measure", "kind", "level"}) for code, params in REASON_PARAMS.items()}


class Named(NamedTuple):
    """Something with a name in both languages (a product line, a member); Chinese falls back to English."""

    en: str
    zh: str = ""

    def name(self, lang: str) -> str:
        return (self.zh or self.en) if lang == "zh" else self.en


class Count(int):
    """A number of things: the format spec ``one|other`` adds the unit ("{days:day|days}" -> "1 day", "3 days")."""

    def __format__(self, spec: str) -> str:
        if "|" in spec:
            one, other = spec.split("|", 1)
            return f"{int(self)} {one if self == 1 else other}"
        return int.__format__(self, spec)


class Reason(NamedTuple):
    code: str
    params: Mapping[str, Any]


class ReasonTexts:
    """The templates and labels of ``reasons.yaml``, checked at load so a typo fails at start, not per notice."""

    def __init__(self, templates: dict[str, dict[str, str]], labels: dict[str, dict[str, dict[str, str]]],
                 separators: dict[str, str], path: Path | None = None):
        self.templates = templates
        self.labels = labels
        self.separators = separators
        self.path = path

    @classmethod
    def load(cls, path: Path) -> ReasonTexts:
        """Read and check the file; ``ValueError`` lists every problem with the file's path."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: the reason texts file is missing; restore "
                                    "config/catalogue/reasons.yaml or put one beside the catalogue") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: malformed YAML: {exc}") from None
        problems: list[str] = []
        templates = data.get("templates") or {}
        labels = data.get("labels") or {}
        separators = data.get("list_separator") or {}
        for code in sorted(set(REASON_PARAMS) - set(templates)):
            problems.append(f"templates: reason {code!r} has no texts")
        for code, texts in templates.items():
            if code not in REASON_PARAMS:
                problems.append(f"templates: unknown reason {code!r} (known: {', '.join(REASON_PARAMS)})")
                continue
            for lang in LANGUAGES:
                text = (texts or {}).get(lang)
                if not isinstance(text, str) or not text.strip():
                    problems.append(f"templates: {code}.{lang} is missing")
                    continue
                try:
                    fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
                except ValueError as exc:
                    problems.append(f"templates: {code}.{lang}: {exc}")
                    continue
                for name in sorted(fields - REASON_PARAMS[code]):
                    problems.append(f"templates: {code}.{lang} uses {{{name}}}, which reason {code!r} does not give "
                                    f"(it gives: {', '.join(sorted(REASON_PARAMS[code])) or 'nothing'})")
        for name, values in labels.items():
            for value, texts in (values or {}).items():
                for lang in LANGUAGES:
                    if not isinstance((texts or {}).get(lang), str):
                        problems.append(f"labels: {name}.{value}.{lang} is missing")
        for lang in LANGUAGES:
            if not isinstance(separators.get(lang), str):
                problems.append(f"list_separator: {lang} is missing")
        if problems:
            raise ValueError(f"{path}: {len(problems)} problem(s) in the reason texts:\n  " + "\n  ".join(problems))
        return cls(templates, labels, separators, path)

    def require_labels(self, name: str, values: Iterable[str]) -> None:
        """Fail at start when a coded value the rules can produce has no label (a measure type added to levels.yaml)."""
        missing = [v for v in values if v not in self.labels.get(name, {})]
        if missing:
            raise ValueError(f"{self.path}: labels: {name} has no texts for {', '.join(missing)}; add them "
                             f"with en and zh")

    def render(self, reasons: Sequence[Reason], lang: str) -> list[str]:
        templates, labels, separator = self._compiled[lang]
        out = []
        for code, params in reasons:
            if not params:
                out.append(templates[code])
                continue
            values = dict(params)
            for name in _LOCALISED[code]:
                value = values[name]
                if name in labels:
                    values[name] = labels[name][value]
                elif isinstance(value, Named):
                    values[name] = value.name(lang)
                else:
                    values[name] = separator.join(v.name(lang) for v in value)
            out.append(templates[code].format_map(values))
        return out

    @cached_property
    def _compiled(self) -> dict[str, tuple[dict[str, str], dict[str, dict[str, str]], str]]:
        """Per language: the templates, the labels and the list separator (looked up once, not per reason)."""
        return {lang: ({code: texts[lang] if REASON_PARAMS[code] else texts[lang].format_map({})
                        for code, texts in self.templates.items()},
                       {name: {value: texts[lang] for value, texts in values.items()}
                        for name, values in self.labels.items()},
                       self.separators[lang])
                for lang in LANGUAGES}

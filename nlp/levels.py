"""The warning level: how urgently Shenzhen's exporters should look at a relevant notice.

One score, the product of factors read from ``config/catalogue/levels.yaml``: how
strongly the notice matches a product line (times the line's export exposure),
what kind of measure it is, how much the notifying member weighs as a market,
what kind of notice it is (a new notification or an addendum that only extends a
deadline) and how many days are left to comment. Each factor becomes a reason, so
the working group can see why a notice is "high" and correct the rules.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlp.assessment import LineMatch
from nlp.catalogue import Catalogue
from nlp.reasons import Count, Named, Reason
from tbtwatch.model import Notice

LEVELS = ("high", "medium", "low", "none")


@dataclass
class LevelRules:
    thresholds: dict[str, float] = field(default_factory=lambda: {"high": 0.6, "medium": 0.3})
    relevance_threshold: float = 0.5
    exposure_floor: float = 0.5
    matching: dict[str, float] = field(default_factory=lambda: {
        "title": 1.0, "products": 1.0, "description": 0.7, "hs_code": 1.0, "hs_broad": 0.4,
        "class_title": 0.4, "inferred_top": 3, "inferred_min_score": 0.4, "inferred_factor": 0.8})
    measure: dict[str, float] = field(default_factory=lambda: {
        "mandatory_regulation": 1.0, "conformity_assessment": 0.9, "sps_measure": 0.6, "voluntary_standard": 0.5})
    measure_cues: dict[str, list[str]] = field(default_factory=dict)
    kind: dict[str, float] = field(default_factory=lambda: {
        "regular": 1.0, "revision": 1.0, "emergency": 1.0, "supplement": 0.7, "addendum": 0.6,
        "addendum_deadline_only": 0.3, "corrigendum": 0.4})
    deadline_extension_cues: list[str] = field(default_factory=list)
    member_unknown_weight: float = 0.3
    member_floor: float = 0.3
    deadline: dict[str, float] = field(default_factory=lambda: {
        "urgent_days": 14, "urgent": 1.0, "open": 0.9, "unknown": 0.8, "closed": 0.5})

    @classmethod
    def load(cls, path: Path) -> "LevelRules":
        """Read the rules; a missing file means the defaults above."""
        try:
            data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            return cls()
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: malformed YAML: {exc}") from None
        rules = cls()
        for key, value in data.items():
            if key not in rules.__dataclass_fields__:
                raise ValueError(f"{path}: unknown key {key!r} (known: {', '.join(rules.__dataclass_fields__)})")
            current = getattr(rules, key)
            if isinstance(current, dict):
                value = {**current, **value}
            setattr(rules, key, value)
        for measure in rules.measure_cues:
            if measure not in rules.measure:
                raise ValueError(f"{path}: measure_cues has {measure!r}, which is not a measure type")
        return rules

    def __post_init__(self) -> None:
        self._compiled: dict[str, re.Pattern[str] | None] = {}

    def _cue(self, name: str, cues: list[str]) -> re.Pattern[str] | None:
        """One regex per cue list (lower case), built on first use: a notice is checked in one scan."""
        if name not in self._compiled:
            ordered = sorted({c.lower() for c in cues}, key=len, reverse=True)
            self._compiled[name] = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        return self._compiled[name]

    # -- the factors -------------------------------------------------------------------
    def measure_type(self, notice: Notice) -> tuple[str, str]:
        """(measure type, the cue in the text that decided it; "" when the area or the default decided)."""
        if notice.area == "SPS":
            return "sps_measure", ""
        text = _notice_words(notice)
        for measure in ("conformity_assessment", "voluntary_standard"):
            pattern = self._cue(measure, self.measure_cues.get(measure, []))
            found = pattern.search(text) if pattern else None
            if found:
                return measure, found.group(0)
        return "mandatory_regulation", ""

    def notice_kind(self, notice: Notice) -> str:
        kind = notice.kind or "regular"
        if kind == "addendum":
            pattern = self._cue("deadline_extension", self.deadline_extension_cues)
            if pattern and pattern.search(_notice_words(notice)):
                return "addendum_deadline_only"
        return kind

    def deadline_factor(self, deadline: dt.date | None, today: dt.date) -> tuple[float, Reason]:
        if deadline is None:
            return self.deadline["unknown"], Reason("deadline_unknown", {})
        days = (deadline - today).days
        if days < 0:
            return self.deadline["closed"], Reason("deadline_closed", {"date": deadline.isoformat(), "days": Count(-days)})
        code = "deadline_urgent" if days <= self.deadline["urgent_days"] else "deadline_open"
        return self.deadline[code.removeprefix("deadline_")], Reason(code, {"date": deadline.isoformat(),
                                                                             "days": Count(days)})

    def strength(self, match: LineMatch, catalogue: Catalogue) -> float:
        """How much a matched line weighs: its match score scaled by Shenzhen's export exposure to it."""
        return match.score * self.exposure(match.id, catalogue)

    def exposure(self, line_id: str, catalogue: Catalogue) -> float:
        """The factor a line's match score is scaled by, from Shenzhen's export exposure to the line."""
        line = catalogue.get(line_id)
        weight = line.weight if line else 0.5
        return self.exposure_floor + (1 - self.exposure_floor) * weight

    def decide(self, notice: Notice, lines: list[LineMatch], catalogue: Catalogue, member: Named,
               member_weight: float | None, today: dt.date) -> tuple[str, list[Reason], str]:
        """(level, reasons, measure type) for a notice and its matched product lines.

        ``member`` names the notifying member; ``member_weight`` is None when
        config/members.yaml does not know it. The measure type of a notice that
        matches nothing is not worked out ("").
        """
        relevant = [m for m in lines if m.score >= self.relevance_threshold]
        if not relevant:
            return "none", [Reason("no_match", {})], ""
        measure, cue = self.measure_type(notice)
        best = max(relevant, key=lambda m: self.strength(m, catalogue))
        line = catalogue.get(best.id)
        reasons = [Reason("product_line", {"line": line_name(catalogue, best.id), "score": best.score,
                                           "exposure": line.weight if line else 0.5})]
        if len(relevant) > 1:
            reasons.append(Reason("also_matches", {"lines": [line_name(catalogue, m.id) for m in relevant
                                                             if m is not best]}))
        reasons.append(Reason("measure_cue", {"measure": measure, "cue": cue}) if cue
                       else Reason("measure", {"measure": measure}))
        kind = self.notice_kind(notice)
        reasons.append(Reason("kind", {"kind": kind}))
        known = member_weight is not None
        weight = member_weight if known else self.member_unknown_weight
        reasons.append(Reason("market" if known else "market_unknown", {"member": member, "weight": weight}))
        deadline, deadline_reason = self.deadline_factor(notice.comment_deadline, today)
        reasons.append(deadline_reason)
        score = (self.strength(best, catalogue) * self.measure[measure] * self.kind.get(kind, 1.0)
                 * (self.member_floor + (1 - self.member_floor) * weight) * deadline)
        level = ("high" if score >= self.thresholds["high"] else
                 "medium" if score >= self.thresholds["medium"] else "low")
        reasons.append(Reason("score", {"score": score, "level": level}))
        return level, reasons, measure


def line_name(catalogue: Catalogue, line_id: str) -> Named:
    """A product line's names (its id when the catalogue no longer has it)."""
    line = catalogue.get(line_id)
    return Named(line.name_en, line.name_zh) if line else Named(line_id)


def _notice_words(notice: Notice) -> str:
    parts = [notice.title, notice.description, *notice.objectives]
    for text in notice.translations.values():
        parts += [text.title, text.description]
    return "\n".join(parts).lower()

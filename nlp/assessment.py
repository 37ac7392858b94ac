"""The assessment: what the classifier says about one notice, with the evidence for it.

The small records made for every match of every notice (``Evidence``, ``LineMatch``,
and ``CodeMention`` / ``TermMatch`` in the components) are NamedTuples: immutable like
frozen dataclasses, but made in a third of the time, which shows at thousands of
notices a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Evidence(NamedTuple):
    """Where a product line was found: a notice field ("products", "translations.en.title",
    "hs_codes", "hs_inferred") and the text there."""

    field: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "text": self.text}


class LineMatch(NamedTuple):
    id: str
    score: float
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "evidence": [e.to_dict() for e in self.evidence]}


@dataclass(frozen=True)
class Assessment:
    symbol: str
    hs_given: list[str]
    hs_inferred: list[tuple[str, float]]
    product_lines: list[LineMatch]
    relevant: bool
    level: str
    reasons: list[str]
    reasons_zh: list[str]
    assessed_on: dt.date
    notice_hash: str
    measure_type: str = ""
    excluded_terms: list[str] = field(default_factory=list)
    hs_shown: list[str] = field(default_factory=list)  # the inferred headings confident enough for readers
    domestic: bool = False  # notified by one of our own members (settings: analysis.own_members)

    def to_dict(self) -> dict[str, Any]:
        """The ``tbtwatch classify`` output record (the shape the store and alerts read)."""
        return {
            "symbol": self.symbol,
            "hs_given": list(self.hs_given),
            "hs_inferred": [{"code": c, "score": s, "shown": c in self.hs_shown} for c, s in self.hs_inferred],
            "product_lines": [m.to_dict() for m in self.product_lines],
            "relevant": self.relevant,
            "domestic": self.domestic,
            "level": self.level,
            "reasons": list(self.reasons),
            "reasons_zh": list(self.reasons_zh),
            "assessed_on": self.assessed_on.isoformat(),
            "notice_hash": self.notice_hash,
        }

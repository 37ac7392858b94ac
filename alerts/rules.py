"""What a subscriber asked for, and whether a notice meets it, with the evidence.

A subscriber holds one or more named ``Filter``s; a filter has one include
``Rule`` and any number of exclude rules. Within a rule, the topic criteria (HS
prefixes, product lines, keywords) are alternatives, and the member, area and
minimum warning level narrow them: "batteries or HS 8507, from the EU or the
USA, medium level or above". A rule with no topic criteria follows everything
its narrowing criteria let through.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from tbtwatch.model import Notice

LEVELS = ("none", "low", "medium", "high")
AREAS = ("TBT", "SPS")
LANGUAGES = ("zh", "en", "both")
FREQUENCIES = ("immediate", "daily", "weekly")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^\w\u3400-\u9fff]+")


DEFAULT_FILTER = "default"  # the name a subscriber's first unnamed filter gets
AT_LEAST = ">= "  # a level evidence's detail: ">= medium", the filter's minimum


def level_rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def required_level(evidence: Evidence) -> str:
    """The filter's minimum level that a level evidence records (``evaluate_rule`` writes it)."""
    return evidence.detail.removeprefix(AT_LEAST)


def normalise_keyword(text: str) -> str:
    """The form keywords are stored and compared in: case-folded, single spaces, NFKC (full-width to ASCII)."""
    return " ".join(_NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass
class Rule:
    hs: list[str] = field(default_factory=list)
    product_lines: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    min_level: str = "none"

    @property
    def has_topic(self) -> bool:
        return bool(self.hs or self.product_lines or self.keywords)

    def is_empty(self) -> bool:
        return not (self.has_topic or self.members or self.areas or level_rank(self.min_level))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Rule":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Filter:
    """One named filter of a subscriber ("EU batteries"): an include rule and exclude rules that veto a match."""

    include: Rule
    exclude: list[Rule] = field(default_factory=list)
    name: str = DEFAULT_FILTER
    id: int | None = None
    subscriber_id: int | None = None
    paused: bool = False  # kept, but matches nothing until resumed (the manage link's "pause")


@dataclass
class Evidence:
    """Why a notice matched: what kind of criterion, which value, and what shows it.

    ``detail`` by kind: hs - the notice's code under (or covering) the reader's prefix ``value``;
    product_line - the classifier's matched text; keyword - the notice's text around it; level - ">= minimum".
    ``origin`` and ``score`` say where an HS code came from: "given" (by the member) or "inferred" (by the
    classifier, with its score). Data, not prose: messages word them per language (``templates/labels.yaml``).
    """

    kind: str  # hs | product_line | keyword | member | area | level
    value: str
    detail: str = ""
    origin: str = ""  # hs: given | inferred
    score: float | None = None  # hs inferred: the classifier's score

    @property
    def covers(self) -> bool:
        """An HS code wider than the reader's prefix (the notice names heading 8507, the reader follows 850760)."""
        return self.kind == "hs" and len(self.detail) < len(self.value)


# The classifier ranks up to ten HS headings for a notice that gives none; its scores are shares of
# one distribution (the best is often 0.1-0.3), so the tail is noise (a charger notice ranks 0402,
# milk, tenth). Only the leading guesses reach a subscriber's HS filter: at most three, and each
# at least half as likely as the best.
INFERRED_TOP = 3
INFERRED_MIN_SHARE_OF_BEST = 0.5


def confident_inferences(inferred: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inferred headings a subscription may match on (the assessment keeps them all): those the
    classifier shows readers, or for an assessment made before it said so, the leading few."""
    if any("shown" in e for e in inferred):
        return [e for e in inferred if e.get("shown")]
    ranked = sorted(inferred, key=lambda e: -float(e.get("score", 0)))[:INFERRED_TOP]
    if not ranked:
        return []
    floor = float(ranked[0].get("score", 0)) * INFERRED_MIN_SHARE_OF_BEST
    return [e for e in ranked if float(e.get("score", 0)) >= floor]


@dataclass
class NoticeFacts:
    """What matching needs from a notice and its assessment, computed once per notice."""

    notice: Notice
    assessment: dict[str, Any]
    codes: dict[str, tuple[str, float | None]]  # 2/4/6-digit code -> ("given", None) or ("inferred", score)
    lines: dict[str, dict[str, Any]]  # product line id -> the assessment's entry (score, evidence)
    words: str  # " word word ... " for English keyword matching
    compact: str  # case-folded text without spaces, for Chinese keyword matching
    contexts: dict[str, str] = field(default_factory=dict, repr=False)  # keyword -> window of original text

    @property
    def level(self) -> str:
        return self.assessment.get("level") or "none"

    @classmethod
    def build(cls, notice: Notice, assessment: dict[str, Any] | None) -> "NoticeFacts":
        assessment = assessment or {}
        codes: dict[str, tuple[str, float | None]] = {}
        for code in [*notice.hs_codes, *assessment.get("hs_given", [])]:
            codes.setdefault(str(code), ("given", None))
        for entry in confident_inferences(assessment.get("hs_inferred", [])):
            codes.setdefault(str(entry["code"]), ("inferred", float(entry.get("score", 0))))
        lines = {str(p["id"]): p for p in assessment.get("product_lines", [])}
        text = normalise_keyword(notice.all_text())
        return cls(notice, assessment, codes, lines, f" {text} ", text.replace(" ", ""))

    def has_keyword(self, keyword: str) -> bool:
        """Whether the notice contains ``keyword`` (whole words for Latin script), on the normalised text."""
        if is_cjk(keyword):
            return keyword.replace(" ", "") in self.compact
        return f" {keyword} " in self.words

    def keyword_context(self, keyword: str) -> str:
        """A short window of the notice's own text around ``keyword`` (for people: "…Toys - Safety
        requirements…", not the normalised form matching works on); remembered per keyword."""
        if keyword not in self.contexts:
            self.contexts[keyword] = keyword_window(self.notice.all_text(), keyword)
        return self.contexts[keyword]


KEYWORD_WINDOW = {"latin": 40, "cjk": 14}  # characters shown either side of a keyword


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """``keyword`` (in its normalised form) as it may appear in original text: any case, any punctuation or
    spacing between its words (Latin, whole words) or characters (Chinese, as ``compact`` drops them)."""
    if is_cjk(keyword):
        return re.compile(r"\W*".join(re.escape(c) for c in keyword.replace(" ", "")), re.IGNORECASE)
    body = r"\W+".join(re.escape(w) for w in keyword.split(" "))
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _word_cut(text: str, at: int, limit: int, step: int) -> int:
    """Move a cut that falls inside a Latin word or number outwards to the space (or line end) before (step
    -1) or after (step 1) it, when one is within 15 characters; Chinese text may be cut anywhere."""
    if at == limit or not (text[at - 1 : at + 1].isascii() and text[at - 1 : at + 1].isalnum()):
        return at
    if step < 0:
        space = text.rfind(" ", limit, at)
        edge = limit if space < 0 else space + 1
    else:
        space = text.find(" ", at, limit)
        edge = limit if space < 0 else space
    return edge if abs(at - edge) < 15 else at


def keyword_window(text: str, keyword: str) -> str:
    """The line of ``text`` holding ``keyword``, cut to a few words either side, "…" where cut.

    Searched in the text as written, then in its NFKC form (full-width letters such as ＬＥＤ), which is
    then what is shown; the keyword itself when neither holds it (cannot happen for a matched notice).
    """
    pattern = _keyword_pattern(keyword)
    found = pattern.search(text)
    if found is None:
        text = unicodedata.normalize("NFKC", text)
        found = pattern.search(text)
    if found is None:
        return keyword
    width = KEYWORD_WINDOW["cjk" if is_cjk(keyword) else "latin"]
    line_start = text.rfind("\n", 0, found.start()) + 1
    line_end = text.find("\n", found.end())
    line_end = len(text) if line_end < 0 else line_end
    start, end = max(line_start, found.start() - width), min(line_end, found.end() + width)
    start, end = _word_cut(text, start, line_start, -1), _word_cut(text, end, line_end, 1)
    window = text[start:end].strip()
    return f"{'…' if start > line_start else ''}{window}{'…' if end < line_end else ''}"


def _hs_evidence(rule: Rule, facts: NoticeFacts, covering: bool = True) -> list[Evidence]:
    """Codes of the notice under each prefix; with ``covering``, also a notice code that covers the prefix
    (the notice names heading 8507, the reader follows 850760)."""
    return [
        Evidence("hs", prefix, code, origin, score)
        for prefix in rule.hs
        for code, (origin, score) in facts.codes.items()
        if code.startswith(prefix) or (covering and prefix.startswith(code))
    ]


def _topic_evidence(rule: Rule, facts: NoticeFacts, covering: bool = True) -> list[Evidence]:
    found = _hs_evidence(rule, facts, covering)
    for line_id in rule.product_lines:
        entry = facts.lines.get(line_id)
        if entry is not None:
            texts = dict.fromkeys(str(e.get("text", "")) for e in entry.get("evidence", [])[:3])
            found.append(Evidence("product_line", line_id, "; ".join(t for t in texts if t)))
    for keyword in rule.keywords:
        if facts.has_keyword(keyword):
            found.append(Evidence("keyword", keyword, facts.keyword_context(keyword)))
    return found


def evaluate_rule(rule: Rule, facts: NoticeFacts, covering: bool = True) -> list[Evidence] | None:
    """The evidence that ``facts`` meets ``rule``, or None when it does not (``covering``: see _hs_evidence)."""
    notice = facts.notice
    if rule.areas and notice.area not in rule.areas:
        return None
    if rule.members and notice.member_code not in rule.members:
        return None
    if level_rank(facts.level) < level_rank(rule.min_level):
        return None
    evidence: list[Evidence] = []
    if rule.has_topic:
        evidence = _topic_evidence(rule, facts, covering)
        if not evidence:
            return None
    if rule.members:
        evidence.append(Evidence("member", notice.member_code))
    if rule.areas:
        evidence.append(Evidence("area", notice.area or ""))
    if level_rank(rule.min_level):
        evidence.append(Evidence("level", facts.level, f"{AT_LEAST}{rule.min_level}"))
    return evidence


def evaluate_filter(flt: Filter, facts: NoticeFacts) -> list[Evidence] | None:
    """Include-rule evidence, unless an exclude rule also matches.

    An exclusion vetoes only what it names: excluding 850710 (lead-acid) vetoes a
    notice coded 850710, not one that gives only the whole heading 8507. A domestic measure
    (notified by our own member) meets no filter: it is not a foreign barrier to an exporter.
    """
    if facts.assessment.get("domestic"):
        return None
    evidence = evaluate_rule(flt.include, facts)
    if evidence is None or any(
        evaluate_rule(rule, facts, covering=False) is not None for rule in flt.exclude
    ):
        return None
    return evidence

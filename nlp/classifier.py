"""The classifier: notice -> assessment, with the spaCy pipelines loaded once per process.

A notice becomes at most two docs, one per pipeline language: English (and the
other Latin-script languages) through ``spacy.blank("en")``, Chinese through
``spacy.blank("zh")`` with character segmentation (spaCy's tokens, made faster: ``nlp.zh_tokenizer``).
Each doc is the notice's fields joined with blank lines; field offsets map each match back to its field for the
evidence. ``assess_many`` runs every notice of a batch through ``nlp.pipe``.
"""

from __future__ import annotations

import datetime as dt
import gc
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

import nlp.components  # noqa: F401  (registers the factories)
from nlp.assessment import Assessment, Evidence, LineMatch
from nlp.catalogue import Catalogue, load_catalogue
from nlp.class_titles import class_title_spans, within
from nlp.doctext import CODES_GIVEN_KEY, CODES_KEY, FIELDS_KEY, HEADINGS_KEY, TERMS_KEY, TEXT_KEY
from nlp.inferrer import HeadingModel, merge_rankings, shown_headings
from nlp.levels import LEVELS, LevelRules, line_name
from nlp.model_cache import cache_dir, cached_model, fingerprint
from nlp.reasons import Named, Reason, ReasonTexts
from nlp.training import ARCHIVE_LABELS, InferenceConfig, build_heading_model, training_notices
from nlp.zh_tokenizer import CharTokenizer
from tbtwatch.hs import HSNomenclature, load_nomenclature
from tbtwatch.members import Members, default_members
from tbtwatch.model import LocalText, Notice
from tbtwatch.settings import PROJECT_ROOT, get_settings
from tbtwatch.symbols import parse_symbol

TEXT_FIELDS = ("title", "products", "description")
LEMMATIZER, EXTRACTOR, MATCHER, INFERRER = ("tbtwatch_lemmatizer_v1", "tbtwatch_hs_extractor_v1",
                                            "tbtwatch_catalogue_matcher_v1", "tbtwatch_hs_inferrer_v1")
MAX_EVIDENCE = 5
MAX_LINES = 3  # product lines reported per notice: the primary and at most two others


@dataclass
class NoticeDocText:
    """One pipeline's text of a notice: the fields joined, with where each field starts."""

    lang: str
    text: str
    starts: list[int]
    fields: list[str]  # "products", "translations.en.title", ...
    names: list[str]  # the bare field names: "products", "title", ...

    def field_index(self, offset: int) -> int:
        return max(0, bisect_right(self.starts, offset) - 1)

    def field_at(self, offset: int) -> str:
        return self.fields[self.field_index(offset)]

    def field_span(self, index: int) -> tuple[int, int]:
        """(start, end) of a field in the joined text."""
        end = self.starts[index + 1] - 2 if index + 1 < len(self.starts) else len(self.text)
        return self.starts[index], end


def notice_doc_texts(notice: Notice) -> list[NoticeDocText]:
    """The notice's fields grouped by pipeline language ("en" or "zh"), own language first."""
    parts: dict[str, list[tuple[str, str, str]]] = {}
    sources: list[tuple[str, str, Notice | LocalText]] = [(notice.language, "", notice)] + [
        (lang, f"translations.{lang}.", text) for lang, text in notice.translations.items()]
    for lang, prefix, local in sources:
        group = "zh" if lang == "zh" else "en"
        for name in TEXT_FIELDS:
            value = getattr(local, name)
            if value:
                parts.setdefault(group, []).append((prefix + name, name, value))
    out = []
    for lang, fields in parts.items():
        starts, pos = [], 0
        for _, _, value in fields:
            starts.append(pos)
            pos += len(value) + 2
        out.append(NoticeDocText(lang, "\n\n".join(v for _, _, v in fields), starts, [f for f, _, _ in fields],
                                 [n for _, n, _ in fields]))
    return out


def _config_file(catalogue: Catalogue, name: str) -> Path:
    """A rules file beside the catalogue if there is one, else beside the configured catalogue."""
    configured = get_settings().paths.catalogue
    for base in (catalogue.path, configured):
        if base is None:
            continue
        folder = base if base.is_dir() else base.parent
        if (folder / name).exists():
            return folder / name
    return (configured if configured.is_dir() else configured.parent) / name


def build_pipelines(catalogue: Catalogue, nomenclature: HSNomenclature,
                    inference: InferenceConfig) -> dict[str, Language]:
    """The English and Chinese pipelines with the catalogue's terms and the heading model (trained, or
    loaded from the data directory when nothing it learns from has changed: ``nlp.model_cache``)."""
    en = spacy.blank("en")
    zh = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    zh.tokenizer = CharTokenizer(zh.vocab)  # the same tokens in linear time (nlp.zh_tokenizer)
    en.add_pipe(LEMMATIZER).initialize(nlp=en)
    for pipeline in (en, zh):  # no span groups: the classifier reads the annotation lists
        pipeline.add_pipe(EXTRACTOR, config={"spans_key": None}).initialize(nlp=pipeline, known_hs=nomenclature)
        pipeline.add_pipe(MATCHER, config={"spans_key": None}).initialize(nlp=pipeline, catalogue=catalogue)
    settings = get_settings()
    labelled = training_notices(inference, nomenclature, [settings.home.joinpath(*ARCHIVE_LABELS)])
    hs_folder = settings.paths.hs_nomenclature.parent
    key = fingerprint(sorted(hs_folder.glob("*.csv")) if hs_folder.is_dir() else [],
                      repr(catalogue.lines), repr(inference), repr(labelled))

    def train() -> HeadingModel:
        with en.select_pipes(enable=[LEMMATIZER]):
            return build_heading_model(en, catalogue, nomenclature, inference, labelled)

    model = cached_model(cache_dir(), key, train)
    for pipeline in (en, zh):
        pipeline.add_pipe(INFERRER).initialize(nlp=pipeline, model=model)
    return {"en": en, "zh": zh}


_SETTLED = False  # whether a classifier of this process was frozen out of the collector (Classifier.settle)


class Classifier:
    """Assesses notices against a catalogue. Build one per process: loading trains the heading model."""

    def __init__(self, catalogue: Catalogue | None = None, *, rules: LevelRules | None = None,
                 members: Members | None = None, batch_size: int = 256):
        settings = get_settings()
        self.catalogue = catalogue or load_catalogue()
        self.nomenclature = load_nomenclature(str(settings.paths.hs_nomenclature))
        self.rules = rules or LevelRules.load(_config_file(self.catalogue, "levels.yaml"))
        self.inference = InferenceConfig.load(_config_file(self.catalogue, "hs_inference.yaml"), PROJECT_ROOT)
        self.reason_texts = ReasonTexts.load(_config_file(self.catalogue, "reasons.yaml"))
        self.reason_texts.require_labels("measure", self.rules.measure)
        self.reason_texts.require_labels("kind", self.rules.kind)
        self.reason_texts.require_labels("level", LEVELS)
        self.members = members or default_members()
        self.own_members = frozenset(code.upper() for code in settings.analysis.own_members)
        self.batch_size = batch_size
        self.pipelines = build_pipelines(self.catalogue, self.nomenclature, self.inference)
        self._members: dict[str, tuple[Named, float | None]] = {}
        self._reach: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}  # see _code_lines
        self._field_strength = {name: self.rules.matching.get(name, self.rules.matching["description"])
                                for name in TEXT_FIELDS}
        self._exposure = {line.id: self.rules.exposure(line.id, self.catalogue)  # see LevelRules.strength
                          for line in self.catalogue.lines}

    # -- public API ----------------------------------------------------------------------
    def assess(self, notice: Notice, today: dt.date | None = None) -> Assessment:
        return self.assess_many([notice], today)[0]

    def settle(self) -> "Classifier":
        """Take everything loaded so far out of the garbage collector's scans (``gc.freeze``); returns self.

        For batch processes (``tbtwatch classify``, the daily run): the pipelines and the model live as long
        as the process, and walking them again on every collection costs about 15 % of a classification run
        and about 10 % of the alert rendering after it. Once per process, and not on construction: what is
        frozen is never collected, so a process that builds many classifiers (the tests run the daily
        pipeline again and again) would keep every one of them for good.
        """
        global _SETTLED
        if not _SETTLED:
            _SETTLED = True
            gc.collect()
            gc.freeze()
        return self

    def assess_many(self, notices: Sequence[Notice], today: dt.date | None = None, *,
                    hashes: Sequence[str] | None = None) -> list[Assessment]:
        """Assess notices in batches of ``batch_size``; each batch's texts go through ``nlp.pipe`` together.

        A batch's docs are dropped once it is assessed, so memory (and the garbage
        collector's work) stays bounded however many notices come in. ``hashes``:
        the notices' ``content_hash()`` values when the caller already has them (the
        archive stores them); otherwise each is computed here.
        """
        if hashes is not None and len(hashes) != len(notices):
            raise ValueError(f"assess_many: {len(hashes)} hashes given for {len(notices)} notices")
        today = today or dt.date.today()
        out: list[Assessment] = []
        for start in range(0, len(notices), self.batch_size):
            end = start + self.batch_size
            out += self._assess_batch(notices[start:end], hashes[start:end] if hashes is not None else None, today)
        return out

    def _assess_batch(self, notices: Sequence[Notice], hashes: Sequence[str] | None,
                      today: dt.date) -> list[Assessment]:
        texts = [notice_doc_texts(n) for n in notices]
        docs: dict[tuple[int, str], Doc] = {}
        for lang, pipeline in self.pipelines.items():
            keys = [(i, t) for i, ts in enumerate(texts) for t in ts if t.lang == lang]
            made = [self._make_doc(pipeline, t, bool(notices[i].hs_codes)) for i, t in keys]
            for (i, t), doc in zip(keys, pipeline.pipe(made, batch_size=self.batch_size)):
                docs[(i, t.lang)] = doc
        return [self._assessment(n, [(t, docs[(i, t.lang)]) for t in texts[i]], today,
                                 hashes[i] if hashes is not None else n.content_hash())
                for i, n in enumerate(notices)]

    @staticmethod
    def _make_doc(pipeline: Language, text: NoticeDocText, codes_given: bool) -> Doc:
        doc = pipeline.make_doc(text.text)
        doc.user_data[TEXT_KEY] = text.text
        doc.user_data[CODES_GIVEN_KEY] = codes_given
        doc.user_data[FIELDS_KEY] = (text.starts, text.names)
        return doc

    # -- combining the annotations -------------------------------------------------------
    def _assessment(self, notice: Notice, docs: list[tuple[NoticeDocText, Doc]], today: dt.date,
                    notice_hash: str) -> Assessment:
        matching = self.rules.matching
        # line id -> {(field, text): strength}; Evidence objects are made only for what is output
        found: dict[str, dict[tuple[str, str], float]] = {}

        def add(line_id: str, where: tuple[str, str], strength: float) -> None:
            pieces = found.get(line_id)
            if pieces is None:
                found[line_id] = {where: strength}
            elif pieces.get(where, -1.0) < strength:
                pieces[where] = strength

        weak: dict[str, tuple[tuple[str, str], float]] = {}  # line id -> its best weak (broad) evidence

        def add_weak(line_id: str, where: tuple[str, str], strength: float) -> None:
            """Broad or sibling codes, or terms in a class title, do not add up: three cell codes are not
            three proofs of a general line, nor "Cosmetics. Toiletries" two of a cosmetic."""
            if line_id not in weak or weak[line_id][1] < strength:
                weak[line_id] = (where, strength)

        hs_given = list(notice.hs_codes)
        code_evidence = {c: ("hs_codes", c) for c in hs_given}
        excluded: list[tuple[tuple[str, ...], str]] = []
        rankings = []
        for text, doc in docs:
            annotations = doc.user_data
            for m in annotations.get(CODES_KEY) or ():
                if m.kind == "hs" and not m.excluded and m.code not in code_evidence:
                    hs_given.append(m.code)
                    code_evidence[m.code] = (text.field_at(m.start), text.text[m.start:m.end])
            class_titles: dict[int, list[tuple[int, int]]] = {}  # per products field, found on its first term
            for m in annotations.get(TERMS_KEY) or ():
                if m.excluded:
                    excluded.append((m.line_ids, m.text))
                    continue
                at = text.field_index(m.start)
                where = (text.fields[at], m.text)
                if text.names[at] == "products":
                    if at not in class_titles:
                        class_titles[at] = class_title_spans(text.text, *text.field_span(at))
                    if within(class_titles[at], m.start, m.end):
                        for line_id in m.line_ids:
                            add_weak(line_id, where, matching["class_title"])
                        continue
                strength = self._field_strength[text.names[at]]
                for line_id in m.line_ids:
                    add(line_id, where, strength)
            rankings.append(annotations.get(HEADINGS_KEY) or [])
        termed = set(found) | set(weak)  # lines a term names, if only in a class title (terms come before codes)
        for code in hs_given:
            for line_id, full in self._code_lines(code, termed):
                if full:
                    add(line_id, code_evidence[code], matching["hs_code"])
                else:
                    add_weak(line_id, code_evidence[code], matching["hs_broad"])
        inferred = merge_rankings(rankings)
        if inferred and inferred[0][1] < self.inference.show.abstain_below:
            inferred = []  # nothing it knows: better no heading than a wrong one
        shown = shown_headings(inferred, self.inference.show)
        chapter = None if hs_given else self._chapter_named(notice)
        if chapter:  # the products field is a chapter's own title: that chapter, for certain
            inferred = [(chapter, 1.0), *[(c, s) for c, s in inferred if c[:2] == chapter]][:10]
            shown = [chapter]
        if not hs_given:  # guessed headings add lines only where no term named one, or when confident
            for code, score in inferred[: int(matching["inferred_top"])]:
                if (score >= matching["inferred_min_score"] and not termed) or code in shown:
                    for line_id, full in self._code_lines(code, termed):
                        strength = matching["inferred_factor"] * score * (1.0 if full else matching["hs_broad"])
                        (add if full else add_weak)(line_id, ("hs_inferred", code), strength)
        for line_id, (where, strength) in weak.items():
            add(line_id, where, strength)
        # One primary line and at most MAX_LINES - 1 others, all that count: the digest's counts mean something.
        threshold, exposure = self.rules.relevance_threshold, self._exposure
        scored = [(line_id, score, pieces) for line_id, pieces in found.items()
                  if (score := round(_combine(pieces.values()), 3)) >= threshold]
        scored.sort(key=lambda s: (-s[1] * exposure[s[0]], s[0]))  # as the level ranks them (LevelRules.strength)
        lines = [LineMatch(line_id, score, tuple(map(Evidence._make, islice(pieces, MAX_EVIDENCE))))
                 for line_id, score, pieces in scored[:MAX_LINES]]
        member, member_weight = self._market(notice)
        level, reasons, measure = self.rules.decide(notice, lines, self.catalogue, member, member_weight, today)
        matched = {m.id for m in lines}  # every line kept is at the threshold or above
        domestic = self._domestic(notice)
        if domestic:  # its product lines stay known (for the digest's domestic section); no level, no alert
            level = "none"
            reasons = [Reason("domestic", {"member": member}),
                       *[r for r in reasons if r.code in {"product_line", "also_matches"}]]
        for line_ids, text in excluded:
            dropped = [line_name(self.catalogue, i) for i in line_ids if i not in matched]
            if dropped:
                reasons.append(Reason("excluded", {"lines": dropped, "text": text}))
        return Assessment(symbol=notice.symbol, hs_given=hs_given, hs_inferred=inferred, product_lines=lines,
                          relevant=bool(matched) and not domestic, domestic=domestic, level=level,
                          reasons=self.reason_texts.render(reasons, "en"),
                          reasons_zh=self.reason_texts.render(reasons, "zh"), assessed_on=today,
                          notice_hash=notice_hash, measure_type=measure, excluded_terms=[t for _, t in excluded],
                          hs_shown=shown)

    def _code_lines(self, code: str, termed: set[str]) -> list[tuple[str, bool]]:
        """(line id, full evidence?) for each line an HS code touches.

        Full only for the lines with the most specific prefix the code falls under (a
        charger's 850440 is not general electrical equipment's 85), and among lines sharing
        that prefix, only those a term also names when any is (850440 is the prefix of
        chargers, power banks and solar inverters alike). A code broader than a line's
        prefix, or beside it (850610 against lithium's 850650), is weak evidence.
        """
        reach = self._reach.get(code)
        if reach is None:
            reach = self._reach[code] = self._code_reach(code)
        touched, best = reach
        if best & termed:
            best = best & termed
        return [(line_id, line_id in best) for line_id in touched]

    def _code_reach(self, code: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """(the lines a code touches, those under its most specific prefix); kept per code in ``_reach``."""
        touched = self.catalogue.lines_for_code(code)
        longest = max((len(p) for _, p in touched if code.startswith(p)), default=0)
        return (tuple(line.id for line, _ in touched),
                frozenset(line.id for line, p in touched if code.startswith(p) and len(p) == longest))

    def _domestic(self, notice: Notice) -> bool:
        """Notified by one of our own members (settings: analysis.own_members), alone or jointly."""
        own = self.own_members
        return bool(own) and any(_member_code(s) in own for s in notice.symbols or [notice.symbol])

    def _chapter_named(self, notice: Notice) -> str | None:
        """The HS chapter whose title a products field (in any language) is, if one is."""
        for local in (notice, *notice.translations.values()):
            chapter = self.nomenclature.chapter_named(local.products) if local.products else None
            if chapter:
                return chapter
        return None

    def _market(self, notice: Notice) -> tuple[Named, float | None]:
        """The market that weighs most among the members notifying the text: a joint notification
        (one text under several members' symbols) is as urgent as its biggest market."""
        best = self._member(notice)
        for symbol in notice.symbols:
            code = _member_code(symbol)
            if code and code != notice.member_code:
                other = self._member_by_code(code)
                if other[1] is not None and (best[1] is None or other[1] > best[1]):
                    best = other
        return best

    def _member_by_code(self, code: str) -> tuple[Named, float | None]:
        if code not in self._members:
            member = self.members.get(code)
            self._members[code] = ((Named(member.name_en, member.name_zh), member.weight) if member
                                   else (Named(code), None))
        return self._members[code]

    def _member(self, notice: Notice) -> tuple[Named, float | None]:
        """The notifying member's names and market weight (None when config/members.yaml does not know it)."""
        key = notice.member_code or notice.member
        if key not in self._members:
            member = self.members.get(notice.member_code) if notice.member_code else None
            member = member or self.members.find(notice.member)
            self._members[key] = ((Named(member.name_en, member.name_zh), member.weight) if member
                                  else (Named(key), None))
        return self._members[key]


@lru_cache(maxsize=65536)
def _member_code(symbol: str) -> str:
    """The member code of a (valid, normalised) symbol; cached: every notice asks for its own and its group's."""
    return parse_symbol(symbol).member_code or ""


def _combine(strengths: Iterable[float]) -> float:
    """Independent pieces of evidence: 1 - prod(1 - s)."""
    missing = 1.0
    for s in strengths:
        missing *= 1.0 - min(1.0, s)
    return 1.0 - missing


def assess(notice: Notice, catalogue: Catalogue | None = None, today: dt.date | None = None) -> Assessment:
    """Assess one notice (convenience; the classifier is cached per catalogue for the process)."""
    return _classifier_for(catalogue).assess(notice, today)


_CLASSIFIERS: dict[int, Classifier] = {}


def _classifier_for(catalogue: Catalogue | None) -> Classifier:
    key = id(catalogue)
    if key not in _CLASSIFIERS:
        _CLASSIFIERS[key] = Classifier(catalogue)
    return _CLASSIFIERS[key]

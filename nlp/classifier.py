"""The classifier: notice -> assessment, with the spaCy pipelines loaded once per process.

A notice becomes at most two docs, one per pipeline language: English (and the
other Latin-script languages) through ``spacy.blank("en")``, Chinese through
``spacy.blank("zh")`` with character segmentation. Each doc is the notice's fields
joined with blank lines; field offsets map each match back to its field for the
evidence. ``assess_many`` runs every notice of a batch through ``nlp.pipe``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

import nlp.components  # noqa: F401  (registers the factories)
from nlp.assessment import Assessment, Evidence, LineMatch
from nlp.catalogue import Catalogue, load_catalogue
from nlp.doctext import CODES_GIVEN_KEY, TEXT_KEY
from nlp.inferrer import merge_rankings
from nlp.levels import LevelRules
from nlp.training import InferenceConfig, build_heading_model
from tbtwatch.hs import HSNomenclature, load_nomenclature
from tbtwatch.members import Members, default_members
from tbtwatch.model import Notice
from tbtwatch.settings import PROJECT_ROOT, get_settings

TEXT_FIELDS = ("title", "products", "description")
LEMMATIZER, EXTRACTOR, MATCHER, INFERRER = ("tbtwatch_lemmatizer_v1", "tbtwatch_hs_extractor_v1",
                                            "tbtwatch_catalogue_matcher_v1", "tbtwatch_hs_inferrer_v1")
MAX_EVIDENCE = 5


@dataclass
class NoticeDocText:
    """One pipeline's text of a notice: the fields joined, with where each field starts."""

    lang: str
    text: str
    starts: list[int]
    fields: list[str]

    def field_at(self, offset: int) -> str:
        return self.fields[max(0, bisect_right(self.starts, offset) - 1)]


def notice_doc_texts(notice: Notice) -> list[NoticeDocText]:
    """The notice's fields grouped by pipeline language ("en" or "zh"), own language first."""
    parts: dict[str, list[tuple[str, str]]] = {}
    sources = [(notice.language, "", notice.text())] + [
        (lang, f"translations.{lang}.", text) for lang, text in notice.translations.items()]
    for lang, prefix, local in sources:
        group = "zh" if lang == "zh" else "en"
        for name in TEXT_FIELDS:
            value = getattr(local, name)
            if value:
                parts.setdefault(group, []).append((prefix + name, value))
    out = []
    for lang, fields in parts.items():
        starts, pos = [], 0
        for _, value in fields:
            starts.append(pos)
            pos += len(value) + 2
        out.append(NoticeDocText(lang, "\n\n".join(v for _, v in fields), starts, [f for f, _ in fields]))
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
    """The English and Chinese pipelines with the catalogue's terms and a freshly trained heading model."""
    en = spacy.blank("en")
    zh = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    en.add_pipe(LEMMATIZER).initialize(nlp=en)
    for pipeline in (en, zh):
        pipeline.add_pipe(EXTRACTOR).initialize(nlp=pipeline, known_hs=nomenclature)
        pipeline.add_pipe(MATCHER).initialize(nlp=pipeline, catalogue=catalogue)
    with en.select_pipes(enable=[LEMMATIZER]):
        model = build_heading_model(en, catalogue, nomenclature, inference)
    for pipeline in (en, zh):
        pipeline.add_pipe(INFERRER).initialize(nlp=pipeline, model=model)
    return {"en": en, "zh": zh}


class Classifier:
    """Assesses notices against a catalogue. Build one per process: loading trains the heading model."""

    def __init__(self, catalogue: Catalogue | None = None, *, rules: LevelRules | None = None,
                 members: Members | None = None, batch_size: int = 256):
        settings = get_settings()
        self.catalogue = catalogue or load_catalogue()
        self.nomenclature = load_nomenclature(str(settings.paths.hs_nomenclature))
        self.rules = rules or LevelRules.load(_config_file(self.catalogue, "levels.yaml"))
        self.inference = InferenceConfig.load(_config_file(self.catalogue, "hs_inference.yaml"), PROJECT_ROOT)
        self.members = members or default_members()
        self.batch_size = batch_size
        self.pipelines = build_pipelines(self.catalogue, self.nomenclature, self.inference)
        self._member_weights: dict[str, float | None] = {}

    # -- public API ----------------------------------------------------------------------
    def assess(self, notice: Notice, today: dt.date | None = None) -> Assessment:
        return self.assess_many([notice], today)[0]

    def assess_many(self, notices: Sequence[Notice], today: dt.date | None = None) -> list[Assessment]:
        """Assess a batch; every notice's texts go through ``nlp.pipe`` together."""
        today = today or dt.date.today()
        texts = [notice_doc_texts(n) for n in notices]
        docs: dict[tuple[int, str], Doc] = {}
        for lang, pipeline in self.pipelines.items():
            keys = [(i, t) for i, ts in enumerate(texts) for t in ts if t.lang == lang]
            made = (self._make_doc(pipeline, t.text, bool(notices[i].hs_codes)) for i, t in keys)
            for (i, t), doc in zip(keys, pipeline.pipe(made,
                                                       batch_size=self.batch_size)):
                docs[(i, t.lang)] = doc
        return [self._assessment(n, [(t, docs[(i, t.lang)]) for t in texts[i]], today)
                for i, n in enumerate(notices)]

    @staticmethod
    def _make_doc(pipeline: Language, text: str, codes_given: bool) -> Doc:
        doc = pipeline.make_doc(text)
        doc.user_data[TEXT_KEY] = text
        doc.user_data[CODES_GIVEN_KEY] = codes_given
        return doc

    # -- combining the annotations -------------------------------------------------------
    def _assessment(self, notice: Notice, docs: list[tuple[NoticeDocText, Doc]], today: dt.date) -> Assessment:
        matching = self.rules.matching
        evidence: dict[str, dict[Evidence, float]] = {}

        def add(line_id: str, ev: Evidence, strength: float) -> None:
            found = evidence.setdefault(line_id, {})
            found[ev] = max(strength, found.get(ev, 0.0))

        hs_given = list(notice.hs_codes)
        code_evidence = {c: Evidence("hs_codes", c) for c in hs_given}
        excluded: list[tuple[tuple[str, ...], str]] = []
        for text, doc in docs:
            annotations = doc._
            for m in annotations.tbt_codes or []:
                if m.kind == "hs" and not m.excluded and m.code not in code_evidence:
                    hs_given.append(m.code)
                    code_evidence[m.code] = Evidence(text.field_at(m.start), text.text[m.start:m.end])
            for m in annotations.tbt_terms or []:
                if m.excluded:
                    excluded.append((m.line_ids, m.text))
                    continue
                field = text.field_at(m.start)
                strength = matching.get(field.rsplit(".", 1)[-1], matching["description"])
                for line_id in m.line_ids:
                    add(line_id, Evidence(field, m.text), strength)
        for code in hs_given:
            for line, prefix in self.catalogue.lines_for_code(code):
                add(line.id, code_evidence[code], matching["hs_code" if code.startswith(prefix) else "hs_broad"])
        inferred = merge_rankings([doc._.tbt_headings or [] for _, doc in docs])
        if not hs_given:
            for code, score in inferred[: int(matching["inferred_top"])]:
                if score >= matching["inferred_min_score"]:
                    for line, _ in self.catalogue.lines_for_code(code):
                        add(line.id, Evidence("hs_inferred", code), matching["inferred_factor"] * score)
        lines = sorted((LineMatch(line_id, round(_combine(found.values()), 3), tuple(list(found)[:MAX_EVIDENCE]))
                        for line_id, found in evidence.items()), key=lambda m: (-m.score, m.id))
        level, reasons, measure = self.rules.decide(notice, lines, self.catalogue,
                                                    self._member_weight(notice), today)
        matched = {m.id for m in lines if m.score >= self.rules.relevance_threshold}
        for line_ids, text in excluded:
            dropped = [i for i in line_ids if i not in matched]
            if dropped:
                reasons.append(f"not counted for {', '.join(dropped)}: \"{text}\" is in an exclusion clause")
        return Assessment(symbol=notice.symbol, hs_given=hs_given, hs_inferred=inferred, product_lines=lines,
                          relevant=bool(matched), level=level, reasons=reasons, assessed_on=today,
                          notice_hash=notice.content_hash(), measure_type=measure,
                          excluded_terms=[t for _, t in excluded])

    def _member_weight(self, notice: Notice) -> float | None:
        key = notice.member_code or notice.member
        if key not in self._member_weights:
            member = self.members.get(notice.member_code) if notice.member_code else None
            member = member or self.members.find(notice.member)
            self._member_weights[key] = member.weight if member else None
        return self._member_weights[key]


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

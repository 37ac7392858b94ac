"""spaCy pipeline components of the classifier, registered as versioned factories.

Each component computes its matches in ``match(doc)`` and writes them onto the doc
in ``set_annotations(doc, matches)`` (as spaCy's own span ruler does), so the
matching logic is testable without a pipeline. Term lists, codes and models are
data given at ``initialize`` time, never literals here.

Annotations: ``doc._.tbt_codes`` (``CodeMention`` list), ``doc._.tbt_terms``
(``TermMatch`` list), ``doc._.tbt_headings`` (``(heading, score)`` list), kept in
``doc.user_data`` (see ``nlp.doctext``), and the span groups ``doc.spans["tbt_codes"]``
and ``doc.spans["tbt_terms"]`` (the factories' ``spans_key``; ``null`` for none).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
from spacy.attrs import LEMMA, LOWER
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from nlp.catalogue import Catalogue
from nlp.codes import CodeMention, extract_codes
from nlp.doctext import (
    CODES_GIVEN_KEY,
    CODES_KEY,
    HEADINGS_KEY,
    TERMS_KEY,
    doc_lower,
    doc_scopes,
    doc_text,
    register_extensions,
)
from nlp.inferrer import HeadingModel
from nlp.scopes import covering_scope
from nlp.terms import TermScanner, english_plurals, english_variants, is_acronym_term, trie_regex

register_extensions()


class ComponentNotInitialised(RuntimeError):
    """A component used before ``initialize`` gave it its data."""


def write_spans(doc: Doc, key: str | None, found: Iterable[tuple[int, int, str]]) -> None:
    """Mirror (start char, end char, label) matches as the span group ``key``; ``None`` writes none.

    Span groups are for people and tools that look at docs (displaCy, debugging);
    the classifier reads the annotation lists and builds its pipelines with
    ``spans_key: null``, which saves a tenth of the time after tokenizing.
    """
    if key is None:
        return
    spans = (doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in found)
    doc.spans[key] = [s for s in spans if s is not None]


# -- lemmas --------------------------------------------------------------------------------
@Language.factory("tbtwatch_lemmatizer_v1")
def make_lemmatizer(nlp: Language, name: str) -> "LowercaseLookupLemmatizer":
    return LowercaseLookupLemmatizer(nlp, name)


class LowercaseLookupLemmatizer:
    """Lookup lemmas (spacy-lookups-data) keyed on the lower-case form, set in one array operation.

    spaCy's lookup lemmatizer is case-sensitive ("Batteries" in a title stays
    "Batteries") and loops in Python; notices write products in capitals often
    enough that case-insensitive lemmas matter, and the loop would cost a fifth of
    the tokenizer's time.
    """

    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.vocab = nlp.vocab
        self._keys = np.zeros(0, dtype=np.uint64)
        self._lemmas = np.zeros(0, dtype=np.uint64)

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        table = load_lookups(self.vocab.lang, ["lemma_lookup"]).get_table("lemma_lookup")
        pairs = sorted((int(k), self.vocab.strings.add(v)) for k, v in table.items())
        self._keys = np.array([k for k, _ in pairs], dtype=np.uint64)
        self._lemmas = np.array([v for _, v in pairs], dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        if not len(self._keys):
            raise ComponentNotInitialised(f"{self.name}: call nlp.initialize() (or .initialize()) first")
        lower = doc.to_array(LOWER).astype(np.uint64)
        at = np.minimum(np.searchsorted(self._keys, lower), len(self._keys) - 1)
        lemmas = np.where(self._keys[at] == lower, self._lemmas[at], lower)
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc


# -- codes ---------------------------------------------------------------------------------
@Language.factory("tbtwatch_hs_extractor_v1", default_config={"spans_key": "tbt_codes"})
def make_hs_extractor(nlp: Language, name: str, spans_key: str | None) -> "HSCodeExtractor":
    return HSCodeExtractor(name, spans_key)


class HSCodeExtractor:
    """Labelled HS/CCCN/chapter and ICS codes in the text (see ``nlp.codes``)."""

    def __init__(self, name: str, spans_key: str | None = "tbt_codes"):
        self.name = name
        self.spans_key = spans_key
        self.known_hs = None

    def initialize(self, get_examples=None, *, nlp: Language | None = None, known_hs=None) -> None:
        """``known_hs``: the HS nomenclature (anything supporting ``in``), to drop non-codes."""
        self.known_hs = known_hs

    def match(self, doc: Doc) -> list[CodeMention]:
        return extract_codes(doc_text(doc), self.known_hs, lower=doc_lower(doc), scopes=doc_scopes(doc))

    def set_annotations(self, doc: Doc, mentions: list[CodeMention]) -> None:
        doc.user_data[CODES_KEY] = mentions
        write_spans(doc, self.spans_key, ((m.start, m.end, m.kind) for m in mentions))

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc


# -- catalogue terms -----------------------------------------------------------------------
class TermMatch(NamedTuple):
    """A catalogue term found in a text; ``excluded`` when it sits in an "excluding ..." clause."""

    term: str
    line_ids: tuple[str, ...]
    start: int
    end: int
    text: str
    excluded: bool = False


@Language.factory("tbtwatch_catalogue_matcher_v1", default_config={"spans_key": "tbt_terms"})
def make_catalogue_matcher(nlp: Language, name: str, spans_key: str | None) -> "CatalogueMatcher":
    return CatalogueMatcher(nlp, name, spans_key)


class CatalogueMatcher:
    """Finds the catalogue's terms: English on lemmas (PhraseMatcher), Chinese with a ``TermScanner``.

    Upper-case terms (LED, PCB) are matched on the exact form, since their lower
    case is another word. In Chinese text, English terms are found by a
    word-bounded regex (Chinese tokens are characters, so the PhraseMatcher cannot
    see English words there). Overlapping matches keep the longest
    ("lithium-ion battery" over "battery").
    """

    def __init__(self, nlp: Language, name: str, spans_key: str | None = "tbt_terms"):
        self.name = name
        self.nlp = nlp
        self.spans_key = spans_key
        self.lang = nlp.lang
        self.line_ids: dict[str, tuple[str, ...]] = {}
        self._lemma_matcher: PhraseMatcher | None = None
        self._orth_matcher: PhraseMatcher | None = None
        self._zh_scanner: TermScanner | None = None
        self._en_regex = None
        self._en_regex_terms: dict[str, str] = {}

    def initialize(self, get_examples=None, *, nlp: Language | None = None,
                   catalogue: Catalogue | None = None) -> None:
        if catalogue is None:
            raise ComponentNotInitialised(f"{self.name}: initialize needs the catalogue")
        nlp = nlp or self.nlp
        owners: dict[str, list[str]] = {}
        for line in catalogue.lines:
            for term in (*line.terms_en, *line.terms_zh):
                owners.setdefault(term, []).append(line.id)
        self.line_ids = {term: tuple(dict.fromkeys(ids)) for term, ids in owners.items()}
        english = [t for line in catalogue.lines for t in line.terms_en]
        chinese = [t for line in catalogue.lines for t in line.terms_zh]
        self._zh_scanner = TermScanner(chinese) if chinese else None
        self._en_regex_terms = {v.lower(): t for t in english for v in
                                (p for e in english_variants(t) for p in english_plurals(e))}
        self._en_regex = trie_regex(list(self._en_regex_terms), word_bounded=True)
        if self.lang != "en":
            return
        lemmatize = nlp.get_pipe("tbtwatch_lemmatizer_v1") if "tbtwatch_lemmatizer_v1" in nlp.pipe_names else None
        self._lemma_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._orth_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for term in dict.fromkeys(english):
            # plural forms too: the lookup table does not know new words ("ebikes", "smartwatches")
            variants = list(dict.fromkeys(p for v in english_variants(term) for p in english_plurals(v, always=True)))
            docs = [nlp.make_doc(v) for v in variants]
            if is_acronym_term(term):
                self._orth_matcher.add(term, docs)
            else:
                self._lemma_matcher.add(term, [lemmatize(d) if lemmatize else d for d in docs])

    def match(self, doc: Doc) -> list[TermMatch]:
        text, lower = doc_text(doc), doc_lower(doc)
        found: list[tuple[int, int, str]] = []
        if self._lemma_matcher is not None and self._orth_matcher is not None:
            spans = self._lemma_matcher(doc, as_spans=True) + self._orth_matcher(doc, as_spans=True)
            found += [(s.start_char, s.end_char, s.label_) for s in filter_spans(spans)]
        elif self._en_regex is not None:
            found += [(m.start(), m.end(), self._en_regex_terms[m.group(1)]) for m in self._en_regex.finditer(lower)
                      if not (m.start() and lower[m.start() - 1].isascii() and lower[m.start() - 1].isalnum())]
        if self._zh_scanner is not None:
            found += self._zh_scanner.find(lower)
        if not found:
            return []
        scopes = doc_scopes(doc)
        return [TermMatch(term, self.line_ids.get(term, ()), s, e, text[s:e], covering_scope(scopes, s) is not None)
                for s, e, term in sorted(found) if term in self.line_ids]

    def set_annotations(self, doc: Doc, matches: list[TermMatch]) -> None:
        doc.user_data[TERMS_KEY] = matches
        write_spans(doc, self.spans_key, ((m.start, m.end, m.term) for m in matches))

    def __call__(self, doc: Doc) -> Doc:
        if self._zh_scanner is None and self._lemma_matcher is None:
            raise ComponentNotInitialised(f"{self.name}: initialize it with the catalogue first")
        self.set_annotations(doc, self.match(doc))
        return doc


def _gives_codes(doc: Doc) -> bool:
    if doc.user_data.get(CODES_GIVEN_KEY):
        return True
    return any(m.kind == "hs" and not m.excluded for m in doc.user_data.get(CODES_KEY) or ())


# -- HS headings ---------------------------------------------------------------------------
@Language.factory("tbtwatch_hs_inferrer_v1", default_config={"top_k": 10})
def make_hs_inferrer(nlp: Language, name: str, top_k: int) -> "HSHeadingInferrer":
    return HSHeadingInferrer(name, top_k)


class HSHeadingInferrer:
    """Ranks HS 2022 headings for each doc with a ``HeadingModel``; batched in ``pipe``.

    Docs that give HS codes (in the text, or flagged by the caller in
    ``doc.user_data["tbt_codes_given"]`` because the notice's ``hs_codes`` field has
    them) are not ranked: the inferrer is for notices that give no code.
    """

    def __init__(self, name: str, top_k: int):
        self.name = name
        self.top_k = top_k
        self.model: HeadingModel | None = None

    def initialize(self, get_examples=None, *, nlp: Language | None = None,
                   model: HeadingModel | None = None) -> None:
        if model is None:
            raise ComponentNotInitialised(f"{self.name}: initialize needs a HeadingModel")
        self.model = model

    def match(self, docs: list[Doc]) -> list[list[tuple[str, float]]]:
        if self.model is None:
            raise ComponentNotInitialised(f"{self.name}: initialize it with a HeadingModel first")
        todo = [i for i, d in enumerate(docs) if not _gives_codes(d)]
        ranked = self.model.rank_docs([docs[i] for i in todo], self.top_k)
        out: list[list[tuple[str, float]]] = [[] for _ in docs]
        for i, ranking in zip(todo, ranked):
            out[i] = ranking
        return out

    def set_annotations(self, docs: list[Doc], rankings: list[list[tuple[str, float]]]) -> None:
        for doc, ranking in zip(docs, rankings):
            doc.user_data[HEADINGS_KEY] = ranking

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.match([doc]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                self.set_annotations(batch, self.match(batch))
                yield from batch
                batch = []
        if batch:
            self.set_annotations(batch, self.match(batch))
            yield from batch

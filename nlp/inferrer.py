"""The HS heading inferrer: ranks HS 2022 headings for a text that gives no code.

Two views of the same bilingual knowledge, built at start-up from the nomenclature
(English descriptions, China Customs' Chinese and English line names, Taiwan's
heading texts), the catalogue's terms, Chinese chapter names and labelled notices:

- a TF-IDF **profile** per heading (and per chapter): all its texts summed, compared
  with the notice by cosine. Good when a notice describes a product at length.
- the **entries**: each name on its own ("锂离子蓄电池", "Live swine", a catalogue term),
  scored by how much of the entry the notice contains. Good for the short product
  names Chinese portals publish ("活猪", "燃气热水器"), which a long profile dilutes.

A heading's score mixes its profile, its best entry and its chapter's profile.
Features are English lemmas and pairs of neighbouring lemmas, and pairs of adjacent
Chinese characters (in simplified script: Taiwanese pages are converted). A notice's
features are weighted by the field they come from (products over title over
description), since descriptions are full of regulatory words that name no product.
Scoring is a few sparse products (scipy) per batch: the tokenizer, not this, must
stay the cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import opencc
from scipy.sparse import csr_matrix
from spacy.attrs import IDX, IS_ALPHA, IS_ASCII, IS_STOP, LEMMA, LENGTH
from spacy.tokens import Doc

from nlp.doctext import FIELDS_KEY, doc_text

_CJK_FIRST, _CJK_LAST = 0x3400, 0x9FFF


@lru_cache(maxsize=1)
def _simplifier() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` in simplified script (same length for what the features see: characters map one to one)."""
    return _simplifier().convert(text) if text else text


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _pairs(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, key) of each pair of adjacent CJK characters (code points packed in 42 bits)."""
    cjk = (cps >= _CJK_FIRST) & (cps <= _CJK_LAST)
    pair = cjk[:-1] & cjk[1:]
    return np.flatnonzero(pair), (cps[:-1][pair] << np.uint64(21)) | cps[1:][pair]


def _chars(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, key) of each CJK character: its code point (below 2**21, so no pair key is one)."""
    at = np.flatnonzero((cps >= _CJK_FIRST) & (cps <= _CJK_LAST))
    return at, cps[at]


def char_keys(text: str) -> np.ndarray:
    """Keys of the single CJK characters in ``text``: the tariff names many goods by one (猪, 茶, 糖)."""
    return _chars(_code_points(text))[1] if text else np.zeros(0, dtype=np.uint64)


def bigram_keys(text: str) -> np.ndarray:
    """Keys of adjacent CJK character pairs in ``text``."""
    if not text:
        return np.zeros(0, dtype=np.uint64)
    return _pairs(_code_points(text))[1]


_PAIR_MIX = np.uint64(0x9E3779B97F4A7C15)


def lemma_keys(doc: Doc) -> np.ndarray:
    """Keys of the doc's content words: see ``lemma_keys_at``."""
    return lemma_keys_at(doc)[1]


def lemma_keys_at(doc: Doc) -> tuple[np.ndarray, np.ndarray]:
    """(character offset, key) of the doc's content words (ASCII letters, not stop words, 3+ letters):
    each lemma's hash and a hash of each pair of neighbouring content lemmas ("lithium battery",
    "breeding horse"), which tells headings apart that share their single words."""
    if doc.lang_ != "en" or len(doc) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    arr = doc.to_array([LEMMA, IS_ALPHA, IS_STOP, IS_ASCII, LENGTH, IDX])
    keep = (arr[:, 1] == 1) & (arr[:, 2] == 0) & (arr[:, 3] == 1) & (arr[:, 4] > 2)
    lemmas, offsets = arr[keep, 0].astype(np.uint64), arr[keep, 5].astype(np.int64)
    if len(lemmas) < 2:
        return offsets, lemmas
    return np.concatenate([offsets, offsets[:-1]]), np.concatenate([lemmas, lemmas[:-1] * _PAIR_MIX ^ lemmas[1:]])


def _field_bounds(docs: Sequence[Doc], doc_starts: np.ndarray, weights: Mapping[str, float]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(start offset in the joined texts, weight) of every field of a batch's docs, ascending
    (one field of weight 1.0 for a doc that does not say its fields, or when no weights are set)."""
    starts: list[int] = []
    values: list[float] = []
    for doc, base in zip(docs, doc_starts.tolist()):
        fields = doc.user_data.get(FIELDS_KEY) if weights else None
        if fields:
            starts += [base + start for start in fields[0]]
            values += [weights.get(name, 1.0) for name in fields[1]]
        else:
            starts.append(base)
            values.append(1.0)
    return np.array(starts), np.array(values)


def batch_keys(docs: Sequence[Doc], field_weights: Mapping[str, float] | None = None,
               single_weight: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc index, key, weight) of every feature of a batch of docs: lemmas, CJK character pairs and
    (weighted ``single_weight``, 0 for none) single CJK characters, weighted by their field
    (``field_weights``, e.g. products 1.0, description 0.3).

    The texts are scanned as one array (joined by a newline, which pairs with nothing)
    and every feature's field is found in one search: a few numpy calls per batch
    instead of a few per doc.
    """
    texts = [doc_text(d) for d in docs]
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64), np.zeros(0)
    cps = _code_points(simplified("\n".join(texts)))
    pair_at, pair_keys = _pairs(cps)
    char_at, single_keys = _chars(cps) if single_weight else (np.zeros(0, np.int64), np.zeros(0, np.uint64))
    order = np.argsort(np.concatenate([pair_at, char_at]), kind="stable")  # by position, as owners must be
    positions, pair_keys = np.concatenate([pair_at, char_at])[order], np.concatenate([pair_keys, single_keys])[order]
    kind_weight = np.concatenate([np.ones(len(pair_at)), np.full(len(char_at), single_weight)])[order]
    doc_starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    owners, keys, at = [np.searchsorted(doc_starts, positions, side="right") - 1], [pair_keys], [positions]
    for i, doc in enumerate(docs):
        offsets, lemmas = lemma_keys_at(doc)
        if len(lemmas):
            owners.append(np.full(len(lemmas), i))
            keys.append(lemmas)
            at.append(offsets + doc_starts[i])
    field_starts, field_weight = _field_bounds(docs, doc_starts, field_weights or {})
    weights = field_weight[np.searchsorted(field_starts, np.concatenate(at), side="right") - 1]
    weights[:len(kind_weight)] *= kind_weight
    return np.concatenate(owners).astype(np.int64), np.concatenate(keys), weights


@dataclass
class TrainingText:
    """A text and the headings / chapters it is evidence for, with the weight of its source.

    ``entry``: the text is also scored on its own (a name: a nomenclature line, a
    catalogue term), not only as part of its headings' profiles.
    """

    keys: np.ndarray
    headings: tuple[str, ...]
    chapters: tuple[str, ...]
    weight: float
    entry: bool = False


@dataclass(frozen=True)
class ShowSettings:
    """When the inferrer says nothing, and which heading it shows a reader (``hs_inference.yaml``).

    Calibrated on the development set with no notice in training: a top heading scoring
    at least ``min_score`` and ahead of the second by ``min_margin`` of its score was the
    right heading 87 % of the time (15 of 46 notices); below ``abstain_below`` the best
    heading was never right (a higher cut, 0.12, already cost chapter recall 0.88 -> 0.83).
    """

    abstain_below: float = 0.05
    min_score: float = 0.3
    min_margin: float = 0.1


def shown_headings(ranking: Sequence[tuple[str, float]], show: ShowSettings) -> list[str]:
    """The headings of a ranking confident enough to show a reader: the first, when it stands out."""
    if not ranking or ranking[0][1] < show.min_score:
        return []
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    return [ranking[0][0]] if (ranking[0][1] - second) >= show.min_margin * ranking[0][1] else []


@dataclass(frozen=True)
class MixSettings:
    """How a heading's score is made (``config/catalogue/hs_inference.yaml``)."""

    chapter_mix: float = 0.35  # share of the chapter's profile similarity
    chapter_mix_zh: float | None = None  # the same for Chinese docs (None: chapter_mix), whose character
    # pairs are less specific than English word pairs: a chapter many of them point to counts for more
    entry_mix: float = 0.5  # share of the best entry's containment within the heading's own part
    max_df_share: float = 0.2  # features in more of the headings than this say nothing and are dropped
    entry_min_mass: float = 6.0  # an entry with less IDF mass than this counts in proportion (one common word)
    single_char_weight: float = 0.0  # weight of single Chinese characters against pairs (0: not used)
    single_char_max_df_share: float = 0.03  # single characters in more headings than this are dropped


class _Postings:
    """A feature -> (class, weight) sparse matrix (scipy CSR): a batch's sums over its docs' features
    are one sparse product with the batch's (doc, feature) matrix, done in C."""

    def __init__(self, n_features: int, n_classes: int, entries: dict[int, dict[int, float]]):
        self.n_classes = n_classes
        rows = np.repeat(np.fromiter(entries, dtype=np.int64, count=len(entries)),
                         [len(row) for row in entries.values()])
        cols = np.fromiter((c for row in entries.values() for c in row), dtype=np.int64, count=len(rows))
        vals = np.fromiter((v for row in entries.values() for v in row.values()), dtype=np.float64, count=len(rows))
        self.matrix = csr_matrix((vals, (rows, cols)), shape=(n_features, n_classes))

    def sums(self, query: csr_matrix) -> csr_matrix:
        """(docs, classes): each doc's weighted sum of its features' postings, as a sparse matrix."""
        return query @ self.matrix


class HeadingModel:
    """Ranks HS headings for docs; see the module docstring for what it learns and how it scores."""

    def __init__(self, texts: Sequence[TrainingText], headings: Sequence[str], *,
                 mix: MixSettings = MixSettings(), field_weights: Mapping[str, float] | None = None):
        self.headings = list(headings)
        self.chapters = sorted({h[:2] for h in self.headings})
        self.mix = mix
        self.field_weights = dict(field_weights or {})
        head_index = {h: i for i, h in enumerate(self.headings)}
        chap_index = {c: i for i, c in enumerate(self.chapters)}
        self._chapter_of = np.array([chap_index[h[:2]] for h in self.headings])
        self.keys = np.unique(np.concatenate([t.keys for t in texts])) if texts else np.zeros(0, np.uint64)
        head_rows: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        chap_rows: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        entry_rows: list[tuple[list[int], int]] = []  # (feature ids, heading index) per entry
        for t in texts:
            ids = np.searchsorted(self.keys, t.keys).tolist()
            for h in t.headings:
                if h in head_index:
                    row = head_rows[head_index[h]]
                    for f in ids:
                        row[f] += t.weight
                    if t.entry and ids:
                        entry_rows.append((ids, head_index[h]))
            for c in {*t.chapters, *(h[:2] for h in t.headings)}:
                if c in chap_index:
                    row = chap_rows[chap_index[c]]
                    for f in ids:
                        row[f] += t.weight
        df = np.zeros(len(self.keys))
        for row in head_rows.values():
            df[list(row)] += 1
        n = len(self.headings)
        self.idf = np.log((1 + n) / (1 + df)) + 1.0
        self.idf[df > mix.max_df_share * n] = 0.0
        self._single = self.keys < np.uint64(1 << 21)  # single CJK characters (see _chars): only telling ones
        self.idf[self._single & (df > mix.single_char_max_df_share * n)] = 0.0
        self._heads = self._profiles(head_rows, len(self.headings))
        self._chaps = self._profiles(chap_rows, len(self.chapters))
        self._entries, self._entry_heading = self._entry_postings(entry_rows)

    def _profiles(self, rows: dict[int, dict[int, float]], n_classes: int) -> _Postings:
        """Unit TF-IDF profile vectors (sublinear term weight), stored as postings x idf."""
        by_feature: dict[int, dict[int, float]] = defaultdict(dict)
        for c, row in rows.items():  # single characters only in the entries: in a long profile they blur it
            weights = {f: (1 + math.log1p(w)) * self.idf[f] for f, w in row.items()
                       if self.idf[f] > 0 and not self._single[f]}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for f, w in weights.items():
                by_feature[f][c] = w / norm * self.idf[f]
        return _Postings(len(self.keys), n_classes, by_feature)

    def _entry_postings(self, rows: list[tuple[list[int], int]]) -> tuple[_Postings, np.ndarray]:
        """Postings whose sum over a text's features is the share of an entry's IDF mass the text holds,
        damped for entries lighter than ``entry_min_mass`` (a lone common word proves little)."""
        by_feature: dict[int, dict[int, float]] = defaultdict(dict)
        heading_of = []
        # numbered in heading order, so that sorted (doc, entry) pairs are sorted by (doc, heading) too
        for ids, heading in sorted(rows, key=lambda row: row[1]):
            mass = {f: self.idf[f] ** 2 for f in set(ids) if self.idf[f] > 0}
            total = sum(mass.values())
            if not total:
                continue
            damp = min(1.0, math.sqrt(total) / self.mix.entry_min_mass)
            e = len(heading_of)
            heading_of.append(heading)
            for f, m in mass.items():
                by_feature[f][e] = m / total * damp
        return _Postings(len(self.keys), len(heading_of), by_feature), np.array(heading_of, dtype=np.int64)

    def feature_ids(self, keys: np.ndarray) -> np.ndarray:
        """Known features among ``keys`` (unique), as indices."""
        n = len(keys)
        return self.batch_features(np.zeros(n, dtype=np.int64), keys, np.ones(n))[1]

    def batch_features(self, owners: np.ndarray, keys: np.ndarray, weights: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc index, feature index, weight) of the known features among (doc index, key, weight)
        triples: one per doc and feature, with its highest weight, sorted by doc, then feature."""
        if not len(keys) or not len(self.keys):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        known = (self.keys[at] == keys) & (self.idf[at] > 0)
        width = len(self.keys)
        pairs, w = owners[known] * width + at[known], weights[known]
        if not len(pairs):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        order = np.argsort(pairs)
        pairs, w = pairs[order], w[order]
        firsts = np.flatnonzero(np.concatenate(([True], pairs[1:] != pairs[:-1])))
        return pairs[firsts] // width, pairs[firsts] % width, np.maximum.reduceat(w, firsts)

    def rank_docs(self, docs: Sequence[Doc], top_k: int = 10) -> list[list[tuple[str, float]]]:
        """Best ``top_k`` headings for each doc (features found for the whole batch at once)."""
        owners, features, weights = self.batch_features(*batch_keys(docs, self.field_weights,
                                                                    self.mix.single_char_weight))
        zh_mix = self.mix.chapter_mix if self.mix.chapter_mix_zh is None else self.mix.chapter_mix_zh
        chapter_mix = np.array([zh_mix if d.lang_ == "zh" else self.mix.chapter_mix for d in docs])
        return self._rank(owners, features, weights, len(docs), top_k, chapter_mix)

    def rank(self, features: Sequence[np.ndarray], top_k: int = 10) -> list[list[tuple[str, float]]]:
        """Best ``top_k`` headings with scores in [0, 1] for each feature set (all of weight 1)."""
        owners = np.repeat(np.arange(len(features)), [len(f) for f in features])
        flat = np.concatenate(features) if len(features) else np.zeros(0, np.int64)
        return self._rank(owners, flat, np.ones(len(flat)), len(features), top_k)

    def _best_entries(self, query: csr_matrix) -> np.ndarray:
        """(docs, headings): the best entry containment of each heading.

        One sparse product gives each doc's containment of each entry it touches, and one
        unbuffered maximum per (doc, heading) cell keeps the best (``maximum.at``: a third
        of the time of sorting the product's rows and reducing runs).
        """
        n_docs = query.shape[0]
        out = np.zeros(n_docs * len(self.headings))
        sums = self._entries.sums(query)
        rows = np.repeat(np.arange(n_docs), np.diff(sums.indptr))
        np.maximum.at(out, rows * len(self.headings) + self._entry_heading[sums.indices], sums.data)
        return out.reshape(n_docs, len(self.headings))

    def _rank(self, doc_index: np.ndarray, flat: np.ndarray, weights: np.ndarray, n_docs: int,
              top_k: int, chapter_mix: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        """Best headings per doc; ``chapter_mix``: each doc's share of its chapter's profile."""
        if not n_docs:
            return []
        qnorm = np.sqrt(np.bincount(doc_index, weights=(weights * self.idf[flat]) ** 2, minlength=n_docs))
        qnorm[qnorm == 0] = 1.0
        # the batch as a (doc, feature) matrix; doc_index ascends (batch_features sorts by doc)
        query = csr_matrix((weights, flat, np.searchsorted(doc_index, np.arange(n_docs + 1))),
                           shape=(n_docs, len(self.keys)))
        heads = self._heads.sums(query).toarray() / qnorm[:, None]
        chaps = self._chaps.sums(query).toarray() / qnorm[:, None]
        own = (1 - self.mix.entry_mix) * heads + self.mix.entry_mix * self._best_entries(query)
        mix = np.full((n_docs, 1), self.mix.chapter_mix) if chapter_mix is None else chapter_mix[:, None]
        scores = (1 - mix) * own + mix * chaps[:, self._chapter_of]
        k = min(top_k, scores.shape[1])
        best = np.sort(np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
        values = np.take_along_axis(scores, best, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        best, values = np.take_along_axis(best, order, axis=1).tolist(), np.round(
            np.take_along_axis(values, order, axis=1), 3).tolist()
        return [[(self.headings[i], v) for i, v in zip(row_idx, row_val) if v > 0]
                for row_idx, row_val in zip(best, values)]


def merge_rankings(rankings: Iterable[list[tuple[str, float]]], top_k: int = 10) -> list[tuple[str, float]]:
    """One ranking from several (a notice's English and Chinese texts): best score per heading."""
    rankings = [r for r in rankings if r]
    if not rankings:  # the usual case: notices that give codes are not ranked
        return []
    best: dict[str, float] = {}
    for ranking in rankings:
        for code, score in ranking:
            best[code] = max(score, best.get(code, 0.0))
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]

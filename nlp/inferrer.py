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
Scoring is a few sparse numpy operations per batch: the tokenizer, not this, must
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


def _field_weights(doc: Doc, offsets: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """The weight of the field each offset falls in (1.0 for docs that do not say their fields)."""
    fields = doc.user_data.get(FIELDS_KEY)
    if not fields or not weights:
        return np.ones(len(offsets))
    starts, names = fields
    table = np.array([weights.get(name, 1.0) for name in names])
    return table[np.maximum(np.searchsorted(np.asarray(starts), offsets, side="right") - 1, 0)]


def batch_keys(docs: Sequence[Doc], field_weights: Mapping[str, float] | None = None,
               single_weight: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc index, key, weight) of every feature of a batch of docs: lemmas, CJK character pairs and
    (weighted ``single_weight``, 0 for none) single CJK characters, weighted by their field
    (``field_weights``, e.g. products 1.0, description 0.3).

    The texts are scanned for pairs as one array (joined by a newline, which pairs
    with nothing): a few numpy calls per batch instead of a few per doc.
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
    pair_owner = np.searchsorted(doc_starts, positions, side="right") - 1
    owners, keys, weights = [pair_owner], [pair_keys], []
    pair_weights = kind_weight.copy()
    bounds = np.searchsorted(pair_owner, np.arange(len(docs) + 1))  # owners ascend with positions
    for i, doc in enumerate(docs):
        a, b = bounds[i], bounds[i + 1]
        if field_weights and b > a:
            pair_weights[a:b] *= _field_weights(doc, positions[a:b] - doc_starts[i], field_weights)
        offsets, lemmas = lemma_keys_at(doc)
        if len(lemmas):
            owners.append(np.full(len(lemmas), i))
            keys.append(lemmas)
            weights.append(_field_weights(doc, offsets, field_weights or {}))
    return (np.concatenate(owners).astype(np.int64), np.concatenate(keys),
            np.concatenate([pair_weights, *weights]))


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
    """A feature -> (class, weight) sparse matrix in CSR form."""

    def __init__(self, n_features: int, n_classes: int, entries: dict[int, dict[int, float]]):
        self.n_classes = n_classes
        counts = np.zeros(n_features + 1, dtype=np.int64)
        for f, row in entries.items():
            counts[f + 1] = len(row)
        self.indptr = np.cumsum(counts)
        self.cls = np.zeros(self.indptr[-1], dtype=np.int64)
        self.val = np.zeros(self.indptr[-1], dtype=np.float64)
        for f, row in entries.items():
            a = self.indptr[f]
            self.cls[a:a + len(row)] = list(row)
            self.val[a:a + len(row)] = list(row.values())

    def hits(self, doc_index: np.ndarray, features: np.ndarray, weights: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc, class, weight x posting) of every posting of every doc's features."""
        starts, ends = self.indptr[features], self.indptr[features + 1]
        counts = ends - starts
        total = int(counts.sum())
        if not total:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        return (np.repeat(doc_index, counts), self.cls[offsets], self.val[offsets] * np.repeat(weights, counts))

    def scores(self, doc_index: np.ndarray, features: np.ndarray, n_docs: int,
               weights: np.ndarray | None = None) -> np.ndarray:
        """(n_docs, n_classes) weighted sums of the postings of each doc's features."""
        weights = np.ones(len(features)) if weights is None else weights
        rows, cls, val = self.hits(doc_index, features, weights)
        return np.bincount(rows * self.n_classes + cls, weights=val,
                           minlength=n_docs * self.n_classes).reshape(n_docs, self.n_classes)


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
        order = np.lexsort((-w, pairs))
        pairs, w = pairs[order], w[order]
        first = np.ones(len(pairs), dtype=bool)
        first[1:] = pairs[1:] != pairs[:-1]
        return pairs[first] // width, pairs[first] % width, w[first]

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

    def _best_entries(self, doc_index: np.ndarray, flat: np.ndarray, weights: np.ndarray, n_docs: int) -> np.ndarray:
        """(n_docs, n_headings): the best entry containment of each heading.

        One sort of the (doc, entry) hits, then sums over each run of equal pairs and maxima
        over each run of equal (doc, heading): entries are numbered in heading order, so
        both kinds of run are contiguous (``reduceat``, not the much slower ``ufunc.at``).
        """
        out = np.zeros((n_docs, len(self.headings)))
        rows, cls, val = self._entries.hits(doc_index, flat, weights)
        if not len(rows):
            return out
        pairs = rows * self._entries.n_classes + cls
        order = np.argsort(pairs)
        pairs, val = pairs[order], val[order]
        starts = np.flatnonzero(np.concatenate(([True], pairs[1:] != pairs[:-1])))
        sums, pairs = np.add.reduceat(val, starts), pairs[starts]
        doc, heading = pairs // self._entries.n_classes, self._entry_heading[pairs % self._entries.n_classes]
        cell = doc * len(self.headings) + heading
        firsts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
        out.flat[cell[firsts]] = np.maximum.reduceat(sums, firsts)
        return out

    def _rank(self, doc_index: np.ndarray, flat: np.ndarray, weights: np.ndarray, n_docs: int,
              top_k: int, chapter_mix: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        """Best headings per doc; ``chapter_mix``: each doc's share of its chapter's profile."""
        if not n_docs:
            return []
        qnorm = np.sqrt(np.bincount(doc_index, weights=(weights * self.idf[flat]) ** 2, minlength=n_docs))
        qnorm[qnorm == 0] = 1.0
        heads = self._heads.scores(doc_index, flat, n_docs, weights) / qnorm[:, None]
        chaps = self._chaps.scores(doc_index, flat, n_docs, weights) / qnorm[:, None]
        own = (1 - self.mix.entry_mix) * heads + self.mix.entry_mix * self._best_entries(doc_index, flat, weights,
                                                                                         n_docs)
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

"""The HS heading inferrer: ranks HS 2022 headings for a text that gives no code.

A TF-IDF profile per heading (and per chapter) is built at start-up from the
nomenclature's English descriptions, the catalogue's terms, Chinese chapter names
and the training part of real notices that give codes. Features are lower-case
lemmas of English words and pairs of adjacent Chinese characters (Chinese words are
mostly two characters, so pairs find them without a segmenter). Scoring is one
sparse product per batch in numpy: the tokenizer, not this, must stay the cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from spacy.attrs import IS_ALPHA, IS_ASCII, IS_STOP, LEMMA, LENGTH
from spacy.tokens import Doc

from nlp.doctext import doc_text

_CJK_FIRST, _CJK_LAST = 0x3400, 0x9FFF


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _pairs(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, key) of each pair of adjacent CJK characters (code points packed in 42 bits)."""
    cjk = (cps >= _CJK_FIRST) & (cps <= _CJK_LAST)
    pair = cjk[:-1] & cjk[1:]
    return np.flatnonzero(pair), (cps[:-1][pair] << np.uint64(21)) | cps[1:][pair]


def bigram_keys(text: str) -> np.ndarray:
    """Keys of adjacent CJK character pairs in ``text``."""
    if not text:
        return np.zeros(0, dtype=np.uint64)
    return _pairs(_code_points(text))[1]


def lemma_keys(doc: Doc) -> np.ndarray:
    """Lemma hashes of the doc's content words (ASCII letters, not stop words, 3+ letters)."""
    if doc.lang_ != "en" or len(doc) == 0:
        return np.zeros(0, dtype=np.uint64)
    arr = doc.to_array([LEMMA, IS_ALPHA, IS_STOP, IS_ASCII, LENGTH])
    keep = (arr[:, 1] == 1) & (arr[:, 2] == 0) & (arr[:, 3] == 1) & (arr[:, 4] > 2)
    return arr[keep, 0].astype(np.uint64)


def batch_keys(docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, key) of every feature of a batch of docs: lemmas and CJK character pairs.

    The texts are scanned for pairs as one array (joined by a newline, which pairs
    with nothing): a few numpy calls per batch instead of a few per doc.
    """
    texts = [doc_text(d) for d in docs]
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    positions, pair_keys = _pairs(_code_points("\n".join(texts)))
    doc_starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    owners = [np.searchsorted(doc_starts, positions, side="right") - 1]
    keys = [pair_keys]
    for i, doc in enumerate(docs):
        lemmas = lemma_keys(doc)
        if len(lemmas):
            owners.append(np.full(len(lemmas), i))
            keys.append(lemmas)
    return np.concatenate(owners).astype(np.int64), np.concatenate(keys)


@dataclass
class TrainingText:
    """A text and the headings / chapters it is evidence for, with the weight of its source."""

    keys: np.ndarray
    headings: tuple[str, ...]
    chapters: tuple[str, ...]
    weight: float


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

    def scores(self, doc_index: np.ndarray, features: np.ndarray, n_docs: int) -> np.ndarray:
        """(n_docs, n_classes) sums of the postings of each doc's features."""
        starts, ends = self.indptr[features], self.indptr[features + 1]
        counts = ends - starts
        total = int(counts.sum())
        out = np.zeros(n_docs * self.n_classes)
        if total:
            offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
            rows = np.repeat(doc_index, counts)
            out = np.bincount(rows * self.n_classes + self.cls[offsets], weights=self.val[offsets],
                              minlength=n_docs * self.n_classes)
        return out.reshape(n_docs, self.n_classes)


class HeadingModel:
    """Ranks HS headings for docs; see the module docstring for how it is trained."""

    def __init__(self, texts: Sequence[TrainingText], headings: Sequence[str], *,
                 chapter_mix: float = 0.35, max_df_share: float = 0.2):
        self.headings = list(headings)
        self.chapters = sorted({h[:2] for h in self.headings})
        self.chapter_mix = chapter_mix
        head_index = {h: i for i, h in enumerate(self.headings)}
        chap_index = {c: i for i, c in enumerate(self.chapters)}
        self._chapter_of = np.array([chap_index[h[:2]] for h in self.headings])
        self.keys = np.unique(np.concatenate([t.keys for t in texts])) if texts else np.zeros(0, np.uint64)
        head_rows: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        chap_rows: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for t in texts:
            ids = np.searchsorted(self.keys, t.keys).tolist()
            for h in t.headings:
                if h in head_index:
                    row = head_rows[head_index[h]]
                    for f in ids:
                        row[f] += t.weight
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
        self.idf[df > max_df_share * n] = 0.0
        self._heads = self._postings(head_rows, len(self.headings))
        self._chaps = self._postings(chap_rows, len(self.chapters))

    def _postings(self, rows: dict[int, dict[int, float]], n_classes: int) -> _Postings:
        by_feature: dict[int, dict[int, float]] = defaultdict(dict)
        for c, row in rows.items():
            weights = {f: w * self.idf[f] for f, w in row.items() if self.idf[f] > 0}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for f, w in weights.items():
                by_feature[f][c] = w / norm * self.idf[f]
        return _Postings(len(self.keys), n_classes, by_feature)

    def feature_ids(self, keys: np.ndarray) -> np.ndarray:
        """Known features among ``keys`` (unique), as indices."""
        return self.batch_features(np.zeros(len(keys), dtype=np.int64), keys)[1]

    def batch_features(self, owners: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(doc index, feature index) pairs of the known features among (doc index, key) pairs,
        unique and sorted by doc, then feature."""
        if not len(keys) or not len(self.keys):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        known = self.keys[at] == keys
        ids, owners = at[known], owners[known]
        useful = self.idf[ids] > 0
        width = len(self.keys)
        pairs = np.unique(owners[useful] * width + ids[useful])
        return pairs // width, pairs % width

    def rank_docs(self, docs: Sequence[Doc], top_k: int = 10) -> list[list[tuple[str, float]]]:
        """Best ``top_k`` headings for each doc (features found for the whole batch at once)."""
        owners, features = self.batch_features(*batch_keys(docs))
        return self._rank(owners, features, len(docs), top_k)

    def rank(self, features: Sequence[np.ndarray], top_k: int = 10) -> list[list[tuple[str, float]]]:
        """Best ``top_k`` headings with scores in [0, 1] for each feature set."""
        owners = np.repeat(np.arange(len(features)), [len(f) for f in features])
        flat = np.concatenate(features) if len(features) else np.zeros(0, np.int64)
        return self._rank(owners, flat, len(features), top_k)

    def _rank(self, doc_index: np.ndarray, flat: np.ndarray, n_docs: int, top_k: int) -> list[list[tuple[str, float]]]:
        if not n_docs:
            return []
        qnorm = np.sqrt(np.bincount(doc_index, weights=self.idf[flat] ** 2, minlength=n_docs))
        qnorm[qnorm == 0] = 1.0
        heads = self._heads.scores(doc_index, flat, n_docs) / qnorm[:, None]
        chaps = self._chaps.scores(doc_index, flat, n_docs) / qnorm[:, None]
        scores = (1 - self.chapter_mix) * heads + self.chapter_mix * chaps[:, self._chapter_of]
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

"""The naive HS heading baseline the classifier must beat (issue 12): TF-IDF over the bilingual nomenclature.

One document per 4-digit heading: its HS 2022 English description, the China
Customs names (Chinese and English) of its 8-digit lines and Taiwan's heading and
subheading texts in simplified script. Features: English word unigrams and bigrams
(stop words dropped, plurals stripped) and Chinese character bigrams; TF-IDF cosine;
the ten best headings. No spaCy, no catalogue, no labelled notices: it measures what
the nomenclature alone knows, so the evaluation shows what the classifier adds.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from tbtwatch.hs import HSNomenclature

_WORD = re.compile(r"[a-z]+")
_HAN = re.compile(r"[\u3400-\u9fff]+")
_STOP = frozenset("""a an and are as at be by for from in into is it its not of on or other others than that the
their them these this those to with without whether n.e.c nes thereof such including excluding parts""".split())


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def features(text: str) -> Counter[str]:
    """English unigrams and bigrams of stemmed content words, Chinese character bigrams."""
    words = [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]
    out = Counter(words)
    out.update(f"{a} {b}" for a, b in zip(words, words[1:]))
    for run in _HAN.findall(text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


class BaselineInferrer:
    """TF-IDF cosine between a text and each heading's bilingual nomenclature document."""

    def __init__(self, nomenclature: HSNomenclature):
        docs = {}
        for entry in nomenclature.entries(4):
            h = entry.code
            docs[h] = features(" \n ".join([entry.description, *nomenclature.names_en_extra(h),
                                            *nomenclature.names_zh(h)]))
        df = Counter(f for doc in docs.values() for f in doc)
        n = len(docs)
        self.idf = {f: math.log((1 + n) / (1 + d)) + 1 for f, d in df.items()}
        self.vectors = {h: self._unit(doc) for h, doc in docs.items()}
        self.postings: dict[str, list[tuple[str, float]]] = {}
        for h, vec in self.vectors.items():
            for f, w in vec.items():
                self.postings.setdefault(f, []).append((h, w))

    def _unit(self, counts: Counter[str]) -> dict[str, float]:
        vec = {f: c * self.idf[f] for f, c in counts.items() if f in self.idf}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items()}

    def rank(self, text: str, top_k: int = 10) -> list[tuple[str, float]]:
        scores: Counter[str] = Counter()
        for f, q in self._unit(features(text)).items():
            for h, w in self.postings.get(f, ()):
                scores[h] += q * w
        return [(h, round(s, 3)) for h, s in scores.most_common(top_k)]

"""Where the heading inferrer learns from, and the fixed train/test split of real notices.

The split is a hash of a notice's products text (or title, or description) with
codes hidden, not of its symbol: the East African Community files one text under
five symbols, and a symbol hash would put copies of one text on both sides.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from spacy.language import Language

from nlp.catalogue import Catalogue
from nlp.codes import hide_codes
from nlp.inferrer import HeadingModel, TrainingText, bigram_keys, lemma_keys
from tbtwatch.hs import HSCodeError, HSNomenclature, normalise_hs
from tbtwatch.model import Notice, NoticeError, notice_from_dict


@dataclass
class InferenceConfig:
    """``config/catalogue/hs_inference.yaml``."""

    training_notices: list[Path] = field(default_factory=list)
    test_share_percent: int = 30
    weights: dict[str, float] = field(default_factory=dict)
    chapter_mix: float = 0.35
    max_df_share: float = 0.2
    chapters_zh: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, project_root: Path) -> "InferenceConfig":
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            return cls()
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: malformed YAML: {exc}") from None
        return cls(
            training_notices=[(project_root / p).resolve() for p in data.get("training_notices", [])],
            test_share_percent=int(data.get("test_share_percent", 30)),
            weights={k: float(v) for k, v in (data.get("weights") or {}).items()},
            chapter_mix=float(data.get("chapter_mix", 0.35)),
            max_df_share=float(data.get("max_df_share", 0.2)),
            chapters_zh={str(k).zfill(2): str(v) for k, v in (data.get("chapters_zh") or {}).items()},
        )


def split_bucket(record: dict[str, Any]) -> int:
    """A stable bucket 0-99 for a notice record (raw dict), from its products text."""
    text = record.get("products") or record.get("title") or record.get("description") or record.get("symbol", "")
    key = re.sub(r"\W+", "", hide_codes(str(text))).lower()[:80] or str(record.get("symbol", ""))
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100


def is_test(record: dict[str, Any], test_share_percent: int) -> bool:
    return split_bucket(record) < test_share_percent


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each JSON object line of a JSON Lines file; other lines skipped."""
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield line_no, record


def known_labels(codes: list[str], known) -> list[str]:
    """Given codes cut to what the nomenclature has (national lines to their 6 or 4 digits)."""
    labels = []
    for raw in codes:
        try:
            code = normalise_hs(raw)
        except HSCodeError:
            continue
        for stem in (code, code[:4], code[:2]):
            if len(stem) >= 2 and stem in known:
                labels.append(stem)
                break
    return list(dict.fromkeys(labels))


def notice_text(notice: Notice) -> str:
    """Every text field of a notice in every language, codes hidden (the model learns words)."""
    return hide_codes(notice.all_text())


def training_notices(config: InferenceConfig, known) -> list[tuple[str, list[str]]]:
    """(text, labels) for the training part of the configured notice files."""
    out = []
    for path in config.training_notices:
        if not path.exists():
            continue
        for _, record in read_records(path):
            if is_test(record, config.test_share_percent):
                continue
            try:
                notice = notice_from_dict(record, ignore_unknown=True)
            except NoticeError:
                continue
            labels = known_labels(notice.hs_codes, known)
            if labels:
                out.append((notice_text(notice), labels))
    return out


def build_heading_model(nlp: Language, catalogue: Catalogue, nomenclature: HSNomenclature,
                        config: InferenceConfig) -> HeadingModel:
    """Train the heading model on the nomenclature, catalogue, Chinese chapter names and notices."""
    weights = {"nomenclature": 1.0, "catalogue_terms": 2.0, "chapter_names": 1.0, "notices": 3.0, **config.weights}
    headings = [e.code for e in nomenclature.entries(4)]
    children: dict[str, list[str]] = {}
    for entry in nomenclature.entries(6):
        children.setdefault(entry.parent, []).append(entry.description)
    sources: list[tuple[str, tuple[str, ...], tuple[str, ...], float]] = []
    for h in headings:
        text = " ".join([nomenclature.description(h), *children.get(h, [])])
        sources.append((text, (h,), (), weights["nomenclature"]))
    for chapter in nomenclature.entries(2):
        sources.append((chapter.description, (), (chapter.code,), weights["nomenclature"]))
    for code, names in config.chapters_zh.items():
        sources.append((names, (), (code,), weights["chapter_names"]))
    for line in catalogue.lines:
        heads = tuple(dict.fromkeys(p[:4] for p in line.hs if len(p) >= 4))
        chaps = tuple(dict.fromkeys(p[:2] for p in line.hs))
        for terms in ((line.name_en, *line.terms_en), (line.name_zh, *line.terms_zh)):
            sources.append((" ; ".join(terms), heads, chaps, weights["catalogue_terms"]))
    for text, labels in training_notices(config, nomenclature):
        heads = tuple(c[:4] for c in labels if len(c) >= 4)
        sources.append((text, heads, tuple(c[:2] for c in labels), weights["notices"]))
    texts = []
    for (text, heads, chaps, weight), doc in zip(sources, nlp.pipe(s[0] for s in sources)):
        keys = np.unique(np.concatenate([lemma_keys(doc), bigram_keys(text)]))
        texts.append(TrainingText(keys, heads, chaps, weight))
    return HeadingModel(texts, headings, chapter_mix=config.chapter_mix, max_df_share=config.max_df_share)

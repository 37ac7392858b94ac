"""Where the heading inferrer learns from, and the fixed train/test split of real notices.

The split is a hash of a notice's products text (or title, or description) with
codes hidden, not of its symbol: the East African Community files one text under
five symbols, and a symbol hash would put copies of one text on both sides.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from spacy.language import Language

from nlp.catalogue import Catalogue
from nlp.codes import hide_codes
from nlp.inferrer import (
    HeadingModel,
    MixSettings,
    ShowSettings,
    TrainingText,
    bigram_keys,
    char_keys,
    lemma_keys,
    simplified,
)
from tbtwatch.hs import HSCodeError, HSNomenclature, normalise_hs
from tbtwatch.model import Notice, NoticeError, notice_from_dict


@dataclass
class InferenceConfig:
    """``config/catalogue/hs_inference.yaml``."""

    training_notices: list[Path] = field(default_factory=list)
    test_share_percent: int = 30
    weights: dict[str, float] = field(default_factory=dict)
    mix: MixSettings = field(default_factory=MixSettings)
    show: ShowSettings = field(default_factory=ShowSettings)
    field_weights: dict[str, float] = field(default_factory=dict)
    chapters_zh: dict[str, str] = field(default_factory=dict)
    aliases_zh: dict[str, list[str]] = field(default_factory=dict)

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
            mix=MixSettings(**{k: float(data[k]) for k in MixSettings.__dataclass_fields__
                               if data.get(k) is not None}),
            show=ShowSettings(**{k: float(v) for k, v in (data.get("show") or {}).items()}),
            field_weights={k: float(v) for k, v in (data.get("field_weights") or {}).items()},
            chapters_zh={str(k).zfill(2): str(v) for k, v in (data.get("chapters_zh") or {}).items()},
            aliases_zh={str(k).zfill(4): str(v).split() for k, v in (data.get("aliases_zh") or {}).items()},
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


ARCHIVE_LABELS = ("models", "labelled-notices.jsonl")  # under the data directory, written by --retrain


MAX_PER_CODE = 25  # labelled examples kept per first given code: enough to learn its words, bounded at archive scale


def write_labelled(notices: Iterable[Notice], path: Path, per_code: int = MAX_PER_CODE) -> int:
    """Write the notices that give HS codes (the archive's labelled examples) as JSON Lines, atomically, at most
    ``per_code`` per first given code (a 100,000-notice archive would otherwise make training take minutes);
    returns how many. The classifier learns from this file beside the configured ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count, per = 0, Counter[str]()
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=".tmp-", delete=False) as fh:
        for notice in notices:
            if notice.hs_codes and per[notice.hs_codes[0]] < per_code:
                per[notice.hs_codes[0]] += 1
                fh.write(notice.model_dump_json(exclude={"fetched_at"}) + "\n")
                count += 1
    os.replace(fh.name, path)
    return count


def training_notices(config: InferenceConfig, known, extra: Iterable[Path] = ()) -> list[tuple[str, list[str]]]:
    """(text, labels) for every notice with given codes in the configured notice files and ``extra``
    (the archive's labelled notices), one per text (a joint notification's copies count once)."""
    out, seen = [], set()
    for path in [*config.training_notices, *extra]:
        if not path.exists():
            continue
        for _, record in read_records(path):
            try:
                notice = notice_from_dict(record, ignore_unknown=True)
            except NoticeError:
                continue
            labels = known_labels(notice.hs_codes, known)
            text = notice_text(notice)
            if labels and text not in seen:
                seen.add(text)
                out.append((text, labels))
    return out


_HAS_LATIN = re.compile(r"[A-Za-z]{3}")
_NO_KEYS = np.zeros(0, dtype=np.uint64)
Source = tuple[str, tuple[str, ...], tuple[str, ...], float, bool]  # text, headings, chapters, weight, entry


_GLUED_AMPERSAND = re.compile(r"\s*&\s*")
_GLUED_STOP = re.compile(r"(?<=[A-Za-z]{2})\.(?=[A-Za-z]{2})")


def customs_english(name: str) -> str:
    """A China Customs English name with its abbreviations' glue undone ("Other sausages&similar
    products", "Fish,excl.other"): the tokenizer keeps "sausages&similar" as one token, which is no
    word, and the name's only feature left is "product"."""
    return _GLUED_STOP.sub(". ", _GLUED_AMPERSAND.sub(" and ", name))


def nomenclature_sources(nomenclature: HSNomenclature, weights: dict[str, float]) -> list[Source]:
    """Every name of every heading, each its own entry: HS 2022 descriptions, China Customs' English
    and Chinese line names, Taiwan's texts; chapter descriptions and Chinese chapter names."""
    sources: list[Source] = []
    for entry in nomenclature.entries(4):
        h = (entry.code,)
        sources.append((entry.description, h, (), weights["nomenclature"], True))
        sources += [(customs_english(name), h, (), weights["customs_en"], True)
                    for name in nomenclature.names_en_extra(entry.code)]
        sources += [(name, h, (), weights["nomenclature_zh"], True) for name in nomenclature.names_zh(entry.code)]
    for entry in nomenclature.entries(6):
        sources.append((entry.description, (entry.parent,), (), weights["nomenclature"], True))
    for chapter in nomenclature.entries(2):
        for text in (chapter.description, nomenclature.name_zh(chapter.code)):
            sources.append((text, (), (chapter.code,), weights["nomenclature"], False))
    return sources


def catalogue_sources(catalogue: Catalogue, weights: dict[str, float]) -> list[Source]:
    """Each term of each product line, as an entry of the headings under the line's prefixes."""
    sources: list[Source] = []
    for line in catalogue.lines:
        heads = tuple(dict.fromkeys(p[:4] for p in line.hs if len(p) >= 4))
        chaps = tuple(dict.fromkeys(p[:2] for p in line.hs))
        for term in (line.name_en, *line.terms_en, line.name_zh, *line.terms_zh):
            sources.append((term, heads, chaps, weights["catalogue_terms"], bool(heads)))
    return sources


def build_heading_model(nlp: Language, catalogue: Catalogue, nomenclature: HSNomenclature,
                        config: InferenceConfig,
                        labelled: list[tuple[str, list[str]]] | None = None) -> HeadingModel:
    """Train the heading model on the bilingual nomenclature, the catalogue, Chinese chapter names and
    labelled notices: ``labelled`` (text, codes) pairs, by default those of the configured notice files."""
    weights = {"nomenclature": 1.0, "nomenclature_zh": 1.0, "customs_en": 1.0, "catalogue_terms": 2.0,
               "chapter_names": 1.0, "notices": 3.0, **config.weights}
    sources = nomenclature_sources(nomenclature, weights) + catalogue_sources(catalogue, weights)
    sources += [(names, (), (code,), weights["chapter_names"], False) for code, names in config.chapters_zh.items()]
    sources += [(word, (heading,), (), weights["catalogue_terms"], True)
                for heading, words in config.aliases_zh.items() for word in words]
    for text, labels in (training_notices(config, nomenclature) if labelled is None else labelled):
        heads = tuple(c[:4] for c in labels if len(c) >= 4)
        sources.append((text, heads, tuple(c[:2] for c in labels), weights["notices"], False))
    latin = [i for i, s in enumerate(sources) if _HAS_LATIN.search(s[0])]  # Chinese names need no tokenizer
    lemmas = dict(zip(latin, map(lemma_keys, nlp.pipe(sources[i][0] for i in latin))))
    texts = []
    for i, (text, heads, chaps, weight, entry) in enumerate(sources):
        chinese = simplified(text)
        singles = char_keys(chinese) if config.mix.single_char_weight else _NO_KEYS
        keys = np.unique(np.concatenate([lemmas.get(i, _NO_KEYS), bigram_keys(chinese), singles]))
        texts.append(TrainingText(keys, heads, chaps, weight, entry))
    return HeadingModel(texts, [e.code for e in nomenclature.entries(4)], mix=config.mix,
                        field_weights=config.field_weights)

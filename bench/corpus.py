"""A realistic archive of N notices, generated from the real development notices.

The whole WTO history is about 100,000 notification documents, so benchmarks run at
that scale. Each generated notice takes a real notice as its template (its language,
area, member, HS codes and objectives) and recombines text: the title of one real
notice of the same language, and a description made of the descriptions of one to
three real notices, so lengths vary like real ones (a few hundred to a few thousand
characters). Members are drawn with the real set's frequencies; dates spread over
1995-2026 with more notices in recent years (as the WTO's yearly counts grow);
symbols are unique per member and area; one in eight documents is an addendum,
corrigendum or revision of an earlier generated notice. The seed is fixed, so every
run benchmarks the same archive.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path

from tbtwatch.model import Notice, NoticeError, notice_from_dict
from tbtwatch.settings import PROJECT_ROOT

DEV_SET = PROJECT_ROOT.parent / "shared" / "data" / "notices" / "dev.jsonl"
SUFFIXES = ("Add.1", "Add.2", "Corr.1", "Rev.1")


def real_notices(path: Path = DEV_SET) -> list[Notice]:
    if not path.exists():
        raise SystemExit(f"the development set is not at {path}; the benchmarks resample it (see bench/corpus.py)")
    notices = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            notices.append(notice_from_dict(json.loads(line)))
        except NoticeError:
            continue  # the one garbled real record
    return notices


def _date(rng: random.Random) -> dt.date:
    year = 1995 + int((rng.random() ** 0.6) * 31.99)  # skewed towards recent years
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def generate(count: int, seed: int = 20261125, language: str | None = None) -> Iterator[Notice]:
    """``count`` notices. With ``language``, the text (title, description, products, objectives) comes from
    the real notices in that language whatever the template's (ePing's English export has English text for
    every member); member, area, HS codes and dates still follow every template."""
    rng = random.Random(seed)
    templates = real_notices()
    by_language: dict[str, list[Notice]] = {}
    for n in templates:
        by_language.setdefault(n.language, []).append(n)
    numbers: dict[tuple[str, str], int] = {}
    issued: list[str] = []
    for _ in range(count):
        template = rng.choice(templates)
        donors = by_language[language or template.language]
        text = rng.choice(donors) if language else template
        if issued and rng.random() < 0.125:
            symbol = f"{rng.choice(issued)}/{rng.choice(SUFFIXES)}"
        else:
            key = (template.area, template.member_code or "EU")
            numbers[key] = numbers.get(key, 0) + 1
            symbol = f"G/{key[0]}/N/{key[1]}/{numbers[key]}"
            issued.append(symbol)
        parts = [text.description] + [rng.choice(donors).description for _ in range(rng.randrange(3))]
        day = _date(rng)
        own_text = ({"products": text.products, "objectives": text.objectives, "language": language}
                    if language else {})
        yield notice_from_dict({
            **template.model_dump(exclude={"symbol", "symbols", "base_symbol", "kind", "area", "title", "description",
                                           "distribution_date", "comment_deadline", "fetched_at"}),
            **own_text,
            "symbol": symbol,
            "title": rng.choice(donors).title or text.title,
            "description": "\n".join(p for p in parts if p),
            "distribution_date": day,
            "comment_deadline": day + dt.timedelta(days=60) if rng.random() < 0.8 else None,
        })

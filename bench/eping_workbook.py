"""An ePing-shaped bulk workbook of N rows, generated from the real development notices.

The columns are the ones the ``eping_bulk`` spider maps (its first header name for each field)
plus ``Keywords``, a column the real file has and no field claims. Cells have the real file's
shapes: dates as Excel date cells, code lists joined with "; ", some descriptions as HTML
fragments, "To be determined" for proposed dates that are not known, the ePing link per row.
The notices come from ``bench.corpus.generate`` with English text (the file is ePing's English
export; members, areas, HS codes and dates follow every development notice), so descriptions
have real lengths. One TBT notice in 60 is
an East African Community joint notification: the same text on one row per partner, each with
its own symbol, as the export lists them. The file is written once per size and version and
kept in the benchmark directory.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

from bench.common import bench_dir
from bench.corpus import generate
from tbtwatch.members import default_members
from tbtwatch.model import Notice
from tbtwatch.symbols import parse_symbol

VERSION = 2  # bump when the rows below change: cached files of older versions are not reused
EAC = ("KEN", "UGA", "TZA", "RWA", "BDI")
JOINT_SHARE = 1 / 60
TO_BE_DETERMINED = "To be determined"


def header() -> list[str]:
    from crawlers.spiders.eping_bulk import EpingBulkSpider

    return [names[0] for names in EpingBulkSpider.columns.values()] + ["Keywords"]


def _excel_day(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(0)) if day else None


def _description(text: str, rng: random.Random) -> str:
    """One in three as ePing's HTML fragment (a paragraph per line), the rest as plain text."""
    if rng.random() < 1 / 3:
        return "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
    return text


def _cells(notice: Notice, member: str, rng: random.Random) -> dict[str, object]:
    proposed = _excel_day(notice.distribution_date + dt.timedelta(days=rng.randrange(90, 400))) \
        if notice.distribution_date and rng.random() < 0.4 else TO_BE_DETERMINED
    return {
        "Document symbol": notice.symbol,
        "Notifying Member": member,
        "Title": notice.title or notice.products or notice.description[:120],
        "Description": _description(notice.description, rng),
        "Products covered": notice.products,
        "HS code(s)": "; ".join(notice.hs_codes),
        "ICS code(s)": "; ".join(notice.ics_codes),
        "Objectives": "; ".join(notice.objectives),
        "Distribution date": _excel_day(notice.distribution_date),
        "Final date for comments": _excel_day(notice.comment_deadline),
        "Proposed date of adoption": proposed,
        "Proposed date of entry into force": proposed,
        "Link to notification(EN)": f"https://eping.wto.org/en/Search?viewData={notice.symbol}",
        "Link to notification(FR)": f"https://eping.wto.org/fr/Search?viewData={notice.symbol}",
        "Link to notification(ES)": f"https://eping.wto.org/es/Search?viewData={notice.symbol}",
        "Notified document": f"https://members.wto.org/crnattachments/{notice.symbol.replace('/', '_')}.pdf"
        if rng.random() < 0.5 else None,
        "Keywords": None,
    }


def rows(count: int, seed: int = 20261126) -> Iterator[dict[str, object]]:
    """``count`` rows as {header: cell}; joint notifications' partner rows count towards ``count``."""
    rng = random.Random(seed)
    members = default_members()
    notices = list(generate(count, seed=seed, language="en"))
    highest: dict[str, int] = {}  # partner rows are numbered above every generated symbol of their member
    for notice in notices:
        parsed = parse_symbol(notice.symbol)
        highest[parsed.member_code] = max(highest.get(parsed.member_code, 0), parsed.number)
    written = 0
    for notice in notices:
        code = notice.member_code or "EU"
        member = members.get(code)
        yield _cells(notice, member.name_en if member else notice.member, rng)
        written += 1
        if notice.area == "TBT" and notice.kind == "regular" and rng.random() < JOINT_SHARE:
            for partner in EAC:
                if written >= count:
                    return
                highest[partner] = highest.get(partner, 0) + 1
                partner_notice = notice.model_copy(update={"symbol": f"G/TBT/N/{partner}/{highest[partner]}"})
                yield _cells(partner_notice, members.get(partner).name_en, rng)
                written += 1
        if written >= count:
            return


def write(path: Path, count: int, seed: int = 20261126) -> Path:
    from openpyxl import Workbook

    columns = header()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Notifications")
    sheet.append(columns)
    for row in rows(count, seed):
        sheet.append([row[c] for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    book.save(partial)
    partial.replace(path)
    return path


def workbook(count: int) -> Path:
    """The cached workbook of ``count`` rows, written first if needed."""
    path = bench_dir() / f"eping_bulk_{count}_v{VERSION}.xlsx"
    return path if path.exists() else write(path, count)

"""Notices in and out as JSON Lines and CSV: the archive's exchange formats."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from tbtwatch.model import Notice, NoticeError, notice_from_dict, over_caps

CSV_FIELDS = ["symbol", "area", "kind", "member_code", "member", "distribution_date", "comment_deadline", "title",
              "description", "products", "hs_codes", "ics_codes", "objectives", "language", "urls", "base_symbol",
              "symbols"]


@dataclass
class ReadResult:
    """What a JSON Lines file held: valid notices, bad lines, and lines whose text was cut at the model's caps."""

    notices: list[Notice] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    cut: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line number, the line, fields)


def read_notices(lines: Iterable[str]) -> ReadResult:
    """Validate each line; a bad one is reported by number, a capped one remembered with its full text."""
    result = ReadResult()
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append((line_no, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(data, dict):
            result.errors.append((line_no, "expected a JSON object with the notice's fields"))
            continue
        try:
            result.notices.append(notice_from_dict(data))
        except NoticeError as exc:
            result.errors.append((line_no, str(exc)))
            continue
        if over := over_caps(data):
            result.cut.append((line_no, line, over))
    return result


def notice_csv_row(notice: Notice) -> dict[str, str]:
    data = notice.model_dump(mode="json")
    return {f: "; ".join(data[f]) if isinstance(data[f], list) else ("" if data[f] is None else str(data[f]))
            for f in CSV_FIELDS}


def write_jsonl(notices: Iterable[Notice], fh: IO[str]) -> int:
    count = 0
    for notice in notices:
        fh.write(notice.model_dump_json() + "\n")
        count += 1
    return count

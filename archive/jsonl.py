"""Notices in and out as JSON Lines and CSV: the archive's exchange formats."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from tbtwatch.model import Notice, NoticeError, notice_from_dict

CSV_FIELDS = ["symbol", "area", "kind", "member_code", "member", "distribution_date", "comment_deadline", "title",
              "description", "products", "hs_codes", "ics_codes", "objectives", "language", "urls", "base_symbol",
              "symbols"]


def read_notices(lines: Iterable[str]) -> tuple[list[Notice], list[tuple[int, str]]]:
    """Valid notices, and (line number, reason) for each line that is not one."""
    notices: list[Notice] = []
    errors: list[tuple[int, str]] = []
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append((line_no, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(data, dict):
            errors.append((line_no, "expected a JSON object with the notice's fields"))
            continue
        try:
            notices.append(notice_from_dict(data))
        except NoticeError as exc:
            errors.append((line_no, str(exc)))
    return notices, errors


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

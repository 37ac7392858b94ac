"""Notices in and out as JSON Lines and CSV: the archive's exchange formats."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from tbtwatch.members import Members, default_members
from tbtwatch.model import Notice, NoticeError, notice_from_dict
from tbtwatch.symbols import SymbolError, parse_symbol

CSV_FIELDS = ["symbol", "area", "kind", "member_code", "member", "distribution_date", "comment_deadline", "title",
              "description", "products", "hs_codes", "ics_codes", "objectives", "language", "urls", "base_symbol",
              "symbols"]


TEXT_FIELDS = ("symbol", "member", "title", "description", "products", "adoption_date", "entry_into_force",
               "language", "source", "distribution_date", "comment_deadline", "url")
LIST_FIELDS = ("hs_codes", "ics_codes", "objectives", "urls", "symbols")


def field_problems(data: dict[str, Any], members: Members) -> list[str]:
    """What an imported record gets wrong that the model would quietly coerce: a number where text belongs, a
    string where a list belongs, a member code no WTO member has (``G/TBT/N/XXX/1``)."""
    problems = [f"{name}: expected text, got {type(data[name]).__name__} {data[name]!r}"
                for name in TEXT_FIELDS if data.get(name) is not None and not isinstance(data[name], str)]
    for name in LIST_FIELDS:
        value = data.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(f"{name}: expected a list of texts, got {value!r}")
    try:
        code = parse_symbol(str(data.get("symbol", ""))).member_code
    except SymbolError:
        return problems  # the model names the bad symbol
    if code and members.get(code) is None:
        problems.append(f"member {code} of {data['symbol']} is not in config/members.yaml (a WTO member code such "
                        "as USA, EU or TPKM)")
    return problems


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
        problems = field_problems(data, default_members())
        if problems:
            errors.append((line_no, f"notice {data.get('symbol', '?')}: " + "; ".join(problems)))
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

"""Notices in and out as JSON Lines and CSV: the archive's exchange formats.

Every CSV of notices (``tbtwatch export``, the web and API exports) is written by ``NoticeCsvWriter``, which
guards the cells a spreadsheet would run as a formula: crawled text is untrusted in a spreadsheet too.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from tbtwatch.members import Members, default_members
from tbtwatch.model import Notice, NoticeError, notice_from_dict, over_caps
from tbtwatch.symbols import SymbolError, parse_symbol

CSV_FIELDS = ["symbol", "area", "kind", "member_code", "member", "member_zh", "distribution_date", "comment_deadline", "title",
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


@dataclass
class ReadResult:
    """What a JSON Lines file held: valid notices, bad lines, and lines whose text was cut at the model's caps."""

    notices: list[Notice] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # each notice's line number
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    cut: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line number, the line, fields)


def read_notices(lines: Iterable[bytes | str]) -> ReadResult:
    """Validate each line on its own; a bad one is reported by number, a capped one remembered in full.

    Lines are decoded one by one (a file given as bytes), so one line in another encoding, nested deeper
    than the parser can go or holding a number too long to convert costs that line only.
    """
    result = ReadResult()
    members = default_members()
    for line_no, raw in enumerate(lines, 1):
        try:
            line = _decoded(raw, first=line_no == 1)
            data = _parsed(line)
        except ValueError as exc:
            result.errors.append((line_no, str(exc)))
            continue
        if data is None:
            continue
        problems = field_problems(data, members)
        if problems:
            result.errors.append((line_no, f"notice {data.get('symbol', '?')}: " + "; ".join(problems)))
            continue
        try:
            result.notices.append(notice_from_dict(data))
            result.lines.append(line_no)
        except NoticeError as exc:
            result.errors.append((line_no, str(exc)))
            continue
        if over := over_caps(data):
            result.cut.append((line_no, line, over))
    return result


def _decoded(raw: bytes | str, *, first: bool) -> str:
    if isinstance(raw, str):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}): "
                         "save the file as UTF-8") from None
    return text.removeprefix("\ufeff") if first else text


def _parsed(line: str) -> dict | None:
    """The line's JSON object, None for a blank line; ``ValueError`` saying what is wrong otherwise."""
    if not line.strip():
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ValueError("nested too deeply to read: a notice is one JSON object of fields and lists") from None
    except ValueError as exc:  # int(): a number of more than sys.get_int_max_str_digits() digits
        raise ValueError(f"holds a number with more than {sys.get_int_max_str_digits():,} digits, "
                         f"which no notice field takes ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with the notice's fields")
    return data


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what makes Excel, LibreOffice and Sheets evaluate a cell


def spreadsheet_cell(value: str) -> str:
    """``value`` with an apostrophe in front if a spreadsheet would run it (OWASP's CSV-injection advice); the
    apostrophe is not shown, and the text stays as notified."""
    return "'" + value if value.startswith(FORMULA_START) else value


class NoticeCsvWriter(csv.DictWriter):
    """A ``csv.DictWriter`` whose every cell goes through ``spreadsheet_cell``."""

    def __init__(self, fh: IO[str], fieldnames: Sequence[str]):
        super().__init__(fh, fieldnames=fieldnames, lineterminator="\r\n")
        self._known = frozenset(fieldnames)

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        """The row's cells in the header's order, as ``DictWriter`` writes them (a missing field is empty, an
        unknown one a ``ValueError``), made as one list: an export writes thousands of rows per request."""
        if not self._known.issuperset(rowdict):
            raise ValueError(f"dict contains fields not in fieldnames: {sorted(set(rowdict) - self._known)}")
        return self.writer.writerow([spreadsheet_cell(str(rowdict.get(name, ""))) for name in self.fieldnames])

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


_RECORD_CSV_FIELDS = [name for name in CSV_FIELDS if name != "member_zh"]  # member_zh: from members.yaml


def notice_csv_row(record: Mapping[str, Any]) -> dict[str, str]:
    """One notice as CSV cells, from its fields as JSON values (``Notice.model_dump(mode="json")``, or a search
    hit's ``record``: an export need not validate each row into the model); the member by its one English and
    Chinese name (members.yaml), not as each source spelt it ("UNITED STATES OF AMERICA")."""
    row = {}
    for name in _RECORD_CSV_FIELDS:
        value = record.get(name)
        row[name] = "; ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
    member = default_members().get(row["member_code"]) if row["member_code"] else None
    row["member"], row["member_zh"] = (member.name_en, member.name_zh) if member else (row["member"], "")
    return row


def write_jsonl(notices: Iterable[Notice], fh: IO[str]) -> int:
    count = 0
    for notice in notices:
        fh.write(notice.model_dump_json() + "\n")
        count += 1
    return count

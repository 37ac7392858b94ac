"""The first sheet of an .xlsx workbook as rows of plain Python values, read by calamine or openpyxl.

ePing's bulk export is one workbook of about 100,000 rows (45 MB). openpyxl's read-only
reader parses its XML in Python; calamine (Rust, ``python-calamine``) parses it in native code
and is the default because ``bench backfill`` measures it several times faster on the same file
(see the README's figures). openpyxl stays as the reference the benchmark checks calamine against.

The two libraries write the same cell differently, so both are brought to one form here: an empty
cell is ``None`` (calamine gives ``""``), a whole number is an ``int`` (calamine gives ``float``),
a date cell at midnight is a ``date`` (openpyxl gives a ``datetime``), and trailing empty cells
are dropped (the readers pad rows to different widths).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Generator
from typing import Any

Row = tuple[Any, ...]
Rows = Generator[Row, None, None]


def _cell(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _row(cells: Any) -> Row:
    row = [_cell(c) for c in cells]
    while row and row[-1] is None:
        row.pop()
    return tuple(row)


class WorkbookError(ValueError):
    """Bytes that are not a readable .xlsx workbook."""


def _unreadable(reader: str, exc: Exception) -> WorkbookError:
    return WorkbookError(f"not a readable .xlsx workbook ({reader}: {exc}); an .xlsx file is a zip archive of "
                         "XML parts: this one may be cut off or of another format, so download it again")


def rows_calamine(data: bytes) -> Rows:
    """Rows of the first sheet via calamine (the sheet is decoded natively, then handed out row by row)."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError as exc:
        raise _unreadable("calamine", exc) from exc
    try:
        if not workbook.sheet_names:
            return
        for cells in workbook.get_sheet_by_index(0).iter_rows():
            yield _row(cells)
    finally:
        workbook.close()


def rows_openpyxl(data: bytes) -> Rows:
    """Rows of the first sheet via openpyxl's read-only (streaming) reader."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError) as exc:
        raise _unreadable("openpyxl", exc) from exc
    try:
        for cells in workbook.worksheets[0].iter_rows(values_only=True):
            yield _row(cells)
    finally:
        workbook.close()


READERS: dict[str, Callable[[bytes], Rows]] = {"calamine": rows_calamine, "openpyxl": rows_openpyxl}
DEFAULT_READER = "calamine"


def read_rows(data: bytes, reader: str = DEFAULT_READER) -> Rows:
    """The first sheet's rows, header included, each a tuple of plain values (see the module docstring)."""
    if reader not in READERS:
        raise ValueError(f"unknown workbook reader {reader!r}; use one of {', '.join(READERS)}")
    return READERS[reader](data)

"""crawlers.workbook: calamine and openpyxl read the same workbook to the same values."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from crawlers.replay import FIXTURE_ROOT
from crawlers.workbook import READERS, WorkbookError, read_rows

BULK = FIXTURE_ROOT / "eping.wto.org" / "NotificationExcelFiles" / "Notification_EN.xlsx"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_readers_agree_on_the_bulk_fixture():
    data = BULK.read_bytes()
    calamine, openpyxl = (list(read_rows(data, name)) for name in ("calamine", "openpyxl"))
    assert calamine == openpyxl
    assert calamine[0][:2] == ("Distribution date", "Document symbol")
    assert isinstance(calamine[1][0], dt.date) and not isinstance(calamine[1][0], dt.datetime)


def test_cells_come_out_in_one_form_whichever_reader():
    data = _xlsx([["HS code(s)", "count", "share", "when", "at", "note", None],
                  [850760, 3, 0.25, dt.datetime(2025, 7, 21), dt.datetime(2025, 7, 21, 9, 30), "", None],
                  [None, None, None, None, None, "电池; 玩具", None]])
    expected = [("HS code(s)", "count", "share", "when", "at", "note"),
                (850760, 3, 0.25, dt.date(2025, 7, 21), dt.datetime(2025, 7, 21, 9, 30)),
                (None, None, None, None, None, "电池; 玩具")]
    for name in READERS:
        assert list(read_rows(data, name)) == expected, name


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_cut_file_is_a_clear_error(reader):
    with pytest.raises(WorkbookError, match="not a readable .xlsx workbook.*download it again"):
        list(read_rows(BULK.read_bytes()[:4000], reader))


def test_an_unknown_reader_is_named():
    with pytest.raises(ValueError, match="unknown workbook reader 'xlrd'; use one of calamine, openpyxl"):
        read_rows(b"", "xlrd")

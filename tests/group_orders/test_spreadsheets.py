"""The streaming XLSX writer and CSV formula safety (no database)."""

import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from group_orders.spreadsheets import XlsxStreamWriter, formula_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-Minus", "'-Minus"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("-12.5", "-12.5"),
        ("+16045551234", "+16045551234"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_formula_safe(value, expected):
    assert formula_safe(value) == expected


def test_written_cells_read_back_as_they_were(tmp_path):
    path = tmp_path / "cells.xlsx"
    writer = XlsxStreamWriter(path, sheet_name="Tricky: [sheet]")
    tricky = [
        '=HYPERLINK("http://evil.example","x")',
        "a & b < c > d",
        "  spaced  ",
        "emoji 🎉 and ünïcode",
        "literal _x0041_ stays",
        "bell\x07 and vertical\x0b tab are dropped",
        "line\nbreak",
    ]
    writer.write_row(["text", "number", "flag"], bold=True)
    writer.write_row(tricky)
    writer.write_row(
        [
            12,
            Decimal("12.50"),
            1.25,
            True,
            date(2026, 3, 1),
            datetime(2026, 3, 1, 14, 30),  # noqa: DTZ001 - a naive Excel date-time
            time(9, 15),
            None,
            "",
        ]
    )
    writer.write_row(["x" * 40000])
    writer.close()

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                ElementTree.fromstring(archive.read(name))  # well-formed XML
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # never a formula

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0][:3] == ["text", "number", "flag"]
    assert rows[1][:7] == [
        '=HYPERLINK("http://evil.example","x")',
        "a & b < c > d",
        "  spaced  ",
        "emoji 🎉 and ünïcode",
        "literal _x0041_ stays",
        "bell and vertical tab are dropped",
        "line\nbreak",
    ]
    assert rows[2][:4] == [12, 12.5, 1.25, True]
    assert rows[2][4] == date(2026, 3, 1)
    assert rows[2][5] == datetime(2026, 3, 1, 14, 30)  # noqa: DTZ001
    assert rows[2][6] == time(9, 15)
    assert len(rows[3][0]) == 32767  # Excel's limit


def test_memory_does_not_hold_rows(tmp_path):
    writer = XlsxStreamWriter(tmp_path / "many.xlsx")
    for n in range(5000):
        writer.write_row([f"row {n}", n])
        assert len(writer._buffer) < 500
    writer.close()
    rows = CalamineWorkbook.from_path(str(tmp_path / "many.xlsx")).get_sheet_by_index(0)
    assert rows.height == 5000


def _both_readers(path):
    from group_orders.spreadsheets import xlsx_rows, xlsx_rows_streaming

    with open(path, "rb") as handle:
        by_calamine = list(xlsx_rows(handle, stream_above=10**12))
    with open(path, "rb") as handle:
        streamed = list(xlsx_rows_streaming(handle))
    return by_calamine, streamed


def _trimmed(rows):
    out = []
    for number, cells in rows:
        cells = list(cells)
        while cells and cells[-1] == "":
            cells.pop()
        if cells:
            out.append((number, cells))
    return out


def test_the_streaming_reader_reads_what_calamine_reads(tmp_path):
    import xlsxwriter

    from tests.factories.group_orders import FIXTURES

    # xlsxwriter: shared strings, dates, numbers, booleans, blank cells, an offset start
    path = tmp_path / "typed.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    clock = workbook.add_format({"num_format": "hh:mm"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(1, 1, ["first_name", "email", "due", "at", "when", "n", "ok"])
    sheet.write_row(2, 1, ["Ada & <Co>", "a@example.com"])
    sheet.write_datetime(2, 3, datetime(2026, 3, 1), day)  # noqa: DTZ001
    sheet.write_datetime(2, 4, datetime(1900, 1, 1, 9, 30), clock)  # noqa: DTZ001
    sheet.write_datetime(2, 5, datetime(2026, 3, 1, 8, 15, 30), stamp)  # noqa: DTZ001
    sheet.write_number(2, 6, 12.5)
    sheet.write_boolean(2, 7, False)
    sheet.write_row(4, 1, ["Grace", "", "", "", "", 7, True])
    workbook.close()

    for workbook_path in (path, FIXTURES / "orders.xlsx"):
        by_calamine, streamed = _both_readers(workbook_path)
        assert _trimmed(streamed) == _trimmed(by_calamine), workbook_path


def test_the_streaming_reader_reads_our_own_reports(tmp_path):
    path = tmp_path / "ours.xlsx"
    writer = XlsxStreamWriter(path)
    writer.write_row(["rejected_reason", "source_row", "first_name"], bold=True)
    writer.write_row(["why", 3, '=HYPERLINK("x")', "", "extra"])
    writer.write_row(["literal _x0041_", 4, date(2026, 1, 2)])
    writer.close()
    by_calamine, streamed = _both_readers(path)
    assert _trimmed(streamed) == _trimmed(by_calamine)
    assert streamed[1][1] == ["why", 3, '=HYPERLINK("x")', "", "extra"]

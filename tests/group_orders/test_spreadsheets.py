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


REPORT_COLUMNS = {
    "plain text": ["Ada", "Grace", "Ada"],
    "text with blanks": ["", "x", ""],
    "only blanks": ["", ""],
    "text to make formula safe": ["plain", "=1+2", "-12.5", "@x"],
    "text to escape for XML": ["a & b", "c < d", "e > f", "ok"],
    "text with a literal escape": ["_x0041_", "ab_", "x0041_"],
    "text with control characters": ["bell\x07", "line\nbreak", "tab\t"],
    "a cell longer than Excel allows": ["x" * 40000, "short"],
    "numbers": [1, 22, Decimal("3.50"), Decimal("-4"), -5],
    "booleans": [True, False, True],
    "booleans and blanks": [True, "", False],
    "dates": [date(2026, 1, 2), date(2026, 1, 2), date(2027, 12, 31)],
    "dates and blanks": [date(2026, 1, 2), ""],
    "dates, blanks and None": [None, date(2026, 1, 2), "", date(2026, 1, 2), "=x & y", None],
    "booleans and text": [True, "yes & no", False, True, "", "=1"],
    "times and date-times": [time(9, 15), datetime(2026, 3, 1, 14, 30)],  # noqa: DTZ001
    "floats": [1.25, float("nan"), 2.0],
    "None": [None, None],
    "mixed": [None, "x", 3, Decimal("1.5"), True, date(2026, 1, 2), ["a", "b"], 1.5],
    "lists": [["retouch", "frame"], [], ["=x"]],
}


@pytest.mark.parametrize("values", REPORT_COLUMNS.values(), ids=list(REPORT_COLUMNS))
def test_a_report_column_converted_at_once_is_each_cell_converted(values):
    from group_orders.spreadsheets import XlsxStreamWriter as Writer
    from group_orders.spreadsheets import _column_xml, _csv_cell, _csv_column, _xlsx_column

    numbers = [str(n) for n in range(7, 7 + len(values))]
    assert list(_csv_column(values)) == [_csv_cell(value) for value in values]
    for style in ("", ' s="1"'):
        cells = list(_xlsx_column(values))
        assert _column_xml("C", numbers, cells, style) == [
            Writer._cell(f"C{number}", cell, style)
            for number, cell in zip(numbers, cells, strict=True)
        ]


def test_rows_of_any_lengths_are_written_as_given(tmp_path):
    path = tmp_path / "rows.xlsx"
    writer = XlsxStreamWriter(path)
    writer.write_rows([["a", 1], [], ["b", None, "c & d"]])
    writer.write_row(["last"])
    writer.close()
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    body = sheet[sheet.index("<sheetData>") + len("<sheetData>") : sheet.index("</sheetData>")]
    assert body == (
        '<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">a</t></is></c>'
        '<c r="B1"><v>1</v></c></row>'
        '<row r="2"></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve">b</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t xml:space="preserve">c &amp; d</t></is></c></row>'
        '<row r="4"><c r="A4" t="inlineStr"><is><t xml:space="preserve">last</t></is></c></row>'
    )


def test_the_report_files_show_each_accepted_row_cell_by_cell(tmp_path):
    import csv

    from group_orders.spreadsheets import ReportFileWriter, _csv_cell

    accepted = [
        ["1001", 2, "Ada", "=cmd", date(2026, 1, 2), True, Decimal("-1.50"), ["a", "b"], ""],
        ["1002", 3, "Grace", "plain", date(2026, 1, 2), False, Decimal("2"), [], "x"],
    ]
    columns = ["first_name", "notes", "due_date", "delivery_rush", "order_total", "addons", "n"]
    writer = ReportFileWriter(tmp_path, columns=columns, rejected_header=["a"])
    writer.write([list(column) for column in zip(*accepted, strict=True)], [["why", 4, "cell"]])
    writer.close()

    with open(tmp_path / ReportFileWriter.NORMALIZED, encoding="utf-8", newline="") as handle:
        written = list(csv.reader(handle))
    assert written == [
        [*columns, "source_row"],
        *([*map(_csv_cell, row[2:]), str(row[1])] for row in accepted),
    ]
    assert written[1][1] == "'=cmd"
    sheet = CalamineWorkbook.from_path(str(tmp_path / ReportFileWriter.ACCEPTED))
    rows = sheet.get_sheet_by_index(0).to_python()
    assert rows[1][:4] == ["1001", 2, "Ada", "=cmd"]
    assert rows[1][7] == "a|b"

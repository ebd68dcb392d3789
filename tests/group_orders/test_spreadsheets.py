"""The streaming XLSX writer and CSV formula safety (no database)."""

import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from group_orders.spreadsheets import UnreadableCell, XlsxStreamWriter, formula_safe
from tests.factories.spreadsheets import MAIN_NS, handmade_xlsx, inline_cell


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
    from group_orders.spreadsheets import xlsx_rows_calamine, xlsx_rows_streaming

    with open(path, "rb") as handle:
        by_calamine = list(xlsx_rows_calamine(handle))
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


# A cell (its reference "@") and the value calamine gives for it (python-calamine 0.9.1).
FORMULA_AND_ODD_CELLS = {
    # openpyxl saves every formula so, with no cached value: an empty cell
    "formula with <v />, as openpyxl writes it": (
        '<c r="@"><f>CONCATENATE("a","b")</f><v /></c>',
        "",
    ),
    "number formula with no <v>": ('<c r="@"><f>1+1</f></c>', ""),
    "number formula with a cached value": ('<c r="@"><f>1+1</f><v>2</v></c>', 2),
    "string formula with an empty <v/>": ('<c r="@" t="str"><f>A1&amp;"x"</f><v/></c>', ""),
    "string formula with no <v>": ('<c r="@" t="str"><f>A1&amp;"x"</f></c>', ""),
    "string formula with a cached value": ('<c r="@" t="str"><f>A1&amp;"x"</f><v>kx</v></c>', "kx"),
    "error cell": ('<c r="@" t="e"><v>#DIV/0!</v></c>', ""),
    "error formula": ('<c r="@" t="e"><f>1/0</f><v>#DIV/0!</v></c>', ""),
    "#N/A formula": ('<c r="@" t="e"><f>NA()</f><v>#N/A</v></c>', ""),
    "inline string formula": ('<c r="@" t="inlineStr"><f>"x"</f><is><t>x</t></is></c>', "x"),
    "boolean formula, cached TRUE": ('<c r="@" t="b"><f>1=1</f><v>1</v></c>', True),
    "boolean formula, cached FALSE": ('<c r="@" t="b"><f>1=2</f><v>0</v></c>', False),
    "boolean formula with an empty <v/>": ('<c r="@" t="b"><f>1=1</f><v/></c>', ""),
    'boolean cell written "true"': ('<c r="@" t="b"><v>true</v></c>', True),
    'boolean cell written "TRUE"': ('<c r="@" t="b"><v>TRUE</v></c>', True),
    'boolean cell written "false"': ('<c r="@" t="b"><v>false</v></c>', False),
    "date formula with a cached value": (
        '<c r="@" s="1"><f>DATE(2026,1,2)</f><v>46024</v></c>',
        date(2026, 1, 2),
    ),
    "date formula with an empty <v/>": ('<c r="@" s="1"><f>TODAY()</f><v/></c>', ""),
    "number cell with an empty <v/>": ('<c r="@"><v/></c>', ""),
    'number cell (t="n") with an empty <v/>': ('<c r="@" t="n"><v></v></c>', ""),
    "shared string cell with an empty <v/>": ('<c r="@" t="s"><v/></c>', ""),
    "untyped cell holding text": ('<c r="@"><v>n/a</v></c>', "n/a"),
}


def _kinds(cells):
    """Each cell's type, int and float alike: calamine gives every number as a float, the
    streaming reader a whole number as an int (equal values)."""
    kinds = {int: float, UnreadableCell: str}  # an unreadable cell is blank text as well
    return [kinds.get(type(cell), type(cell)) for cell in cells]


@pytest.mark.parametrize(
    ("cell", "expected"), FORMULA_AND_ODD_CELLS.values(), ids=list(FORMULA_AND_ODD_CELLS)
)
def test_formula_error_and_empty_cells_read_as_calamine_reads_them(tmp_path, cell, expected):
    # between two text cells, so neither reader trims the cell away as a trailing blank
    row = inline_cell("A2", "key") + cell.replace("@", "B2") + inline_cell("C2", "end")
    path = handmade_xlsx(tmp_path / "cell.xlsx", [inline_cell("A1", "header"), row])

    by_calamine, streamed = _both_readers(path)

    assert by_calamine[1] == (2, ["key", expected, "end"])
    assert streamed[1] == (2, ["key", expected, "end"])
    assert _kinds(streamed[1][1]) == _kinds(by_calamine[1][1])  # True == 1, but not the same


UNREADABLE = {
    "formula with <v />, as openpyxl writes it",
    "number formula with no <v>",
    "string formula with an empty <v/>",
    "string formula with no <v>",
    "error cell",
    "error formula",
    "#N/A formula",
    "boolean formula with an empty <v/>",
    "date formula with an empty <v/>",
}


@pytest.mark.parametrize("name", list(FORMULA_AND_ODD_CELLS))
def test_our_reader_tells_a_missing_result_or_an_error_from_a_blank(tmp_path, name):
    from group_orders.spreadsheets import UNCOMPUTED_FORMULA, xlsx_rows

    cell, _ = FORMULA_AND_ODD_CELLS[name]
    row = inline_cell("A2", "key") + cell.replace("@", "B2") + inline_cell("C2", "end")
    path = handmade_xlsx(tmp_path / "cell.xlsx", [inline_cell("A1", "header"), row])
    with open(path, "rb") as handle:
        value = list(xlsx_rows(handle))[1][1][1]  # a small sheet: our reader all the same
    assert (type(value) is UnreadableCell) == (name in UNREADABLE)
    if name in UNREADABLE:
        assert value == "" and value.reason
        assert (value is UNCOMPUTED_FORMULA) == ("error" not in name and "#N/A" not in name)


def test_a_big_sheet_with_uncomputed_formulas_and_errors_is_read_to_the_end(tmp_path):
    """The streaming reader used to raise on a formula with no cached value: the import job
    failed after committing the batches before it. Such a cell is now blank, so its row is
    rejected ("is required") as calamine's blank would be, and the rows after it are read."""
    from group_orders.spreadsheets import is_blank, xlsx_rows, xlsx_rows_calamine

    header = ["external_id", "first_name", "last_name", "email", "service_type"]
    good = ["E-{n}", "Ada", "Lovelace", "ada{n}@example.com", "portrait"]
    uncomputed = {
        "first_name": '<c r="@" t="str"><f>CONCATENATE("a","b")</f><v/></c>',
        "last_name": '<c r="@"><f>1+1</f><v /></c>',
        "email": '<c r="@" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
    }
    rows = [header]
    for n in range(2, 7):
        rows.append([text.format(n=n) for text in good])
    for offset, (column, cell) in enumerate(uncomputed.items()):
        rows[2 + offset][header.index(column)] = cell
    xml_rows = [
        "".join(
            text.replace("@", f"{letter}{number}")
            if text.startswith("<c ")
            else inline_cell(f"{letter}{number}", text)
            for letter, text in zip("ABCDE", cells, strict=True)
        )
        for number, cells in enumerate(rows, 1)
    ]
    path = handmade_xlsx(tmp_path / "uncomputed.xlsx", xml_rows)

    with open(path, "rb") as handle:
        streamed = list(xlsx_rows(handle, stream_above=0))  # read as a big sheet is
    with open(path, "rb") as handle:
        by_calamine = list(xlsx_rows_calamine(handle))
    with open(path, "rb") as handle:
        small_sheet = list(xlsx_rows(handle))  # formulas: read by our reader as well

    assert streamed == by_calamine == small_sheet
    assert [number for number, _ in streamed] == [1, 2, 3, 4, 5, 6]
    assert streamed[-1][1] == ["E-6", "Ada", "Lovelace", "ada6@example.com", "portrait"]
    for number, column in ((3, "first_name"), (4, "last_name"), (5, "email")):
        cells = streamed[number - 1][1]
        assert cells[header.index(column)] == "", column  # blank, as calamine reads it
        # ... but our reader says it is not a blank the file holds
        assert type(cells[header.index(column)]) is UnreadableCell, column
        assert type(small_sheet[number - 1][1][header.index(column)]) is UnreadableCell
        assert not is_blank(cells)  # a row to reject with a reason, not to skip


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

    # formula, error and empty-valued cells, one a row, in the second column
    odd_cells = handmade_xlsx(
        tmp_path / "formulas.xlsx",
        [
            inline_cell(f"A{number}", "key") + cell.replace("@", f"B{number}")
            for number, (cell, _) in enumerate(FORMULA_AND_ODD_CELLS.values(), 1)
        ],
    )

    for workbook_path in (path, FIXTURES / "orders.xlsx", odd_cells):
        by_calamine, streamed = _both_readers(workbook_path)
        assert _trimmed(streamed) == _trimmed(by_calamine), workbook_path


# Excel's 1900 system: serial 1 is 1900-01-01, 60 the fictitious 1900-02-29, 61 1900-03-01
EARLY_AND_ORDINARY_DATES = {
    date(1900, 1, 1): "1",
    date(1900, 2, 28): "59",
    date(1900, 3, 1): "61",
    date(2026, 12, 7): "46363",
    datetime(1900, 1, 1, 9, 30): "1.3958333333333333",  # noqa: DTZ001
    datetime(1900, 2, 28, 23, 59, 59): "59.99998842592593",  # noqa: DTZ001
    datetime(1900, 3, 1, 12, 0): "61.5",  # noqa: DTZ001
    datetime(2026, 12, 7, 14, 30): "46363.604166666664",  # noqa: DTZ001
}


def test_dates_round_trip_with_the_serials_excel_gives_them(tmp_path):
    """Serials as Excel (and openpyxl) count them, also before 1900-03-01; both readers give
    the dates back. (A date-time at midnight is left out: calamine reads it as a date.)"""
    path = tmp_path / "dates.xlsx"
    writer = XlsxStreamWriter(path)
    writer.write_row(["value"], bold=True)
    writer.write_rows([[value] for value in EARLY_AND_ORDINARY_DATES])
    writer.close()
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()

    by_calamine, streamed = _both_readers(path)

    cells = ElementTree.fromstring(sheet).iter(f"{{{MAIN_NS}}}c")
    serials = [cell.findtext(f"{{{MAIN_NS}}}v") for cell in cells]
    assert serials[1:] == list(EARLY_AND_ORDINARY_DATES.values())
    read_back = list(EARLY_AND_ORDINARY_DATES)
    assert [cells[0] for _, cells in by_calamine[1:]] == read_back
    assert [cells[0] for _, cells in streamed[1:]] == read_back
    assert _kinds(cells[0] for _, cells in streamed) == _kinds(cells[0] for _, cells in by_calamine)


def _calamine_day(serial: int, *, date1904: bool = False) -> date:
    """The day calamine gives a date-formatted serial: in the 1900 system serials below 60
    count from 1899-12-31, and 60 (Excel's 1900-02-29, which never was) is 1900-02-28."""
    if date1904:
        return date(1904, 1, 1) + timedelta(days=serial)
    return date(1899, 12, 31 if serial < 60 else 30) + timedelta(days=serial)


@pytest.mark.parametrize(
    "date1904", [False, True, "true"], ids=["1900 system", "1904 system", "1904 system, true"]
)
def test_serials_read_as_calamine_reads_them(tmp_path, date1904):
    serials = [*range(1, 63), 1462, 46363]
    date_times = ["1.5", "59.75", "60.5", "61.25", "46363.75"]
    rows = [f'<c r="A{n}" s="1"><v>{serial}</v></c>' for n, serial in enumerate(serials, 1)]
    rows += [
        f'<c r="A{n}" s="2"><v>{serial}</v></c>'
        for n, serial in enumerate(date_times, len(rows) + 1)
    ]
    # past 9999-12-31: no date, the number (the streaming reader used to raise)
    rows.append(f'<c r="A{len(rows) + 1}" s="1"><v>2958466</v></c>')
    path = handmade_xlsx(tmp_path / "serials.xlsx", rows, date1904=date1904)

    by_calamine, streamed = _both_readers(path)

    def at(serial):
        whole = int(float(serial))
        day = _calamine_day(whole, date1904=date1904)
        moment = datetime(day.year, day.month, day.day)  # noqa: DTZ001
        return moment + timedelta(days=float(serial) - whole)

    expected = [
        *(_calamine_day(serial, date1904=date1904) for serial in serials),
        *(at(serial) for serial in date_times),
        2958466.0,
    ]
    assert [cells[0] for _, cells in by_calamine] == expected
    assert [cells[0] for _, cells in streamed] == expected
    assert _kinds(cells[0] for _, cells in streamed) == _kinds(cells[0] for _, cells in by_calamine)
    if not date1904:
        assert expected[0] == date(1900, 1, 1)
        assert expected[58:61] == [date(1900, 2, 28), date(1900, 2, 28), date(1900, 3, 1)]
        assert expected[-4] == datetime(1900, 2, 28, 12, 0)  # noqa: DTZ001 - serial 60.5
    else:
        assert expected[58:61] == [date(1904, 2, 29), date(1904, 3, 1), date(1904, 3, 2)]


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


def test_error_cells_do_not_grow_a_cache_with_a_files_texts(tmp_path):
    from group_orders import spreadsheets

    before = len(spreadsheets._ERROR_CELLS)
    rows = [inline_cell("A1", "header")]
    rows += [f'<c r="A{n}" t="e"><v>#ODD{n}</v></c>' for n in range(2, 200)]
    rows.append('<c r="A200" t="e"><v>#DIV/0!</v></c>')
    with open(handmade_xlsx(tmp_path / "errors.xlsx", rows), "rb") as handle:
        cells = [row[0] for _, row in spreadsheets.xlsx_rows(handle)][1:]
    assert [cell.reason for cell in cells[:2]] == [
        "is a spreadsheet error (#ODD2).",
        "is a spreadsheet error (#ODD3).",
    ]
    assert cells[-1] is spreadsheets._ERROR_CELLS["#DIV/0!"]
    assert len(spreadsheets._ERROR_CELLS) == before

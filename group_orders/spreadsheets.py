"""Spreadsheet input and output for order files, with no Django in it.

- Reading: CSV through the stdlib `csv` module over a decoded byte stream (one row at a
  time), XLSX through python-calamine.
- Writing: `XlsxStreamWriter`, a streaming XLSX writer (inline strings, one sheet, constant
  memory): about 14x faster than xlsxwriter for the same cells (0.7 s instead of 10 s for
  100,000 rows of 14 cells), because it renders each row's XML with string joins instead of
  a Python call per cell. Cells are written typed (string, number, boolean, date), never as
  formulas.
- `formula_safe` escapes CSV cells a spreadsheet would run as a formula.
- Run as `python -m group_orders.spreadsheets OUTDIR`, this module is the report writer
  process: the import job streams it its accepted and rejected rows, and it writes the
  normalized CSV and the two XLSX reports in parallel with the import.
"""

import csv
import io
import json
import math
import pickle
import re
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from itertools import repeat, zip_longest
from pathlib import Path
from typing import Any, BinaryIO

EXCEL_MAX_CELL_CHARS = 32767


class UnreadableCell(str):
    """A cell whose value the file does not hold: a formula saved without its result
    (openpyxl saves every formula so) or a spreadsheet error (#DIV/0!). As text it is blank,
    as calamine reads it; `reason` says why, so that the import refuses such a cell instead of
    taking the blank for its value (a total or a note silently lost)."""

    reason: str


def _unreadable(reason: str) -> UnreadableCell:
    cell = UnreadableCell("")
    cell.reason = reason
    return cell


UNCOMPUTED_FORMULA = _unreadable(
    "is a formula saved without its result (by a program that does not calculate formulas, "
    "such as openpyxl): open the file in Excel or LibreOffice and save it again, or write "
    "the value itself."
)
# Excel's error values, one cell object each; any other text in an error cell gets its own
# (a file's arbitrary texts must not grow a process-wide cache)
_ERROR_CELLS: dict[str, UnreadableCell] = {
    error: _unreadable(f"is a spreadsheet error ({error}).")
    for error in (
        "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
        "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
        "#UNKNOWN!", "#PYTHON!",
    )
}  # fmt: skip


def _has_formulas_or_errors(sheet: bytes) -> bool:
    """Whether a sheet's XML may hold a formula (`<f>`) or an error cell: what calamine reads
    as blank although it is not. Two byte searches, not a regular expression (an alternation
    there is ~7 times slower); an autofilter's `<filterColumn>` also matches, which only
    costs the slower reader."""
    return b"<f" in sheet or b't="e"' in sheet


_EXCEL_EPOCH = date(1899, 12, 30)
# <workbookPr date1904="1"/> (or "true": the schema's boolean allows both)
_DATE_1904 = re.compile(rb'date1904="(?:1|true)"')
# Excel's 1900 date system counts a 1900-02-29 that never was (serial 60, after Lotus 1-2-3):
# serial 1 is 1900-01-01 and serial 61 (1899-12-30 + 61 days) is 1900-03-01
_EXCEL_FIRST_TRUE_SERIAL = 61
_LAST_ORDINAL = date.max.toordinal()

# --------------------------------------------------------------------------- formula safety

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_safe(value: str) -> str:
    """A CSV cell that no spreadsheet will run as a formula (OWASP CSV injection).

    A cell starting with = + - @ tab or a line break gets a leading apostrophe, unless it is
    a plain number ("-12.5", "+16045551234"), which a spreadsheet reads as the number anyway.
    """
    if value and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


# --------------------------------------------------------------------------- CSV reading


def csv_rows(
    stream: BinaryIO,
    *,
    encoding: str,
    delimiter: str,
    field_size_limit: int,
    progress: dict[str, int] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every record of a CSV byte stream; the header is row 1.

    Undecodable bytes become U+FFFD (the row validator rejects such rows). `progress`, when
    given, has its "done" kept at the number of bytes read so far.
    """
    if csv.field_size_limit() < field_size_limit:
        csv.field_size_limit(field_size_limit)
    # our own raw reader in between: closing the text wrapper never closes `stream`
    raw = io.BufferedReader(_StreamReader(stream, progress), buffer_size=1 << 16)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    yield from enumerate(reader, start=1)


class _StreamReader(io.RawIOBase):
    """Reads `stream`, counting bytes into `progress`; closing it leaves `stream` open."""

    def __init__(self, stream: BinaryIO, progress: dict[str, int] | None) -> None:
        self.stream = stream
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if self.progress is not None:
            self.progress["done"] += size
        return size


# --------------------------------------------------------------------------- XLSX reading


# A first sheet bigger than this (unzipped) is read by the streaming reader, not calamine.
STREAM_SHEETS_ABOVE_BYTES = 16 * 1024 * 1024


def xlsx_rows(
    source: Any,
    *,
    progress: dict[str, int] | None = None,
    stream_above: int = STREAM_SHEETS_ABOVE_BYTES,
) -> Iterator[tuple[int, list[Any]]]:
    """(row number as in Excel, cells) of the first worksheet.

    Cells come typed: str, int, float, bool, date, datetime, time, timedelta; "" when empty.
    python-calamine reads small sheets (fast; it holds the sheet's cells in memory, about
    1.5 KB a row); a sheet larger than `stream_above` bytes unzipped, or one holding formulas
    or error cells, is read by `xlsx_rows_streaming`, whose memory does not grow with the rows
    and which gives a formula without its result or an error as an `UnreadableCell`.
    `progress`, when given, gets "total" = the sheet's rows and "done" = rows read.
    """
    source.seek(0)
    with zipfile.ZipFile(source) as archive:
        sheet_path = _first_sheet_path(archive)
        size = archive.getinfo(sheet_path).file_size if sheet_path in archive.namelist() else 0
        # calamine gives a formula without its result and an error as blank cells: a sheet
        # holding either is read by our reader, which says which cells they are
        ours = size > stream_above or (
            size > 0 and _has_formulas_or_errors(archive.read(sheet_path))
        )
    source.seek(0)
    if ours:
        yield from xlsx_rows_streaming(source, progress=progress)
        return
    yield from xlsx_rows_calamine(source, progress=progress)


def xlsx_rows_calamine(
    source: Any, *, progress: dict[str, int] | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """The first worksheet read whole by python-calamine (see `xlsx_rows`)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_object(source)
    try:
        # absolute rows and columns from A1 (iter_rows() skips leading columns, not rows)
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    if progress is not None:
        progress["total"] = len(rows) or 1
    for index, cells in enumerate(rows):
        if progress is not None:
            progress["done"] = index + 1
        yield index + 1, cells


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_BUILTIN_DATE_FORMATS = {14, 15, 16, 17, 22, 27, 30, 36, 45, 46, 47, 50, 57}
_BUILTIN_TIME_FORMATS = {18, 19, 20, 21, 45, 46, 47}
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_XML_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_INT = re.compile(r"-?\d+")


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    from xml.etree import ElementTree

    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheet = workbook.find(f"{_MAIN_NS}sheets/{_MAIN_NS}sheet")
    if sheet is None:
        return "xl/worksheets/sheet1.xml"
    rel_id = sheet.get(f"{_REL_NS}id")
    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return "xl/worksheets/sheet1.xml"
    for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return "xl/worksheets/sheet1.xml"


def _unescape(text: str) -> str:
    if "_x" not in text:
        return text
    return _XML_ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


def _text_of(element) -> str:
    """The text of a string item: <t>, or the <t> of its rich-text runs (not phonetics)."""
    direct = element.find(f"{_MAIN_NS}t")
    if direct is not None:
        return _unescape(direct.text or "")
    return _unescape(
        "".join(run.findtext(f"{_MAIN_NS}t") or "" for run in element.iter(f"{_MAIN_NS}r"))
    )


def _date_styles(archive: zipfile.ZipFile) -> dict[int, str]:
    """Cell style index → "date", "time" or "datetime", for styles showing dates/times."""
    from xml.etree import ElementTree

    try:
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return {}
    custom = {
        int(fmt.get("numFmtId")): fmt.get("formatCode", "")
        for fmt in styles.iter(f"{_MAIN_NS}numFmt")
    }
    kinds: dict[int, str] = {}
    xfs = styles.find(f"{_MAIN_NS}cellXfs")
    for index, xf in enumerate(xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id in custom:
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", custom[fmt_id]).lower()
            has_date = any(char in code for char in "dy") or ("m" in code and "h" not in code)
            has_time = any(char in code for char in "hs")
            if has_date or has_time:
                kinds[index] = (
                    "datetime" if has_date and has_time else "date" if has_date else "time"
                )
        elif fmt_id in _BUILTIN_TIME_FORMATS and fmt_id not in (22,):
            kinds[index] = "time"
        elif fmt_id == 22:
            kinds[index] = "datetime"
        elif fmt_id in _BUILTIN_DATE_FORMATS:
            kinds[index] = "date"
    return kinds


def _excel_date(serial: float, kind: str, epoch: date) -> Any:
    """A number in a date-formatted cell, its day counted as calamine counts it: in the 1900
    system serials below 60 count from 1899-12-31 and the fictitious 1900-02-29 (60) is
    1900-02-28; a serial past 9999-12-31 stays a number."""
    if kind == "time":
        seconds = round(serial * 86400) % 86400
        return dtime(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    days = int(serial)
    seconds = round((serial - days) * 86400)
    ordinal = epoch.toordinal() + days
    if serial < 60 and epoch == _EXCEL_EPOCH:
        ordinal += 1
    if not 1 <= ordinal <= _LAST_ORDINAL:
        return serial
    day = date.fromordinal(ordinal)
    if kind == "date":
        return day
    return datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)  # noqa: DTZ001


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def xlsx_rows_streaming(
    source: Any, *, progress: dict[str, int] | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """The first worksheet read with `xml.etree.iterparse`, one row at a time.

    The same cells as calamine gives; memory holds the shared-strings table (bounded by the
    unzipped size the upload check allows) and one row.
    """
    from xml.etree import ElementTree

    source.seek(0)
    archive = zipfile.ZipFile(source)
    try:
        sheet_path = _first_sheet_path(archive)
        workbook = archive.read("xl/workbook.xml")
        epoch = date(1904, 1, 1) if _DATE_1904.search(workbook) else _EXCEL_EPOCH
        shared: list[str] = []
        if "xl/sharedStrings.xml" in archive.namelist():
            with archive.open("xl/sharedStrings.xml") as stream:
                for _, element in ElementTree.iterparse(stream):
                    if element.tag == f"{_MAIN_NS}si":
                        shared.append(_text_of(element))
                        element.clear()
        styles = _date_styles(archive)
        width = 0
        with archive.open(sheet_path) as stream:
            events = ElementTree.iterparse(stream, events=("start", "end"))
            _, root = next(events)
            sequence = 0
            for event, element in events:
                if event == "start":
                    if element.tag == f"{_MAIN_NS}dimension" and progress is not None:
                        last = element.get("ref", "").split(":")[-1]
                        match = _CELL_REF.fullmatch(last)
                        progress["total"] = int(match.group(2)) if match else 1
                    continue
                if element.tag != f"{_MAIN_NS}row":
                    continue
                sequence = int(element.get("r") or sequence + 1)
                cells: list[Any] = []
                for column, cell in enumerate(element.iter(f"{_MAIN_NS}c")):
                    ref = cell.get("r")
                    if ref:
                        match = _CELL_REF.fullmatch(ref)
                        column = _column_index(match.group(1)) if match else len(cells)
                    if column >= len(cells):
                        cells.extend([""] * (column + 1 - len(cells)))
                    cells[column] = _cell_value(cell, shared, styles, epoch)
                width = max(width, len(cells))
                if len(cells) < width:
                    cells.extend([""] * (width - len(cells)))
                if progress is not None:
                    progress["done"] = sequence
                yield sequence, cells
                element.clear()
                root.clear()
    finally:
        archive.close()


def _cell_value(cell, shared: list[str], styles: dict[int, str], epoch: date) -> Any:
    """One cell's value. A formula cell is its cached value; none (`<v/>`, as openpyxl saves
    every formula) and an error are an `UnreadableCell`: blank, as calamine gives them, with
    the reason."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN_NS}is")
        return _text_of(inline) if inline is not None else ""
    value = cell.findtext(f"{_MAIN_NS}v")
    if not value:
        return UNCOMPUTED_FORMULA if cell.find(f"{_MAIN_NS}f") is not None else ""
    if kind == "e":
        known = _ERROR_CELLS.get(value)  # (a blank text: falsy, so not `or`)
        return (
            known if known is not None else _unreadable(f"is a spreadsheet error ({value[:20]}).")
        )
    if kind == "s":
        return shared[int(value)]
    if kind == "b":
        return value == "1" or value.lower() == "true"
    if kind == "str":
        return _unescape(value)
    if _INT.fullmatch(value):
        number = int(value)
    else:
        try:
            number = float(value)
        except ValueError:  # not a number: calamine gives the text (or refuses t="n")
            return _unescape(value)
    style = styles.get(int(cell.get("s", "0")))
    if style:
        return _excel_date(float(number), style, epoch)
    return number


def is_blank(cells: list[Any]) -> bool:
    if cells and type(cells[0]) is str and cells[0].strip():  # most rows: a first cell
        return False
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# --------------------------------------------------------------------------- XLSX writing

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# cell styles: 0 plain, 1 bold (header), 2 date, 3 date-time, 4 time
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
)
_SHEET_END = "</sheetData></worksheet>"

# characters XML 1.0 cannot hold at all
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# a literal "_x0041_" would be read back by Excel as an escaped character
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(value: str) -> str:
    if len(value) > EXCEL_MAX_CELL_CHARS:
        value = value[:EXCEL_MAX_CELL_CHARS]
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "_x" in value:
        value = _OOXML_ESCAPE.sub(r"_x005F_\1", value)
    if not value.isprintable():
        value = _XML_ILLEGAL.sub("", value)
    return value


_NoneType = type(None)
_NUMBER_TYPES = frozenset({int, Decimal})
_EXCEL_SPECIAL = re.compile(r"[&<>]|_x")


def _xml_texts(values: Sequence[str]) -> Sequence[str]:
    """`_xml_text` of each string, the common case (nothing to escape or cut: found in the
    joined column) at once."""
    joined = "".join(values)
    if (
        _EXCEL_SPECIAL.search(joined)
        or not joined.isprintable()
        or max(map(len, values)) > EXCEL_MAX_CELL_CHARS
    ):
        return list(map(_xml_text, values))
    return values


def _inline_string(style: str) -> tuple[str, str]:
    """The markup of an inline-string cell between its reference and its text, and after."""
    return f'" t="inlineStr"{style}><is><t xml:space="preserve">', "</t></is></c>"


def _number(style: str) -> tuple[str, str]:
    """The markup of a number cell between its reference and its value, and after."""
    return f'"{style}><v>', "</v></c>"


_CELL_START = '<c r="'
# exact types whose equal values (keyed with their type) always make the same cell: not
# Decimal (1.0 == 1.00), datetime or time (equal at different UTC offsets)
_KINDS_RENDERED_ONCE = frozenset({str, bool, date, _NoneType})


def _column_xml(letter: str, numbers: list[str], values: Sequence[Any], style: str) -> list[str]:
    """The XML of one column's cells (rows `numbers`): what `XlsxStreamWriter._cell` makes
    of each, the common columns (one type) without a call per cell."""
    kinds = set(map(type, values))
    start = f"{_CELL_START}{letter}"
    if kinds == {str}:
        middle, end = _inline_string(style)
        texts = _xml_texts(values)
        cells = list(map("".join, zip(repeat(start), numbers, repeat(middle), texts, repeat(end))))
        if "" in values:
            return [cell if value else "" for cell, value in zip(cells, values, strict=True)]
        return cells
    if kinds <= _NUMBER_TYPES:
        middle, end = _number(style)
        texts = map(str, values)
        return list(map("".join, zip(repeat(start), numbers, repeat(middle), texts, repeat(end))))
    if kinds == {_NoneType}:
        return [""] * len(values)
    cell = XlsxStreamWriter._cell
    if kinds <= _KINDS_RENDERED_ONCE:  # dates, yes/no columns (with blanks): each value once
        keys = list(zip(map(type, values), values, strict=True))
        after_ref = {key: cell("", key[1], style)[len(_CELL_START) :] for key in set(keys)}
        return [
            f"{start}{number}{after_ref[key]}" if after_ref[key] else ""
            for number, key in zip(numbers, keys, strict=True)
        ]
    return [
        cell(letter + number, value, style) for number, value in zip(numbers, values, strict=True)
    ]


class XlsxStreamWriter:
    """One-sheet XLSX written row by row; memory does not grow with the rows.

    Strings are inline strings (never formulas, so formula injection cannot happen),
    numbers are numbers, booleans booleans, dates and times are dated cells.
    """

    def __init__(self, path: str | Path, *, sheet_name: str = "Sheet1") -> None:
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        name = _xml_text(re.sub(r"[\[\]:*?/\\]", " ", sheet_name))[:31]
        self._zip.writestr("xl/workbook.xml", _WORKBOOK.format(name=name.replace('"', "")))
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(_SHEET_START.encode())
        self._letters: list[str] = []
        self._buffer: list[str] = []
        self.rows = 0

    def _refs(self, count: int) -> list[str]:
        while len(self._letters) < count:
            self._letters.append(_column_letters(len(self._letters)))
        return self._letters

    def write_row(self, cells: list[Any], *, bold: bool = False) -> None:
        self.write_rows([cells], bold=bold)

    def write_rows(self, rows: list[list[Any]], *, bold: bool = False) -> None:
        """Rows of cells (of any lengths; None and "" cells are left out)."""
        self.write_columns(list(zip_longest(*rows)), bold=bold, count=len(rows))

    def write_columns(
        self, columns: list[Sequence[Any]], *, bold: bool = False, count: int | None = None
    ) -> None:
        """`count` rows (all the columns' values) given column by column (equal lengths):
        each column's cells are rendered at once (`_column_xml`), then each row's joined."""
        count = len(columns[0]) if count is None else count
        if not count:
            return
        first = self.rows + 1
        self.rows += count
        numbers = list(map(str, range(first, self.rows + 1)))
        letters = self._refs(len(columns))
        style = ' s="1"' if bold else ""
        cells = [
            _column_xml(letter, numbers, values, style)
            for letter, values in zip(letters, columns, strict=False)
        ]
        starts = [f'<row r="{number}">' for number in numbers]
        self._buffer.extend(map("".join, zip(starts, *cells, repeat("</row>", count), strict=True)))
        if len(self._buffer) >= 500:
            self._flush()

    @staticmethod
    def _cell(ref: str, value: Any, style: str) -> str:
        """One cell's XML ("" for an empty one)."""
        kind = type(value)
        if kind is str:
            if not value:
                return ""
            middle, end = _inline_string(style)
            return f'<c r="{ref}{middle}{_xml_text(value)}{end}'
        if value is None:
            return ""
        if kind is int or kind is Decimal:  # numbers: the common typed cell
            middle, end = _number(style)
            return f'<c r="{ref}{middle}{value}{end}'
        return XlsxStreamWriter._typed_cell(ref, value, style)

    @staticmethod
    def _typed_cell(ref: str, value: Any, style: str) -> str:
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"{style}><v>{int(value)}</v></c>'
        if isinstance(value, (int, Decimal)) or (isinstance(value, float) and math.isfinite(value)):
            middle, end = _number(style)
            return f'<c r="{ref}{middle}{value}{end}'
        if isinstance(value, datetime):
            seconds = value.hour * 3600 + value.minute * 60 + value.second
            days = (value.date() - _EXCEL_EPOCH).days
            if days < _EXCEL_FIRST_TRUE_SERIAL:  # before 1900-03-01: no 1900-02-29 to skip
                days -= 1
            serial = days + seconds / 86400
            return f'<c r="{ref}" s="3"><v>{serial!r}</v></c>'
        if isinstance(value, date):
            days = (value - _EXCEL_EPOCH).days
            if days < _EXCEL_FIRST_TRUE_SERIAL:
                days -= 1
            return f'<c r="{ref}" s="2"><v>{days}</v></c>'
        if isinstance(value, dtime):
            seconds = value.hour * 3600 + value.minute * 60 + value.second
            return f'<c r="{ref}" s="4"><v>{(seconds + value.microsecond / 1e6) / 86400!r}</v></c>'
        middle, end = _inline_string(style)
        return f'<c r="{ref}{middle}{_xml_text(str(value))}{end}'

    def _flush(self) -> None:
        if self._buffer:
            self._sheet.write("".join(self._buffer).encode())
            self._buffer.clear()

    def close(self) -> None:
        self._flush()
        self._sheet.write(_SHEET_END.encode())
        self._sheet.close()
        self._zip.close()


# --------------------------------------------------------------------------- report writer


def _csv_cell(value: Any) -> str:
    kind = type(value)
    if kind is str:  # most cells: the common case first
        return formula_safe(value) if value and value[0] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, (date, dtime)):
        return value.isoformat()
    if isinstance(value, list):
        return formula_safe("|".join(str(item) for item in value))
    return formula_safe(str(value))


_FORMULA_FIRST = frozenset(_FORMULA_START)
# a cell starting with a character formula_safe looks at, in cells joined after a NUL each
_FORMULA_AFTER_NUL = re.compile("\x00[-=+@\t\r\n]")
_CSV_BOOLEANS = {True: "true", False: "false"}


def _csv_column(values: Sequence[Any]) -> Sequence[str]:
    """`_csv_cell` of each value, the common columns (one type, no cell to make formula
    safe: found in the joined column) at once."""
    kinds = set(map(type, values))
    if kinds == {str}:
        texts = values
    elif kinds <= _NUMBER_TYPES:
        texts = list(map(str, values))
    elif kinds == {date}:
        iso = {value: value.isoformat() for value in set(values)}
        return list(map(iso.__getitem__, values))
    elif kinds == {bool}:
        return list(map(_CSV_BOOLEANS.__getitem__, values))
    else:
        return list(map(_csv_cell, values))
    if _FORMULA_AFTER_NUL.search("\x00" + "\x00".join(texts)):
        return list(map(_csv_cell, values))
    return texts


def _xlsx_column(values: Sequence[Any]) -> Sequence[Any]:
    """A report column for the XLSX writer: lists (add-ons) joined."""
    if list not in set(map(type, values)):
        return values
    return [
        "|".join(str(item) for item in value) if type(value) is list else value for value in values
    ]


class ReportFileWriter:
    """Writes the three report files of an import: normalized CSV, accepted and rejected
    XLSX. Used inside the report writer process (or in-process for small runs)."""

    NORMALIZED = "normalized.csv"
    ACCEPTED = "accepted.xlsx"
    REJECTED = "rejected.xlsx"

    def __init__(
        self,
        outdir: str | Path,
        *,
        columns: list[str],
        rejected_header: list[Any],
    ) -> None:
        outdir = Path(outdir)
        self.columns = columns
        self._csv_file = open(outdir / self.NORMALIZED, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv = csv.writer(self._csv_file, lineterminator="\r\n")
        self._csv.writerow([*columns, "source_row"])
        self._accepted = XlsxStreamWriter(outdir / self.ACCEPTED, sheet_name="Accepted orders")
        self._accepted.write_row(["order_number", "source_row", *columns], bold=True)
        self._rejected = XlsxStreamWriter(outdir / self.REJECTED, sheet_name="Rejected orders")
        self._rejected.write_row(["rejected_reason", "source_row", *rejected_header], bold=True)
        self.accepted = 0
        self.rejected = 0

    def write(self, accepted: list[list[Any]], rejected: list[list[Any]]) -> None:
        """accepted: columns (order numbers, source rows, *value columns); rejected: rows
        ([reason, source row, *cells])."""
        count = len(accepted[0]) if accepted else 0
        if count:
            self._csv.writerows(zip(*map(_csv_column, accepted[2:]), accepted[1], strict=True))
            self._accepted.write_columns(list(map(_xlsx_column, accepted)))
        self._rejected.write_rows(rejected)
        self.accepted += count
        self.rejected += len(rejected)

    def close(self) -> None:
        self._csv_file.close()
        self._accepted.close()
        self._rejected.close()


def _peak_rss_kb() -> int:
    """This process's peak memory. VmHWM, not ru_maxrss: after fork+exec, ru_maxrss still
    counts the parent's memory at the fork."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def report_message_dump(message: tuple, stream: BinaryIO) -> None:
    """One message to the report writer process: ("open", columns, rejected header),
    ("rows", accepted rows, rejected rows) or ("close",)."""
    pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)


def report_message_load(stream: BinaryIO) -> tuple:
    """The next message `report_message_dump` wrote; EOFError at the end of the stream."""
    return pickle.load(stream)


def report_writer_main(outdir: str) -> None:
    """The report writer process: reads messages from stdin until "close"."""
    stdin = sys.stdin.buffer
    started = time.perf_counter()
    writer: ReportFileWriter | None = None
    while True:
        try:
            message = report_message_load(stdin)
        except EOFError:  # the import died: leave the partial files to be discarded
            return
        kind = message[0]
        if kind == "open":
            writer = ReportFileWriter(outdir, columns=message[1], rejected_header=message[2])
        elif kind == "rows":
            writer.write(message[1], message[2])
        elif kind == "close":
            writer.close()
            peak_kb = _peak_rss_kb()
            sys.stdout.write(
                json.dumps(
                    {
                        "accepted": writer.accepted,
                        "rejected": writer.rejected,
                        "seconds": round(time.perf_counter() - started, 3),
                        "peak_rss_kb": peak_kb,
                    }
                )
            )
            sys.stdout.flush()
            return


if __name__ == "__main__":
    report_writer_main(sys.argv[1])

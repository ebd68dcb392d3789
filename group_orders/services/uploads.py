"""Checking an uploaded order file at once, before anything is created.

`upload_check` decides the type by content (magic bytes, never the name), enforces the size
limit, finds the encoding (UTF-8, UTF-8 with BOM, UTF-16 with BOM, else Windows-1252 /
Latin-1) by decoding the whole file, sniffs the delimiter (comma, semicolon, tab, pipe),
protects against ZIP bombs before any XLSX is parsed, and checks the header row. Every
failure is `invalid-param` naming `file`, with a message a person can act on.
"""

import codecs
import zipfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings

from config.api.errors import InvalidParam
from group_orders.services.columns import HeaderMatch, header_check, header_match
from group_orders.spreadsheets import STREAM_SHEETS_ABOVE_BYTES, csv_rows, is_blank, xlsx_rows

MB = 1024 * 1024
# Overridable in settings (ORDERDESK_GROUP_ORDER_*); see docs/group_orders.md.
DEFAULT_MAX_UPLOAD_BYTES = 256 * MB
DEFAULT_MAX_XLSX_UNZIPPED_BYTES = 200 * MB
DEFAULT_MAX_XLSX_RATIO = 200  # unzipped / zipped, for members above 1 MB
MAX_ZIP_MEMBERS = 1000
DELIMITERS = (",", ";", "\t", "|")

_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls file or a password-protected workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)


def setting(name: str, default: Any) -> Any:
    return getattr(settings, f"ORDERDESK_GROUP_ORDER_{name}", default)


def max_upload_bytes() -> int:
    return setting("MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def xlsx_stream_above() -> int:
    """Sheets bigger than this (unzipped) are read row by row instead of by calamine."""
    return setting("XLSX_STREAM_ABOVE_BYTES", STREAM_SHEETS_ABOVE_BYTES)


@dataclass(frozen=True)
class CheckedFile:
    format: str  # "csv" or "xlsx"
    size: int
    header: HeaderMatch
    encoding: str = ""
    delimiter: str = ""
    extension: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extension", self.format)


def _refuse(message: str) -> InvalidParam:
    return InvalidParam("file", message)


def _size_of(file: BinaryIO) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def upload_check(*, file: BinaryIO) -> CheckedFile:
    """How to read this order file; invalid-param naming `file` when it cannot be imported.

    `file` is a seekable binary file (an upload, or a file on disk); it is left at 0.
    """
    size = _size_of(file)
    if size == 0:
        raise _refuse("The file is empty.")
    limit = max_upload_bytes()
    if size > limit:
        raise _refuse(f"The file is {size / MB:.1f} MB; the limit is {limit / MB:.0f} MB.")
    head = file.read(8192)
    file.seek(0)
    try:
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return _check_xlsx(file, size)
        for signature, what in _SIGNATURES:
            if head.startswith(signature):
                raise _refuse(
                    f"This is {what}, not an order file. Upload a CSV file or an Excel "
                    ".xlsx workbook."
                )
        return _check_csv(file, size, head)
    finally:
        file.seek(0)


# --------------------------------------------------------------------------- CSV


def _detect_encoding(file: BinaryIO, head: bytes) -> str:
    """The encoding the whole file decodes in: UTF-8 (with or without BOM), UTF-16 with a
    BOM, else Windows-1252, else Latin-1 (which decodes anything)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        if b"\x00" in head:
            raise _refuse(
                "The file holds binary data, not text: it is not a CSV file. Upload a CSV "
                "file or an Excel .xlsx workbook."
            )
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        file.seek(0)
        try:
            while chunk := file.read(MB):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            file.seek(0)
        return encoding
    if candidates == ["utf-8", "cp1252"]:
        return "latin-1"
    raise _refuse(f"The file starts with a {candidates[0].upper()} mark but is not valid text.")


def _looks_binary(text: str) -> bool:
    """Control characters (other than tab and line breaks) in more than 1% of the text."""
    if not text:
        return False
    controls = sum(
        1 for char in text if (ord(char) < 32 and char not in "\t\r\n") or 127 <= ord(char) < 160
    )
    return controls > max(len(text) // 100, 0)


def _first_line(text: str) -> str:
    """The first non-blank line, quotes respected well enough to count delimiters."""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _header_and_data(file: BinaryIO, encoding: str, delimiter: str) -> tuple[list[str], bool]:
    """The first non-blank row, and whether a non-blank row follows it."""
    header: list[str] | None = None
    rows = csv_rows(
        file, encoding=encoding, delimiter=delimiter, field_size_limit=max_upload_bytes()
    )
    try:
        for _, cells in rows:
            if is_blank(cells):
                continue
            if header is None:
                header = cells
                continue
            return header, True
    finally:
        rows.close()
        file.seek(0)
    return header or [], False


def _check_csv(file: BinaryIO, size: int, head: bytes) -> CheckedFile:
    encoding = _detect_encoding(file, head)
    text = head.decode(encoding, errors="ignore")
    if _looks_binary(text):
        raise _refuse(
            "The file holds binary data, not text: it is not a CSV file. Upload a CSV file "
            "or an Excel .xlsx workbook."
        )
    line = _first_line(text.lstrip("\ufeff"))
    if not line:
        raise _refuse("The file has no header row: it holds only blank lines.")
    counts = {d: _count_outside_quotes(line, d) for d in DELIMITERS}
    candidates = sorted(DELIMITERS, key=lambda d: -counts[d])
    best: tuple[int, str, list[str]] | None = None
    for delimiter in candidates:
        if counts[delimiter] == 0 and delimiter != candidates[0]:
            continue
        header, _ = _header_and_data(file, encoding, delimiter)
        found = len(header_match(header).found)
        if best is None or found > best[0]:
            best = (found, delimiter, header)
    _, delimiter, header = best
    match = header_check(header)
    _, has_data = _header_and_data(file, encoding, delimiter)
    if not has_data:
        raise _refuse("The file has a header row but no orders below it.")
    return CheckedFile(
        format="csv", size=size, header=match, encoding=encoding, delimiter=delimiter
    )


# --------------------------------------------------------------------------- XLSX


def _check_zip_bomb(archive: zipfile.ZipFile) -> None:
    """Refuse archives that unzip to more than the limit, before anything parses them.

    The declared sizes are checked first (cheap), then every member is inflated in chunks,
    counting the bytes that really come out, so a lying header cannot get past.
    """
    limit = setting("MAX_XLSX_UNZIPPED_BYTES", DEFAULT_MAX_XLSX_UNZIPPED_BYTES)
    ratio = setting("MAX_XLSX_RATIO", DEFAULT_MAX_XLSX_RATIO)
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise _refuse(f"The workbook holds {len(members)} parts; that is not a normal .xlsx.")
    bomb = _refuse(
        f"The workbook unzips to more than {limit / MB:.0f} MB or is compressed "
        "suspiciously well (a ZIP bomb?). Split it, or upload it as CSV."
    )
    declared = sum(member.file_size for member in members)
    if declared > limit:
        raise bomb
    for member in members:
        if member.file_size > MB and member.file_size / max(member.compress_size, 1) > ratio:
            raise bomb
    total = 0
    for member in members:
        with archive.open(member) as stream:
            while chunk := stream.read(MB):
                total += len(chunk)
                if total > limit:
                    raise bomb


def _check_xlsx(file: BinaryIO, size: int) -> CheckedFile:
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse("The file looks like a ZIP archive but it is damaged.") from None
    try:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            what = (
                "a Word document"
                if "word/document.xml" in names
                else "a PowerPoint file"
                if "ppt/presentation.xml" in names
                else "a ZIP archive"
            )
            raise _refuse(
                f"This is {what}, not an Excel workbook. Upload a CSV file or an .xlsx workbook."
            )
        try:
            _check_zip_bomb(archive)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
            raise _refuse("The workbook is damaged: a part of it cannot be unzipped.") from None
    finally:
        archive.close()
    file.seek(0)
    header: list[Any] | None = None
    has_data = False
    rows = xlsx_rows(file, stream_above=xlsx_stream_above())
    try:
        for _, cells in rows:
            if is_blank(cells):
                continue
            if header is None:
                header = cells
                continue
            has_data = True
            break
    except InvalidParam:
        raise
    except Exception as exc:  # calamine: XmlError, ZipError, CalamineError...
        raise _refuse(
            "The workbook cannot be read: it is damaged or was not saved by a spreadsheet "
            "program. Open it in Excel or LibreOffice, save it again as .xlsx (or as CSV) and "
            f"upload that. (Detail: {str(exc)[:200] or type(exc).__name__}.)"
        ) from None
    finally:
        rows.close()
    if header is None:
        raise _refuse("The workbook's first sheet is empty.")
    match = header_check(header)
    if not has_data:
        raise _refuse("The workbook has a header row but no orders below it.")
    return CheckedFile(format="xlsx", size=size, header=match)

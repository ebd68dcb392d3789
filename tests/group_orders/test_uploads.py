"""Upload checks: each bad file is refused with a clear message naming `file`, and nothing is
created; good files are read the right way (type, encoding, delimiter, header aliases)."""

import io
import zipfile

import pytest

from accounts.actors import Actor
from config.api.errors import InvalidParam
from group_orders.models import GroupOrder, Job
from group_orders.services.columns import header_key
from group_orders.services.group_orders import group_order_submit
from group_orders.services.uploads import upload_check
from tests.factories import EmployeeFactory
from tests.factories.group_orders import fixture_file

pytestmark = pytest.mark.django_db


def refusal(stream) -> str:
    with pytest.raises(InvalidParam) as caught:
        upload_check(file=stream)
    assert list(caught.value.errors) == ["file"]
    return caught.value.errors["file"][0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty.csv", "The file is empty."),
        ("header_only.csv", "has a header row but no orders"),
        ("missing_column.csv", "lacks the required column(s) email"),
        ("binary_garbage.csv", "binary data, not text"),
        ("not_a_workbook.xlsx", "This is a ZIP archive, not an Excel workbook"),
        ("zip_bomb.xlsx", "ZIP bomb"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(name, expected):
    assert expected in refusal(fixture_file(name))


def test_a_refused_upload_creates_nothing():
    user = EmployeeFactory().user
    with pytest.raises(InvalidParam):
        group_order_submit(
            file=fixture_file("binary_garbage.csv"),
            filename="binary_garbage.csv",
            actor=Actor.for_user(user),
        )
    assert not GroupOrder.objects.exists()
    assert not Job.objects.exists()


def test_zip_bomb_is_caught_from_the_declared_sizes_before_inflating(settings):
    settings.ORDERDESK_GROUP_ORDER_MAX_XLSX_UNZIPPED_BYTES = 1024 * 1024
    assert "ZIP bomb" in refusal(fixture_file("zip_bomb.xlsx"))


def test_zip_bomb_that_lies_about_its_size_is_refused_before_parsing():
    # the headers claim 1 KB; the member really inflates to 6 MB
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (6 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    real = (6 * 1024 * 1024).to_bytes(4, "little")
    for offset in [i for i in range(len(data) - 3) if data[i : i + 4] == real]:
        data[offset : offset + 4] = (1024).to_bytes(4, "little")
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1024
    message = refusal(io.BytesIO(bytes(data)))
    assert "ZIP bomb" in message or "damaged" in message


def test_a_damaged_zip_is_refused():
    data = fixture_file("orders.xlsx").getvalue()
    assert "damaged" in refusal(io.BytesIO(data[: len(data) // 2]))


def test_a_workbook_calamine_cannot_read_is_refused_with_what_to_do():
    # passes the ZIP checks (it has xl/workbook.xml) but holds nothing else
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    message = refusal(io.BytesIO(buffer.getvalue()))
    assert message.startswith("The workbook cannot be read: it is damaged or was not saved")
    assert "save it again as .xlsx" in message and "(Detail: " in message


def test_other_known_binary_formats_are_named():
    assert "PDF document" in refusal(io.BytesIO(b"%PDF-1.7\n" + b"x" * 100))
    assert "old Excel .xls" in refusal(io.BytesIO(b"\xd0\xcf\x11\xe0" + b"\0" * 100))


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.ORDERDESK_GROUP_ORDER_MAX_UPLOAD_BYTES = 100
    assert "the limit is" in refusal(fixture_file("orders_valid.csv"))


def test_type_is_found_by_content_not_by_name():
    workbook = fixture_file("orders.xlsx")
    workbook.name = "orders.csv"
    assert upload_check(file=workbook).format == "xlsx"


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("orders_valid.csv", "utf-8", ","),
        ("latin1.csv", "cp1252", ","),
        ("bom.csv", "utf-8-sig", ","),
        ("crlf.csv", "utf-8", ","),
        ("semicolon.csv", "utf-8", ";"),
    ],
)
def test_encoding_and_delimiter_are_detected(name, encoding, delimiter):
    checked = upload_check(file=fixture_file(name))
    assert (checked.format, checked.encoding, checked.delimiter) == ("csv", encoding, delimiter)


def test_tab_separated_and_utf16_files_are_read():
    text = "first_name\tlast_name\temail\tservice_type\nAda\tLovelace\tada@example.com\tportrait\n"
    assert upload_check(file=io.BytesIO(text.encode())).delimiter == "\t"
    checked = upload_check(file=io.BytesIO(text.encode("utf-16")))
    assert (checked.encoding, checked.delimiter) == ("utf-16", "\t")


def test_utf8_head_with_latin1_further_down_is_read_as_windows_1252():
    head = "first_name,last_name,email,service_type\n" + "Ada,L,a@example.com,portrait\n" * 2000
    data = head.encode() + "José,Muñoz,j@example.com,portrait\n".encode("latin-1")
    assert upload_check(file=io.BytesIO(data)).encoding == "cp1252"


def test_header_aliases_map_to_the_canonical_columns():
    checked = upload_check(file=fixture_file("semicolon.csv"))
    assert checked.header.columns == [
        "external_id",
        "first_name",
        "last_name",
        "email",
        "telephone",
        "service_type",
        "order_total",
        "due_date",
    ]
    assert header_key("  First Name ") == "first_name"
    assert header_key("E-mail") == "e_mail"


def test_unknown_columns_are_listed_and_report_columns_ignored_silently():
    data = b"rejected_reason,source_row,First Name,Surname,Email,Service,Favourite colour\n"
    data += b"x,2,Ada,L,a@example.com,portrait,blue\n"
    checked = upload_check(file=io.BytesIO(data))
    assert checked.header.ignored == ["Favourite colour"]
    assert checked.header.columns[:2] == [None, None]


def test_two_columns_meaning_the_same_field_are_refused():
    data = b"first_name,firstname,last_name,email,service_type\nA,B,C,d@example.com,portrait\n"
    assert "both mean first_name" in refusal(io.BytesIO(data))


def test_blank_lines_before_the_header_are_skipped():
    data = b"\n\n first_name , last_name,email,service_type\nAda,L,a@example.com,portrait\n"
    assert upload_check(file=io.BytesIO(data)).header.columns[0] == "first_name"


def test_only_blank_lines_is_refused():
    assert "no header row" in refusal(io.BytesIO(b"\n  \n\n"))


def test_a_10_mb_single_cell_does_not_stop_the_check():
    data = b"first_name,last_name,email,service_type,notes\n"
    data += b"Ada,L,a@example.com,portrait," + b"x" * (10 * 1024 * 1024) + b"\n"
    assert upload_check(file=io.BytesIO(data)).format == "csv"


def test_workbook_without_data_rows_or_empty_is_refused(tmp_path):
    import xlsxwriter

    path = tmp_path / "header.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet().write_row(0, 0, ["first_name", "last_name", "email", "service"])
    workbook.close()
    assert "no orders below it" in refusal(io.BytesIO(path.read_bytes()))
    empty = tmp_path / "empty.xlsx"
    workbook = xlsxwriter.Workbook(str(empty))
    workbook.add_worksheet()
    workbook.close()
    assert "first sheet is empty" in refusal(io.BytesIO(empty.read_bytes()))


def test_an_xlsx_with_missing_columns_is_refused(tmp_path):
    import xlsxwriter

    path = tmp_path / "cols.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["first_name", "email"])
    sheet.write_row(1, 0, ["Ada", "a@example.com"])
    workbook.close()
    assert "last_name, service_type" in refusal(io.BytesIO(path.read_bytes()))

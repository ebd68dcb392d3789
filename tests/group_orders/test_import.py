"""The import job: orders, rejected rows, counts, the three report files, resume after a
crash, idempotency, e-mail (ImmediateBackend: the job runs when the upload commits)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from python_calamine import CalamineWorkbook

from accounts.actors import Actor
from config.api.errors import InvalidParam
from group_orders.models import GroupOrder, ImportBatch, Job, RejectedRow
from group_orders.services import imports, jobs
from group_orders.services.group_orders import (
    group_order_rerun,
    group_order_submit,
    group_order_update,
)
from group_orders.services.jobs import job_execute
from group_orders.services.uploads import upload_check
from group_orders.spreadsheets import UNCOMPUTED_FORMULA
from orders.models import Order
from stages.models import OrderStage, OrderStatus
from tests.factories import ClientFactory, EmployeeFactory
from tests.factories.group_orders import catalogue, csv_bytes, fixture_file, order_row
from tests.factories.orders import OrderFactory
from tests.factories.spreadsheets import handmade_xlsx, inline_cell

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploader():
    catalogue()
    return EmployeeFactory(user__first_name="Uma", user__email="uma@example.com").user


@pytest.fixture
def run_import(uploader, django_capture_on_commit_callbacks):
    def run(stream, *, filename="orders.csv", client=None, user=None) -> GroupOrder:
        with django_capture_on_commit_callbacks(execute=True):
            group_order = group_order_submit(
                file=stream,
                filename=filename,
                actor=Actor.for_user(user or uploader),
                client=client,
            )
        group_order.refresh_from_db()
        return group_order

    return run


def read_csv(field) -> list[list[str]]:
    with field.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8"))))


def read_xlsx(field) -> list[list]:
    with field.open("rb") as handle:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
    return workbook.get_sheet_by_index(0).to_python()


def reasons(group_order) -> dict[int, list[str]]:
    return dict(
        RejectedRow.objects.filter(group_order=group_order).values_list("row_number", "reasons")
    )


def test_mixed_file_creates_the_good_orders_and_rejects_the_rest_with_reasons(run_import):
    group_order = run_import(fixture_file("orders_mixed.csv"))
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert (group_order.total_orders, group_order.successful_orders) == (11, 2)
    assert group_order.rejected_orders == 9
    assert group_order.progress == 100 and group_order.finished_at is not None
    assert reasons(group_order) == {
        3: ["first_name: looks like a spreadsheet formula (starts with '=')."],
        4: ["due_date: 2001-01-01 is in the past."],
        5: ["order_date: '2026-13-45' is not a date (use YYYY-MM-DD)."],
        6: ["email: 'not-an-email' is not a valid e-mail address."],
        7: ["service_type: 'knitting' is not a known service type (known: framing, portrait)."],
        8: ["external_id: 'M-1' is also on row 2 of this file."],
        9: ["The row has 17 cells; the header has 15 (a delimiter inside a value needs quotes)."],
        10: ["The row has 4 cells; the header has 15."],
        11: ["order_total: must not be negative."],
    }
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["M-1", "M-11"]


def test_orders_get_their_status_and_first_stage_with_the_uploader_as_actor(run_import, uploader):
    group_order = run_import(fixture_file("orders_valid.csv"))
    orders = Order.objects.filter(group_order=group_order)
    assert orders.count() == 5
    assert OrderStatus.objects.filter(order__in=orders, stage__slug="received").count() == 5
    history = OrderStage.objects.filter(order__in=orders)
    assert history.count() == 5
    assert set(history.values_list("actor_kind", "actor_user")) == {("user", uploader.pk)}
    ada = orders.get(external_id="EXT-1")
    assert (ada.first_name, ada.email, ada.telephone) == ("Ada", "ada@example.com", "+16045550101")
    assert ada.order_total == Decimal("1234.50") and ada.delivery_rush is True
    assert ada.due_date == date(2099, 12, 31) and ada.order_type == "delivery"
    assert ada.services_addons == ["retouch", "frame"] and ada.location.code == "downtown"
    assert ada.created_by == uploader
    no_external_id = orders.get(first_name="Edsger")
    assert no_external_id.external_id is None


def test_the_client_of_the_upload_owns_the_orders(run_import):
    client = ClientFactory()
    group_order = run_import(fixture_file("orders_valid.csv"), client=client)
    assert set(
        Order.objects.filter(group_order=group_order).values_list("customer", flat=True)
    ) == {client.pk}


def test_a_clash_names_the_existing_order_only_to_an_uploader_who_may_see_it(run_import):
    mine, theirs = ClientFactory(), ClientFactory()
    OrderFactory(customer=mine, external_id="E-1", number="MINE-1")
    OrderFactory(customer=theirs, external_id="E-2", number="THEIRS-2")
    rows = io.BytesIO(csv_bytes([order_row(1), order_row(2)]))
    client_upload = run_import(rows, client=mine, user=mine.user)
    assert reasons(client_upload) == {
        2: ["external_id: an order with external_id 'E-1' already exists (order MINE-1)."],
        3: ["external_id: an order with external_id 'E-2' already exists."],
    }
    staff_upload = run_import(io.BytesIO(csv_bytes([order_row(2)])))  # staff see every order
    assert reasons(staff_upload) == {
        2: ["external_id: an order with external_id 'E-2' already exists (order THEIRS-2)."]
    }


@pytest.mark.parametrize("stream_above", [0, None], ids=["a big sheet", "a small sheet"])
def test_formulas_without_results_and_error_cells_reject_their_rows(
    run_import, settings, stream_above
):
    """openpyxl saves a formula without its result; calamine reads it, and an error cell, as
    blank: a required column's blank failed the row as "is required", an optional one's (a
    total, a note) was lost without a word. Such a cell now rejects its row, saying why. (A
    formula without a result in a big sheet used to fail the whole job.)"""
    if stream_above is not None:
        settings.ORDERDESK_GROUP_ORDER_XLSX_STREAM_ABOVE_BYTES = stream_above
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 2
    columns = list(order_row(1))
    odd = {
        3: ("order_total", "<f>SUM(1,2)</f><v /></c>"),
        4: ("last_name", '<f>CONCATENATE("a","b")</f><v /></c>'),
        5: ("order_total", ' t="e"><f>1/0</f><v>#DIV/0!</v></c>'),
    }
    rows = ["".join(inline_cell(f"{chr(65 + at)}1", name) for at, name in enumerate(columns))]
    for n in range(1, 7):
        cells = [
            inline_cell(f"{chr(65 + at)}{n + 1}", text)
            for at, text in enumerate(order_row(n).values())
        ]
        if n in odd:
            column, rest = odd[n]
            at = columns.index(column)
            opening = f'<c r="{chr(65 + at)}{n + 1}"'
            cells[at] = opening + (rest if rest.startswith(" ") else ">" + rest)
        rows.append("".join(cells))
    workbook = handmade_xlsx(io.BytesIO(), rows)
    workbook.seek(0)
    group_order = run_import(workbook, filename="orders.xlsx")
    assert group_order.status == GroupOrder.Status.COMPLETE, group_order.error
    assert (group_order.total_orders, group_order.successful_orders) == (6, 3)
    found = reasons(group_order)
    assert set(found) == {4, 5, 6}
    assert found[4] == [f"order_total: {UNCOMPUTED_FORMULA.reason}"]
    assert found[5] == [f"last_name: {UNCOMPUTED_FORMULA.reason}"]
    assert found[6] == ["order_total: is a spreadsheet error (#DIV/0!)."]
    assert Order.objects.filter(group_order=group_order).count() == 3
    # the rejected file shows those cells blank, the rest as uploaded
    rejected = read_xlsx(group_order.rejected_orders_xlsx)
    assert [row[2 + columns.index("order_total")] for row in rejected[1:]] == ["", "12.50", ""]


def test_a_row_with_two_reasons_gives_them_as_sentences(run_import):
    group_order = run_import(
        io.BytesIO(csv_bytes([order_row(1, email="nope", order_date="2026-13-45")]))
    )
    row = RejectedRow.objects.get(group_order=group_order)
    assert row.reason == (
        "email: 'nope' is not a valid e-mail address. "
        "order_date: '2026-13-45' is not a date (use YYYY-MM-DD)."
    )
    assert read_xlsx(group_order.rejected_orders_xlsx)[1][0] == row.reason


def test_the_three_report_files(run_import):
    group_order = run_import(fixture_file("orders_mixed.csv"))
    normalized = read_csv(group_order.normalized_csv)
    assert normalized[0][:5] == ["external_id", "first_name", "last_name", "email", "telephone"]
    assert normalized[0][-1] == "source_row"
    assert len(normalized) == 1 + 2
    assert normalized[1][:5] == ["M-1", "Ada", "Lovelace", "ada@example.com", "+16045550101"]
    assert normalized[1][-1] == "2"

    accepted = read_xlsx(group_order.accepted_orders_xlsx)
    numbers = list(
        Order.objects.filter(group_order=group_order)
        .order_by("id")
        .values_list("number", flat=True)
    )
    assert accepted[0][:3] == ["order_number", "source_row", "external_id"]
    assert [row[0] for row in accepted[1:]] == numbers
    assert accepted[1][2:6] == ["M-1", "Ada", "Lovelace", "ada@example.com"]

    rejected = read_xlsx(group_order.rejected_orders_xlsx)
    original_header = next(
        csv.reader(io.StringIO(fixture_file("orders_mixed.csv").read().decode()))
    )
    assert rejected[0] == ["rejected_reason", "source_row", *original_header, "", ""]
    assert len(rejected) == 1 + 9
    formula_row = rejected[1]
    assert formula_row[0].startswith("first_name: looks like a spreadsheet formula")
    assert formula_row[1] == 3
    assert formula_row[3] == '=HYPERLINK("http://evil.example","click")'  # kept as text, as sent


def test_csv_cells_are_safe_against_formula_injection(run_import):
    data = csv_bytes(
        [
            order_row(1, notes="@SUM(A1:A9)", comment="+cmd|' /C calc'!A0"),
            order_row(2, last_name="-Minus", payment="-12.5"),
        ]
    )
    group_order = run_import(io.BytesIO(data))
    assert group_order.successful_orders == 2
    rows = read_csv(group_order.normalized_csv)
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    second = dict(zip(header, rows[2], strict=True))
    assert first["notes"] == "'@SUM(A1:A9)"
    assert first["comment"] == "'+cmd|' /C calc'!A0"
    assert first["telephone"] == "+16045550001"  # a plain number stays as it is
    assert second["last_name"] == "'-Minus" and second["payment"] == "-12.5"
    # the database keeps the value as sent; only the file cell is escaped
    assert Order.objects.get(external_id="E-1").notes == "@SUM(A1:A9)"


def test_the_rejected_workbook_can_be_uploaded_again_as_it_is(run_import, tmp_path):
    first = run_import(fixture_file("orders_mixed.csv"))
    with first.rejected_orders_xlsx.open("rb") as handle:
        again = io.BytesIO(handle.read())
    checked = upload_check(file=again)
    assert checked.format == "xlsx" and checked.header.ignored == []
    second = run_import(again, filename="rejected.xlsx")
    assert (second.total_orders, second.successful_orders, second.rejected_orders) == (9, 0, 9)
    after = reasons(second)
    first_reasons = list(reasons(first).values())
    # rows keep their order; the reason column and source_row are ignored on the way in
    assert after[2] == first_reasons[0]  # the formula
    assert [after[n] for n in (3, 4, 5, 6, 10)] == [first_reasons[i] for i in (1, 2, 3, 4, 8)]
    number = Order.objects.get(external_id="M-1").number
    assert after[7] == [
        f"external_id: an order with external_id 'M-1' already exists (order {number})."
    ]
    assert after[8] == [
        "The row has 19 cells; the header has 17 (a delimiter inside a value needs quotes)."
    ]
    assert after[9] == ["service_type: is required."]  # a workbook pads the short row


def test_xlsx_import_with_typed_cells(run_import):
    group_order = run_import(fixture_file("orders.xlsx"), filename="orders.xlsx")
    assert group_order.file_format == "xlsx"
    assert (group_order.successful_orders, group_order.rejected_orders) == (2, 1)
    xena = Order.objects.get(external_id="X-1")
    assert xena.telephone == "+16045550121" and xena.order_total == Decimal("129.5")
    assert xena.order_date == date(2026, 3, 1) and xena.due_date == date(2099, 12, 31)
    assert xena.delivery_rush is True
    assert Order.objects.get(external_id="X-2").email == "xavier@example.com"
    assert reasons(group_order) == {4: ["due_date: 2001-01-01 is in the past."]}
    rejected = read_xlsx(group_order.rejected_orders_xlsx)
    assert rejected[1][2] == 1003  # the original number cell stays a number


def test_a_large_workbook_is_read_row_by_row_with_the_same_result(run_import, settings):
    settings.ORDERDESK_GROUP_ORDER_XLSX_STREAM_ABOVE_BYTES = 0  # stream every sheet
    group_order = run_import(fixture_file("orders.xlsx"), filename="orders.xlsx")
    assert (group_order.successful_orders, group_order.rejected_orders) == (2, 1)
    xena = Order.objects.get(external_id="X-1")
    assert xena.telephone == "+16045550121" and xena.order_total == Decimal("129.5")
    assert xena.order_date == date(2026, 3, 1) and xena.delivery_rush is True
    assert reasons(group_order) == {4: ["due_date: 2001-01-01 is in the past."]}
    again = run_import(
        io.BytesIO(group_order.rejected_orders_xlsx.open("rb").read()), filename="again.xlsx"
    )
    assert (again.total_orders, again.rejected_orders) == (1, 1)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("latin1.csv", {"L-1": ("José", "Muñoz", "café crème"), "L-2": ("Zoë", "Brontë", "naïve")}),
        ("bom.csv", {"B-1": ("Ann", "Bom", ""), "B-2": ("Bo", "Bom", "")}),
        ("crlf.csv", {"C-1": ("Cara", "Crlf", "line one\r\nline two"), "C-2": ("Dan", "Crlf", "")}),
    ],
)
def test_encodings_and_line_endings(run_import, name, expected):
    group_order = run_import(fixture_file(name), filename=name)
    assert group_order.rejected_orders == 0
    got = {
        o.external_id: (o.first_name, o.last_name, o.notes)
        for o in Order.objects.filter(group_order=group_order)
    }
    assert got == expected


def test_semicolon_file_with_decimal_commas(run_import):
    group_order = run_import(fixture_file("semicolon.csv"), filename="semicolon.csv")
    assert group_order.successful_orders == 2
    assert Order.objects.get(external_id="S-1").order_total == Decimal("12.50")
    assert Order.objects.get(external_id="S-2").order_total == Decimal("1234.56")
    assert Order.objects.get(external_id="S-1").due_date == date(2099, 12, 31)


def test_formula_cells_fixture(run_import):
    group_order = run_import(fixture_file("formulas.csv"))
    assert (group_order.successful_orders, group_order.rejected_orders) == (2, 2)
    assert set(reasons(group_order)) == {2, 3}
    assert Order.objects.get(external_id="F-3").notes == "+cmd|calc"
    assert Order.objects.get(external_id="F-4").first_name == "-Flo"


def test_nul_characters_after_the_upload_check_reject_their_rows(run_import):
    """A NUL past the part of the file the upload check reads: no database text can hold
    it (PostgreSQL refused the whole batch, so the import could never finish); its row is
    rejected with the column named, the rest of the file is imported."""
    group_order = run_import(fixture_file("nul_cells.csv"))
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert (group_order.successful_orders, group_order.rejected_orders) == (151, 3)
    found = reasons(group_order)
    nul = "holds a NUL character (\\x00), which cannot be stored."
    assert found[152] == [f"external_id: {nul}"]
    assert found[153] == [f"first_name: {nul}"]
    assert found[154] == [
        "email: 'not-an-email' is not a valid e-mail address.",
        f"notes: {nul}",
    ]
    stored = RejectedRow.objects.get(group_order=group_order, row_number=152)
    assert stored.external_id == "N-\ufffd151" and stored.cells[0] == "N-\ufffd151"
    report = {row[1]: row for row in read_xlsx(group_order.rejected_orders_xlsx)[1:]}
    assert report[152][2] == "N-\ufffd151"
    assert report[154][-1] == "nul in notes\ufffd and a bad e-mail"
    assert Order.objects.filter(group_order=group_order, external_id="N-154").exists()


def test_duplicate_external_ids_in_the_file_and_against_existing_orders(run_import):
    OrderFactory(external_id="D-2")
    group_order = run_import(fixture_file("duplicates.csv"))
    assert (group_order.successful_orders, group_order.rejected_orders) == (1, 3)
    found = reasons(group_order)
    assert found[3][0].startswith("external_id: an order with external_id 'D-2' already exists")
    assert found[4] == ["external_id: 'D-1' is also on row 2 of this file."]
    assert found[5] == ["external_id: 'D-1' is also on row 2 of this file."]


def test_duplicates_across_batches_are_caught(run_import, settings):
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 2
    rows = [order_row(1), order_row(2, external_id="BAD", email="bad"), order_row(3)]
    rows += [order_row(4, external_id="E-1"), order_row(5, external_id="BAD")]
    group_order = run_import(io.BytesIO(csv_bytes(rows)))
    assert ImportBatch.objects.filter(group_order=group_order).count() == 3
    found = reasons(group_order)
    number = Order.objects.get(external_id="E-1").number
    assert found[5] == [
        f"external_id: 'E-1' is also on an earlier row of this file (order {number})."
    ]
    assert found[6] == ["external_id: 'BAD' is also on row 3 of this file."]


def test_cell_counts_and_dates_fixtures(run_import):
    counts = run_import(fixture_file("cell_counts.csv"))
    assert (counts.successful_orders, counts.rejected_orders) == (2, 2)
    assert set(reasons(counts)) == {2, 3}
    dates = run_import(fixture_file("dates.csv"))
    assert (dates.successful_orders, dates.rejected_orders) == (1, 4)
    assert Order.objects.get(external_id="T-4").due_date == date(2099, 2, 28)


def test_a_10_mb_cell_rejects_its_row_and_the_report_keeps_a_truncated_cell(run_import):
    huge = "x" * (10 * 1024 * 1024)
    data = csv_bytes([order_row(1), order_row(2, notes=huge), order_row(3)])
    group_order = run_import(io.BytesIO(data))
    assert (group_order.successful_orders, group_order.rejected_orders) == (2, 1)
    assert reasons(group_order)[3] == [
        "notes: the cell holds 10,485,760 characters; at most 32,767."
    ]
    stored = RejectedRow.objects.get(group_order=group_order)
    assert max(len(str(cell)) for cell in stored.cells) == 32767
    rejected = read_xlsx(group_order.rejected_orders_xlsx)
    assert max(len(str(cell)) for cell in rejected[1]) == 32767


def test_an_external_id_taken_during_the_import_rejects_that_row(run_import, monkeypatch):
    # another import commits E-2 after this batch's check and before its insert: the check
    # misses it once, the insert hits the unique index, and the batch is committed again
    OrderFactory(external_id="E-2")
    original = imports.BatchImporter._external_id_clashes
    checks = []

    def miss_it_the_first_time(self, external_ids, **kwargs):
        checks.append(list(external_ids))
        return {} if len(checks) == 1 else original(self, external_ids, **kwargs)

    monkeypatch.setattr(imports.BatchImporter, "_external_id_clashes", miss_it_the_first_time)
    group_order = run_import(io.BytesIO(csv_bytes([order_row(1), order_row(2), order_row(3)])))
    assert (group_order.successful_orders, group_order.rejected_orders) == (2, 1)
    assert "E-2" in reasons(group_order)[3][0]
    assert Order.objects.filter(external_id="E-2").count() == 1
    assert len(checks) >= 2


def test_the_uploader_gets_an_email_with_counts_and_links(run_import):
    group_order = run_import(fixture_file("orders_mixed.csv"))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["uma@example.com"]
    assert "2 orders created, 9 rows rejected" in message.subject
    assert (
        f"/api/v3/group_orders/{group_order.public_id}/files/rejected_orders_xlsx?signature="
        in (message.body)
    )
    assert group_order.email_sent_at is not None and group_order.email_error == ""


def test_an_email_failure_is_recorded_and_the_import_stands(run_import, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    group_order = run_import(fixture_file("orders_valid.csv"))
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert group_order.successful_orders == 5
    assert group_order.email_error == "ConnectionRefusedError: smtp down"
    assert group_order.email_sent_at is None
    assert group_order.job.status == Job.Status.SUCCEEDED


def test_counts_progress_and_timings_are_recorded(run_import):
    group_order = run_import(fixture_file("orders_valid.csv"))
    assert group_order.timings["batches_imported"] == 1
    assert group_order.timings["rows_per_second"] > 0
    assert {"insert_seconds", "reports_wait_seconds", "store_seconds"} <= set(group_order.timings)
    assert group_order.processed_rows == 6  # the last row read (header = 1)
    history = list(group_order.history.order_by("history_id").values_list("status", flat=True))
    assert history == ["processing", "processing", "complete"]


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even the job tracker's handling."""


def _run_again_after_the_lease_expired(job, django_capture_on_commit_callbacks) -> None:
    assert job.status == Job.Status.RUNNING  # the dead worker's lease still holds it
    Job.objects.filter(pk=job.pk).update(lease_expires_at="2000-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, worker_id="second-worker") == Job.Status.SUCCEEDED


def test_killed_mid_import_and_run_again_gives_exact_counts_and_no_duplicates(
    run_import, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 3
    rows = [order_row(n) for n in range(1, 12)]
    rows[4]["email"] = "broken"  # row 6 (batch 1) rejected
    rows[9]["service_type"] = "knitting"  # row 11 (batch 3) rejected
    commits = []
    original = imports.BatchImporter.run

    def commit_then_die_after_two(self, batch):
        if len(commits) == 2:
            raise Crash()
        commits.append(batch.index)
        return original(self, batch)

    monkeypatch.setattr(imports.BatchImporter, "run", commit_then_die_after_two)
    run_import(io.BytesIO(csv_bytes(rows)))  # the immediate backend swallows the crash
    group_order = GroupOrder.objects.get()
    assert group_order.status == GroupOrder.Status.PROCESSING
    assert (group_order.total_orders, group_order.successful_orders) == (6, 5)
    assert Order.objects.count() == 5
    job = group_order.job
    assert job.status == Job.Status.RUNNING  # the dead worker's lease still holds it

    monkeypatch.setattr(imports.BatchImporter, "run", original)
    # while the dead worker's lease is live, nobody else may take the job
    assert job_execute(job_id=job.pk, worker_id="second-worker") == "skipped"

    # the lease expires: the reaper gives it to a new worker, which resumes
    job.refresh_from_db()
    _run_again_after_the_lease_expired(job, django_capture_on_commit_callbacks)
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert (group_order.total_orders, group_order.successful_orders) == (11, 9)
    assert group_order.rejected_orders == 2
    assert group_order.timings["batches_replayed"] == 2
    assert group_order.timings["batches_imported"] == 2
    assert Order.objects.count() == 9
    assert Order.objects.values("external_id").distinct().count() == 9
    assert OrderStatus.objects.count() == 9 and OrderStage.objects.count() == 9
    assert sorted(reasons(group_order)) == [6, 11]
    # the reports are whole: replayed batches included, in file order
    accepted = read_xlsx(group_order.accepted_orders_xlsx)
    assert [row[1] for row in accepted[1:]] == [2, 3, 4, 5, 7, 8, 9, 10, 12]
    numbers = list(Order.objects.order_by("id").values_list("number", flat=True))
    assert [row[0] for row in accepted[1:]] == numbers
    assert len(read_csv(group_order.normalized_csv)) == 10
    assert [row[1] for row in read_xlsx(group_order.rejected_orders_xlsx)[1:]] == [6, 11]


def test_rerun_of_a_complete_import_creates_nothing_and_rebuilds_the_files(
    run_import, uploader, django_capture_on_commit_callbacks
):
    group_order = run_import(fixture_file("orders_mixed.csv"))
    old_file = group_order.accepted_orders_xlsx.name
    with django_capture_on_commit_callbacks(execute=True):
        group_order_rerun(group_order=group_order, actor=Actor.for_user(uploader))
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert (group_order.total_orders, group_order.successful_orders) == (11, 2)
    assert Order.objects.count() == 2
    assert group_order.timings["batches_replayed"] == 1
    assert group_order.accepted_orders_xlsx.name != old_file
    assert not group_order.accepted_orders_xlsx.storage.exists(old_file)
    assert len(read_xlsx(group_order.accepted_orders_xlsx)) == 3
    assert Job.objects.filter(kind="group_orders.import").count() == 2
    assert len(mail.outbox) == 2  # the rebuilt files are announced again
    assert group_order.email_sent_at is not None


def test_killed_after_the_email_went_out_the_retry_does_not_email_twice(
    run_import, monkeypatch, django_capture_on_commit_callbacks
):
    # the completion and its e-mail happened; the worker died before the job was marked done
    original = jobs.job_finish

    def die(**kwargs):
        raise Crash()

    monkeypatch.setattr(jobs, "job_finish", die)
    group_order = run_import(fixture_file("orders_valid.csv"))
    assert group_order.status == GroupOrder.Status.COMPLETE and len(mail.outbox) == 1
    files = [group_order.normalized_csv.name, group_order.accepted_orders_xlsx.name]
    monkeypatch.setattr(jobs, "job_finish", original)
    _run_again_after_the_lease_expired(group_order.job, django_capture_on_commit_callbacks)
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert (group_order.total_orders, group_order.successful_orders) == (5, 5)
    assert Order.objects.count() == 5
    assert len(mail.outbox) == 1
    assert group_order.email_sent_at is not None
    # the import was complete: the second attempt did not build the files again
    assert [group_order.normalized_csv.name, group_order.accepted_orders_xlsx.name] == files
    assert group_order.timings["attempt"] == 1
    job = Job.objects.get(pk=group_order.job_id)
    assert job.attempts == 2 and job.result["successful_orders"] == 5


def test_killed_before_the_email_went_out_the_retry_sends_it(
    run_import, monkeypatch, django_capture_on_commit_callbacks
):
    # the completion committed; the worker died before it could send the e-mail
    original = imports._complete

    def complete_then_die(*args):
        original(*args)
        raise Crash()

    monkeypatch.setattr(imports, "_complete", complete_then_die)
    group_order = run_import(fixture_file("orders_valid.csv"))
    assert group_order.status == GroupOrder.Status.COMPLETE and mail.outbox == []
    monkeypatch.setattr(imports, "_complete", original)
    _run_again_after_the_lease_expired(group_order.job, django_capture_on_commit_callbacks)
    group_order.refresh_from_db()
    assert len(mail.outbox) == 1 and group_order.email_sent_at is not None
    assert Order.objects.count() == 5
    assert group_order.timings["attempt"] == 1  # nothing imported or built again


def test_a_processor_cannot_complete_a_group_order_while_its_import_runs(
    uploader, django_capture_on_commit_callbacks
):
    # uploaded and committed; the import job is queued (its on-commit enqueue not run yet)
    with django_capture_on_commit_callbacks(execute=False) as enqueue:
        group_order = group_order_submit(
            file=fixture_file("orders_valid.csv"),
            filename="orders.csv",
            actor=Actor.for_user(uploader),
            client=None,
        )
    assert group_order.import_running()
    processor = Actor.for_user(EmployeeFactory().user)
    refused = {
        "status": {"status": "complete"},
        "total_orders": {"successful_orders": 5, "total_orders": 5},
        "normalized_csv": {"normalized_csv": "https://files.example.com/n.csv"},
    }
    for param, changes in refused.items():
        with pytest.raises(InvalidParam) as refusal:
            group_order_update(group_order=group_order, actor=processor, changes=changes)
        assert list(refusal.value.errors) == [param]
        assert "still running" in refusal.value.errors[param][0]
    updated = group_order_update(
        group_order=group_order, actor=processor, changes={"queue_job_id": "q-7"}
    )
    assert updated.changed == ["queue_job_id"] and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        for callback in enqueue:
            callback()
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.COMPLETE and not group_order.import_running()
    assert (group_order.total_orders, group_order.successful_orders) == (5, 5)
    assert len(mail.outbox) == 1 and "5 orders created" in mail.outbox[0].subject
    # once the import is over, the processor's word counts again
    later = group_order_update(
        group_order=group_order, actor=processor, changes={"normalized_csv": "https://x.example/n"}
    )
    assert later.changed == ["normalized_csv"]


def test_the_import_completing_is_announced_even_after_an_earlier_completion_was(
    run_import, django_capture_on_commit_callbacks
):
    # a completion announced before (a processor's, an earlier run of the same job): the
    # import's own completion, with its counts and new files, is announced too
    group_order = run_import(fixture_file("orders_valid.csv"))
    assert len(mail.outbox) == 1
    job = group_order.job
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, attempts=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, worker_id="w-2") == Job.Status.SUCCEEDED
    group_order.refresh_from_db()
    assert len(mail.outbox) == 2 and group_order.email_sent_at is not None
    assert Order.objects.count() == 5


def test_a_job_that_cannot_run_at_all_fails_the_group_order(
    run_import, django_capture_on_commit_callbacks, uploader
):
    group_order = run_import(fixture_file("orders_valid.csv"))
    group_order.file.storage.delete(group_order.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        group_order_rerun(group_order=group_order, actor=Actor.for_user(uploader))
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.FAILED
    assert group_order.error.startswith("The uploaded file is no longer in the storage")
    assert group_order.job.status == Job.Status.FAILED and group_order.job.attempts == 1

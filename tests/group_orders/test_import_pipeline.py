"""The import's fast path: batches checked and made ready by the reading thread, written by
one writer thread (PostgreSQL, outside a transaction); the rules it relies on."""

import io

import pytest
from django.db import connection
from django.utils import timezone

from accounts.actors import Actor
from group_orders.models import GroupOrder, ImportBatch, RejectedRow
from group_orders.services import imports
from group_orders.services.group_orders import group_order_submit
from group_orders.services.imports import group_order_import_run
from group_orders.services.rows import Catalogue, RowNormaliser
from group_orders.services.uploads import upload_check
from group_orders.spreadsheets import csv_rows, is_blank
from orders.models import Order
from orders.services.drafts import _draft_validate
from stages.models import OrderStage, OrderStatus
from tests.factories import EmployeeFactory
from tests.factories.group_orders import catalogue, csv_bytes, fixture_file, order_row
from tests.factories.orders import OrderFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["orders_valid.csv", "orders_mixed.csv", "dates.csv", "duplicates.csv", "bom.csv"]
)
def test_every_row_the_normaliser_accepts_passes_the_orders_draft_rules(name):
    """The import writes with checked=True: the draft rules are not run again, so every row
    the normaliser lets through must be one they accept."""
    catalogue()
    data = fixture_file(name).read()
    checked = upload_check(file=io.BytesIO(data))
    normaliser = RowNormaliser(
        columns=checked.header.columns, catalogue=Catalogue.load(), today=timezone.localdate()
    )
    group_order = GroupOrder(client=None)
    rows = [
        cells
        for _, cells in csv_rows(
            io.BytesIO(data),
            encoding=checked.encoding,
            delimiter=checked.delimiter,
            field_size_limit=len(data),
        )
        if not is_blank(cells)
    ][1:]
    accepted = []
    for cells in rows:
        values, errors = normaliser.normalise(cells)
        if not errors:
            accepted.append(imports._Accepted(None, values))
    assert accepted, name
    for index, draft in enumerate(imports._order_columns(accepted, group_order).drafts()):
        _draft_validate(draft, prefix=f"rows.{index}.")


def _submit(rows: list[dict], settings) -> GroupOrder:
    """An upload whose job does not run (the test runs the import itself, outside any
    transaction, as a worker does)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    catalogue()
    uploader = EmployeeFactory().user
    return group_order_submit(
        file=io.BytesIO(csv_bytes(rows)), filename="orders.csv", actor=Actor.for_user(uploader)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_commits_every_batch_in_file_order(settings, monkeypatch):
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 4
    rows = [order_row(n) for n in range(1, 15)]
    rows[2]["email"] = "nope"  # row 4, batch 0
    rows[9]["external_id"] = "E-3"  # row 11, batch 2: the id of row 4, rejected in batch 0
    OrderFactory(external_id="E-13")  # row 14's id is taken by an order: found on a retry
    group_order = _submit(rows, settings)
    assert not connection.in_atomic_block
    seen = []
    original = imports.BatchImporter.run

    def run(self, batch):
        seen.append(batch.index)
        return original(self, batch)

    monkeypatch.setattr(imports.BatchImporter, "run", run)
    summary = group_order_import_run(group_order_id=group_order.pk)

    group_order.refresh_from_db()
    assert seen == [0, 1, 2, 3]
    assert (summary["total_orders"], summary["successful_orders"]) == (14, 11)
    assert group_order.rejected_orders == 3
    reasons = dict(RejectedRow.objects.values_list("row_number", "reasons"))
    assert reasons[4] == ["email: 'nope' is not a valid e-mail address."]
    assert reasons[11] == ["external_id: 'E-3' is also on row 4 of this file."]
    taken = Order.objects.get(external_id="E-13").number
    assert reasons[14] == [
        f"external_id: an order with external_id 'E-13' already exists (order {taken})."
    ]
    imported = Order.objects.filter(group_order=group_order)
    assert imported.count() == 11
    assert OrderStatus.objects.filter(order__group_order=group_order).count() == 11
    assert OrderStage.objects.filter(order__group_order=group_order).count() == 11
    # the orders' own history starts at their first edit: the import is in the stage history
    assert not Order.history.model.objects.filter(id__in=imported.values("id")).exists()
    batches = ImportBatch.objects.filter(group_order=group_order)
    assert sorted(batches.values_list("rows", flat=True)) == [2, 4, 4, 4]
    assert group_order.status == GroupOrder.Status.COMPLETE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_error_stops_the_import_and_leaves_only_whole_batches(settings, monkeypatch):
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 3
    group_order = _submit([order_row(n) for n in range(1, 12)], settings)
    original = imports.BatchImporter._write

    def fail_on_the_third(self, batch, *args):
        if batch.index == 2:
            raise RuntimeError("the database went away")
        return original(self, batch, *args)

    monkeypatch.setattr(imports.BatchImporter, "_write", fail_on_the_third)
    with pytest.raises(RuntimeError, match="went away"):
        group_order_import_run(group_order_id=group_order.pk)

    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.PROCESSING
    assert list(ImportBatch.objects.order_by("index").values_list("index", flat=True)) == [0, 1]
    assert (group_order.total_orders, group_order.successful_orders) == (6, 6)
    assert Order.objects.filter(group_order=group_order).count() == 6
    assert OrderStatus.objects.count() == 6

    monkeypatch.setattr(imports.BatchImporter, "_write", original)
    summary = group_order_import_run(group_order_id=group_order.pk)
    assert (summary["total_orders"], summary["successful_orders"]) == (11, 11)
    assert summary["timings"]["batches_replayed"] == 2
    assert Order.objects.filter(group_order=group_order).count() == 11

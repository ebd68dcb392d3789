"""config.writes.RowWriter and config.statements.UpdateStatement: the rows they write are the
rows save() and update() write; they step aside for what they do not handle."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_save
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from config.statements import UpdateStatement
from config.writes import RowWriter
from orders.models import Order
from stages.models import OrderStage, OrderStatus, Stage
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 8, 14, 5, 9, 120000, tzinfo=UTC)


def _history(order, **extra):
    stage = Stage.objects.get(slug="in-production")
    return OrderStage(
        order=order,
        stage=stage,
        previous_stage=stage,
        stage_trigger="printer-queue",
        stage_at=MOMENT,
        updated_status=True,
        actor_kind="system",
        actor_label="the test",
        created_by="Ann Lee",
        notes="Queued on press 2 — “quoted”",
        payload={"order": {"due_date": "2026-03-20"}, "tags": [1, "two"]},
        **extra,
    )


def _columns(instance, *ignore):
    row = model_to_dict(type(instance).objects.get(pk=instance.pk))
    return {k: v for k, v in row.items() if k not in {"id", *ignore}}


def test_an_insert_writes_what_save_writes_and_sets_the_key():
    order = OrderFactory(stage="received")
    by_orm, compiled = _history(order), _history(order)
    by_orm.save()
    with CaptureQueriesContext(connection) as queries:
        RowWriter(OrderStage).save(compiled)

    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT")
    assert compiled.pk is not None and compiled.pk != by_orm.pk
    assert not compiled._state.adding and compiled._state.db == "default"
    assert _columns(compiled, "recorded_at") == _columns(by_orm, "recorded_at")
    assert compiled.recorded_at is not None  # auto_now_add filled in, as save() does
    assert OrderStage.objects.get(pk=compiled.pk).payload["tags"] == [1, "two"]


def test_an_update_writes_every_field_and_touches_auto_now():
    order = OrderFactory(stage="received")
    status = OrderStatus.objects.get(order=order)
    before = status.updated_at
    status.notes, status.appt_id, status.services_addon_array = "Rush", 991, ["gloss"]
    status.stage = Stage.objects.get(slug="in-production")

    with CaptureQueriesContext(connection) as queries:
        RowWriter(OrderStatus).save(status)

    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    saved = OrderStatus.objects.get(pk=status.pk)
    assert (saved.notes, saved.appt_id, saved.services_addon_array) == ("Rush", 991, ["gloss"])
    assert saved.stage.slug == "in-production"
    assert saved.updated_at > before


def test_an_update_of_a_row_gone_meanwhile_inserts_it_as_save_does():
    order = OrderFactory(stage="received")
    history = _history(order)
    RowWriter(OrderStage).save(history)
    pk = history.pk
    OrderStage.objects.filter(pk=pk).delete()
    history.notes = "again"
    RowWriter(OrderStage).save(history)
    assert OrderStage.objects.get(pk=pk).notes == "again"


def test_a_model_with_save_receivers_is_saved_by_save():
    order = OrderFactory(stage="received")
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=OrderStage)
    try:
        history = _history(order)
        RowWriter(OrderStage).save(history)
    finally:
        post_save.disconnect(receiver, sender=OrderStage)
    assert heard == [(history.pk, True)]
    assert RowWriter(Order).plain  # Order has a history: its receivers make it fall back
    assert RowWriter(Order)._falls_back(order)


def test_an_update_since_a_snapshot_writes_the_changed_fields_and_auto_now():
    order = OrderFactory(stage="received")
    status = OrderStatus.objects.get(order=order)
    before, writer = status.updated_at, RowWriter(OrderStatus)
    snapshot = writer.snapshot(status)
    status.notes = "Rush"
    status.services_addon_array.append("gloss")  # changed in place: the snapshot kept a copy
    status.stage = Stage.objects.get(slug="in-production")
    status.event_slug = status.event_slug  # the same value: not written

    with CaptureQueriesContext(connection) as queries:
        writer.save(status, since=snapshot)

    (query,) = queries
    assigned = query["sql"].split(" SET ")[1].split(" WHERE ")[0]
    columns = sorted(part.split(" = ")[0].strip('"') for part in assigned.split(", "))
    assert columns == ["notes", "services_addon_array", "stage_id", "updated_at"]
    saved = OrderStatus.objects.get(pk=status.pk)
    assert (saved.notes, saved.services_addon_array) == ("Rush", ["gloss"])
    assert saved.stage.slug == "in-production" and saved.updated_at > before
    assert _columns(saved) == _columns(status)


def test_an_update_since_a_snapshot_leaves_deferred_fields_alone():
    order = OrderFactory(stage="received")
    status = OrderStatus.objects.only("id", "notes", "updated_at").get(order=order)
    writer = RowWriter(OrderStatus)
    snapshot = writer.snapshot(status)
    status.notes = "Rush"
    with CaptureQueriesContext(connection) as queries:
        writer.save(status, since=snapshot)
    (query,) = queries  # no deferred field loaded, none written
    assert '"notes" = ' in query["sql"] and '"stage_id"' not in query["sql"]
    assert OrderStatus.objects.get(pk=status.pk).notes == "Rush"


def test_an_update_since_a_snapshot_with_save_receivers_saves_those_fields():
    order = OrderFactory(stage="received")
    status = OrderStatus.objects.get(order=order)
    writer, heard = RowWriter(OrderStatus), []

    def receiver(sender, instance, update_fields, **kwargs):
        heard.append(sorted(update_fields))

    snapshot = writer.snapshot(status)
    status.notes = "Rush"
    post_save.connect(receiver, sender=OrderStatus)
    try:
        writer.save(status, since=snapshot)
    finally:
        post_save.disconnect(receiver, sender=OrderStatus)
    assert heard == [["notes", "updated_at"]]
    assert OrderStatus.objects.get(pk=status.pk).notes == "Rush"


def test_an_update_since_a_snapshot_of_a_row_gone_meanwhile_inserts_it_whole():
    order = OrderFactory(stage="received")
    status = OrderStatus.objects.get(order=order)
    writer = RowWriter(OrderStatus)
    snapshot = writer.snapshot(status)
    expected = _columns(status)
    OrderStatus.objects.filter(pk=status.pk).delete()
    status.notes = "back"
    writer.save(status, since=snapshot)
    assert _columns(OrderStatus.objects.get(pk=status.pk), "notes", "updated_at") == {
        k: v for k, v in expected.items() if k not in ("notes", "updated_at")
    }


def _order_moved(p, complete):
    changes = {"version": F("version") + 1}
    if complete:
        changes["completed_at"] = Coalesce(F("completed_at"), Value(p.moment("at")))
    return Order.objects.filter(pk=p.int("order_id")), changes


def test_an_update_statement_updates_as_update_does():
    first, second = OrderFactory(), OrderFactory()
    statement = UpdateStatement(Order, _order_moved)

    assert statement.run((False,), order_id=first.pk) == 1
    assert statement.run((True,), order_id=second.pk, at=MOMENT) == 1
    assert statement.run((True,), order_id=second.pk, at=datetime(2030, 1, 1, tzinfo=UTC)) == 1
    assert statement.run((False,), order_id=10**12) == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.version, first.completed_at) == (2, None)
    assert (second.version, second.completed_at) == (3, MOMENT)  # the first completion stays


def test_an_update_statement_refuses_a_join():
    statement = UpdateStatement(
        Order,
        lambda p: (Order.objects.filter(customer__name=p.text("name")), {"version": 1}),
    )
    with pytest.raises(ValueError, match="one table"):
        statement.run(name="x")

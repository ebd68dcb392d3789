"""orders_create_bulk: the path imports and demo data take (all or nothing, no per-row save)."""

from decimal import Decimal

import pytest

from accounts.actors import Actor
from config.api.errors import InvalidParam
from orders.models import Order, OrderLine, OrderTotal
from orders.services import LineDraft, OrderColumns, OrderDraft, TotalDraft, orders_create_bulk
from stages.models import OrderStage, OrderStatus
from tests.factories import ClientFactory
from tests.factories.orders import LocationFactory, OrderFactory

pytestmark = pytest.mark.django_db
IMPORTER = Actor.system("group import")


def _draft(index: int, **overrides) -> OrderDraft:
    values = {
        "first_name": f"Buyer {index}",
        "email": f"buyer{index}@example.com",
        "order_type": "delivery",
        "lines": [LineDraft(name="Print", quantity=2, price=Decimal("7.50"))],
        "totals": [
            TotalDraft(code="subtotal", value=Decimal("15")),
            TotalDraft(code="total", value=Decimal("20")),
        ],
    }
    values.update(overrides)
    return OrderDraft(**values)


def test_bulk_creates_orders_lines_totals_statuses_and_history():
    client = ClientFactory()
    location = LocationFactory()
    drafts = [_draft(i, customer=client, location=location) for i in range(5)]
    orders = orders_create_bulk(rows=drafts, actor=IMPORTER)

    assert [o.first_name for o in orders] == [f"Buyer {i}" for i in range(5)]
    assert all(o.pk for o in orders)
    assert len({o.number for o in orders}) == 5
    assert OrderLine.objects.filter(order__in=orders).count() == 5
    assert OrderTotal.objects.filter(order__in=orders).count() == 10
    first = Order.objects.get(pk=orders[0].pk)
    assert (first.total_items, first.order_total) == (2, Decimal("20"))
    statuses = OrderStatus.objects.filter(order__in=orders)
    assert {s.stage.slug for s in statuses} == {"received"}
    assert {s.stage_trigger for s in statuses} == {"order-imported"}
    history = OrderStage.objects.filter(order__in=orders)
    assert history.count() == 5 and {h.actor_kind for h in history} == {"system"}
    record = first.history.get()
    assert record.history_type == "+" and "system: group import" in record.history_change_reason


def test_bulk_is_all_or_nothing_and_names_the_row():
    drafts = [_draft(0), _draft(1, email="not-an-email"), _draft(2)]
    with pytest.raises(InvalidParam) as refused:
        orders_create_bulk(rows=drafts, actor=IMPORTER)
    assert "rows.1.email" in refused.value.errors
    assert not Order.objects.exists()


def test_bulk_refuses_an_external_id_already_used():
    OrderFactory(external_id="EXT-1")
    with pytest.raises(InvalidParam) as refused:
        orders_create_bulk(rows=[_draft(0), _draft(1, external_id="EXT-1")], actor=IMPORTER)
    assert "rows.1.external_id" in refused.value.errors
    assert Order.objects.count() == 1


def test_bulk_refuses_negative_totals_naming_the_field():
    bad = _draft(0, totals=[TotalDraft(code="total", value=Decimal("-1"))])
    with pytest.raises(InvalidParam) as refused:
        orders_create_bulk(rows=[bad], actor=IMPORTER)
    assert "rows.0.order_totals.0.value" in refused.value.errors


def test_bulk_links_the_group_order_and_allocates_unique_numbers():
    import uuid

    from group_orders.models import GroupOrder

    group = GroupOrder.objects.create(
        public_id=uuid.uuid4(), original_filename="orders.csv", file_format="csv"
    )
    given = _draft(0, number="777777")
    orders = orders_create_bulk(
        rows=[given, _draft(1), _draft(2)], actor=IMPORTER, group_order=group
    )
    assert [o.group_order_id for o in orders] == [group.pk] * 3
    assert orders[0].number == "777777"
    assert len({o.number for o in orders}) == 3
    assert set(group.orders.values_list("pk", flat=True)) == {o.pk for o in orders}


def _rich_draft(index: int, prefix: str, **related) -> OrderDraft:
    """A draft using every kind of column the import writes, with text COPY must escape."""
    from datetime import UTC, date, datetime, time

    return _draft(
        index,
        last_name="O'Tab\tNew\nline \\ back",
        telephone="+1 555 0100",
        comment="Ünïcode — {braces} %s",
        notify=index % 2 == 0,
        order_date=date(2026, 2, 27),
        order_time=time(9, 30, 15),
        processed=True,
        payment="card",
        invoice_prefix="INV-",
        invoice_date=datetime(2026, 2, 27, 10, 0, tzinfo=UTC),
        services_addons=["rush", "gift wrap"],
        delivery_rush=True,
        due_date=date(2026, 3, 5),
        notes="note\r\nwith\ttab",
        external_id=f"{prefix}-{index}" if index != 1 else None,
        ip_address="2001:0db8:0000:0000:0000:0000:0000:0001" if index == 0 else "",
        user_agent="Mozilla/5.0",
        paid_at=datetime(2026, 2, 28, 8, 0, tzinfo=UTC),
        lines=[
            LineDraft(name="Print\t8x10", quantity=3, price=Decimal("7.125"), option="matte"),
            LineDraft(name="Frame", quantity=1, price=Decimal("0"), comment="c\\d"),
        ],
        totals=[
            TotalDraft(code="sub_total", value=Decimal("21.375")),
            TotalDraft(code="total", value=Decimal("21.38"), title="Grand", priority=9),
        ],
        **related,
    )


def _written(orders) -> dict[str, list[dict]]:
    """Every row the bulk path wrote for `orders`, in a comparable form (no ids)."""
    from orders.models import Order as OrderModel

    ids = [o.pk for o in orders]
    varying = {"id", "number", "hash", "external_id"}

    def rows(queryset, drop, order_by):
        return [
            {k: v for k, v in row.items() if k not in drop}
            for row in queryset.order_by(*order_by).values()
        ]

    return {
        "orders": rows(OrderModel.objects.filter(pk__in=ids), varying, ["id"]),
        "history": rows(
            OrderModel.history.model.objects.filter(id__in=ids), varying | {"history_id"}, ["id"]
        ),
        "lines": rows(OrderLine.objects.filter(order__in=ids), {"id", "order_id"}, ["id"]),
        "totals": rows(OrderTotal.objects.filter(order__in=ids), {"id", "order_id"}, ["id"]),
        "statuses": rows(
            OrderStatus.objects.filter(order__in=ids), {"id", "order_id", "external_id"}, ["id"]
        ),
        "stages": rows(OrderStage.objects.filter(order__in=ids), {"id", "order_id"}, ["id"]),
    }


@pytest.mark.postgres
@pytest.mark.parametrize("record_history", [True, False])
def test_copy_path_writes_the_same_rows_as_bulk_create(clock, monkeypatch, record_history):
    import orders.services.create as create
    from accounts.actors import Actor as ActorClass
    from tests.factories import EmployeeFactory

    assert create._use_copy()  # PostgreSQL: the path under test is COPY
    client = ClientFactory(billing_postal_code="H2X 1Y4")
    location = LocationFactory()
    actor = ActorClass.for_user(EmployeeFactory().user)
    related = {"customer": client, "location": location}

    copied = orders_create_bulk(
        rows=[_rich_draft(i, "A", **related) for i in range(3)],
        actor=actor,
        record_history=record_history,
        batch_size=2,  # more than one batch
    )
    monkeypatch.setattr(create, "_use_copy", lambda: False)
    created = orders_create_bulk(
        rows=[_rich_draft(i, "B", **related) for i in range(3)],
        actor=actor,
        record_history=record_history,
        batch_size=2,
    )

    by_copy, by_bulk_create = _written(copied), _written(created)
    for table, expected in by_bulk_create.items():
        assert by_copy[table] == expected, table
    assert len(by_copy["orders"]) == 3 and len(by_copy["lines"]) == 6
    assert len(by_copy["history"]) == (3 if record_history else 0)
    assert by_copy["orders"][0]["ip_address"] == "2001:db8::1"
    assert by_copy["orders"][1]["ip_address"] is None
    assert by_copy["statuses"][0]["client_billing_postal_code"] == "H2X 1Y4"
    # external ids, compared apart: the copy path's rows name their own
    assert [
        o.external_id for o in Order.objects.filter(pk__in=[o.pk for o in copied]).order_by("id")
    ] == [
        "A-0",
        None,
        "A-2",
    ]
    assert [s.external_id for s in OrderStatus.objects.filter(order__in=copied).order_by("id")] == [
        "A-0",
        "",
        "A-2",
    ]
    # the returned orders are saved instances with their keys, as bulk_create returns them
    assert all(not o._state.adding for o in copied)
    assert [o.pk for o in copied] == sorted(o.pk for o in copied)
    fresh = Order.objects.get(pk=copied[2].pk)
    assert (fresh.number, fresh.hash, fresh.date_modified) == (
        copied[2].number,
        copied[2].hash,
        copied[2].date_modified,
    )


def _columns_of(drafts: list[OrderDraft], *, constants: tuple[str, ...]) -> OrderColumns:
    """The drafts given column by column (as an import gives them), the `constants` once."""
    from dataclasses import fields

    names = [f.name for f in fields(OrderDraft) if f.name not in constants]
    return OrderColumns(
        count=len(drafts),
        columns={name: [getattr(draft, name) for draft in drafts] for name in names},
        constants={name: getattr(drafts[0], name) for name in constants},
    )


@pytest.mark.parametrize("record_history", [True, False])
def test_orders_given_column_by_column_are_written_as_the_same_drafts_are(clock, record_history):
    """`orders_bulk_prepare` takes OrderColumns (imports: no OrderDraft per row) and writes
    what it writes for the drafts: COPY on PostgreSQL, bulk_create elsewhere."""
    from orders.services import orders_bulk_prepare, orders_bulk_write

    related = {"customer": ClientFactory(billing_postal_code="H2X 1Y4"), "location": None}
    by_drafts = orders_bulk_write(
        orders_bulk_prepare(
            rows=[_rich_draft(i, "A", **related) for i in range(4)],
            actor=IMPORTER,
            record_history=record_history,
        )
    )
    drafts = [_rich_draft(i, "B", **related) for i in range(4)]
    drafts[3].lines, drafts[3].totals, drafts[3].order_total = [], [], None  # a total of 0
    drafts[2].total_items = 5
    by_columns = orders_bulk_write(
        orders_bulk_prepare(
            rows=_columns_of(drafts, constants=("customer", "location", "payment")),
            actor=IMPORTER,
            record_history=record_history,
        )
    )

    written, expected = _written(by_columns), _written(by_drafts)
    assert written["statuses"] == expected["statuses"]
    assert written["stages"] == expected["stages"]
    assert written["history"][:2] == expected["history"][:2]
    assert written["orders"][:2] == expected["orders"][:2]
    assert written["orders"][2] == {**expected["orders"][2], "total_items": 5}
    assert written["orders"][3]["order_total"] == Decimal("0")
    assert written["orders"][3]["total_items"] == 0
    assert len(written["lines"]) == len(expected["lines"]) - 2
    assert written["lines"] == expected["lines"][:6]
    assert written["totals"] == expected["totals"][:6]
    assert [o.external_id for o in by_columns] == ["B-0", None, "B-2", "B-3"]


def test_order_columns_make_the_drafts_they_stand_for():
    drafts = [_draft(1, payment="card"), _draft(2, payment="card", external_id="E-2")]
    columns = _columns_of(drafts, constants=("payment",))
    assert columns.drafts() == drafts
    assert OrderColumns.of_drafts(drafts).drafts() == drafts
    assert columns.column("payment") == ["card", "card"]
    assert columns.column("first_name") == ["Buyer 1", "Buyer 2"]
    only_constants = OrderColumns(count=2, columns={}, constants={"first_name": "Ada"})
    assert [draft.first_name for draft in only_constants.drafts()] == ["Ada", "Ada"]
    assert only_constants.column("notes") == ["", ""]  # OrderDraft's default


def test_order_columns_refuse_unknown_fields_and_ragged_columns():
    with pytest.raises(ValueError, match="no field colour"):
        OrderColumns(count=1, columns={"colour": ["red"]})
    with pytest.raises(ValueError, match="every column has 2 values"):
        OrderColumns(count=2, columns={"first_name": ["Ada"]})
    with pytest.raises(ValueError, match="either a column or a constant"):
        OrderColumns(count=1, columns={"notes": ["x"]}, constants={"notes": "y"})


def test_unchecked_order_columns_are_checked_as_drafts_are():
    from orders.services import orders_bulk_prepare, orders_bulk_write

    columns = OrderColumns(
        count=2, columns={"first_name": ["Ada", "Alan"], "email": ["ada@example.com", "nope"]}
    )
    with pytest.raises(InvalidParam) as raised:
        orders_bulk_write(orders_bulk_prepare(rows=columns, actor=IMPORTER))
    assert "rows.1.email" in raised.value.errors
    assert not Order.objects.exists()

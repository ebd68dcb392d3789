"""orders_create_bulk: the path imports and demo data take (all or nothing, no per-row save)."""

from decimal import Decimal

import pytest

from accounts.actors import Actor
from config.api.errors import InvalidParam
from orders.models import Order, OrderLine, OrderTotal
from orders.services import LineDraft, OrderDraft, TotalDraft, orders_create_bulk
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

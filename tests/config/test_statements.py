"""config.statements: a queryset compiled once per shape, run with each call's values, rows
converted as Django converts them; nothing about the data is kept between calls."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, signals
from django.test.utils import CaptureQueriesContext

from accounts.selectors import _EXTRA_COLUMNS, _PRINCIPAL
from config.statements import ModelStatement, Placeholders, Statement, id_list, model_from_row
from orders.models import Order, OrderTotal, ServiceType
from tests.factories.orders import OrderFactory, OrderTotalFactory

pytestmark = pytest.mark.django_db


def _totals(p, count):
    return (
        OrderTotal.objects.filter(order_id__in=p.ints("order", count), code=p.text("code"))
        .order_by("id")
        .values("order_id", "value", doubled=F("value") * 2)
    )


def test_rows_match_the_orm_for_each_call_and_shape():
    first, second = OrderFactory(), OrderFactory()
    OrderTotalFactory(order=first, code="total", value=Decimal("10.50"))
    OrderTotalFactory(order=second, code="total", value=Decimal("3.25"))
    OrderTotalFactory(order=second, code="tax", value=Decimal("0.25"))
    statement = Statement(OrderTotal, _totals)

    for ids, code in (
        ([first.pk], "total"),
        ([first.pk, second.pk], "total"),
        ([second.pk], "tax"),
    ):
        count, values = id_list("order", ids)
        expected = list(_totals_orm(ids, code))
        assert statement.dicts((count,), code=code, **values) == expected
        assert expected  # the comparison is not between two empty lists
    assert statement.names((1,)) == ("order_id", "value", "doubled")
    assert statement.rows((1,), code="total", **id_list("order", [first.pk])[1]) == [
        [first.pk, Decimal("10.50"), Decimal("21.00")]
    ]


def _totals_orm(ids, code):
    return (
        OrderTotal.objects.filter(order_id__in=ids, code=code)
        .order_by("id")
        .values("order_id", "value", doubled=F("value") * 2)
    )


def test_compiled_once_per_shape_and_the_data_read_on_every_call():
    order = OrderFactory()
    built = []

    def build(p):
        built.append(1)
        return Order.objects.filter(pk=p.int("order_id")).values("id", "email")

    statement = Statement(Order, build)
    assert statement.dicts(order_id=order.pk) == [{"id": order.pk, "email": order.email}]
    Order.objects.filter(pk=order.pk).update(email="changed@example.com")
    with CaptureQueriesContext(connection) as queries:
        again = statement.dicts(order_id=order.pk)
    assert again == [{"id": order.pk, "email": "changed@example.com"}]
    assert len(queries) == 1 and len(built) == 1
    assert statement.dicts(order_id=order.pk + 1000) == []


def test_a_placeholder_that_does_not_reach_the_sql_once_is_refused():
    def two(p):
        pk = p.int("order_id")
        return Order.objects.filter(pk=pk).exclude(customer_id=p.int("other")).values("id")

    def lost(p):
        p.int("order_id")
        return Order.objects.values("id")

    def reused(p):
        p.int("order_id")
        return Order.objects.filter(pk=p.int("order_id")).values("id")

    with pytest.raises(ValueError, match="0 times"):
        Statement(Order, lost).rows()
    with pytest.raises(ValueError, match="used twice"):
        Statement(Order, reused).rows()
    assert Statement(Order, two).rows(order_id=1, other=2) == []


def test_a_model_queryset_is_refused():
    with pytest.raises(ValueError, match="values"):
        Statement(Order, lambda p: Order.objects.filter(pk=p.int("order_id"))).rows(order_id=1)


def test_id_list_rounds_up_to_a_power_of_two_and_repeats_the_last_id():
    assert id_list("x", [7]) == (1, {"x.0": 7})
    assert id_list("x", [7, 8, 9]) == (4, {"x.0": 7, "x.1": 8, "x.2": 9, "x.3": 9})
    assert id_list("x", list(range(50)))[0] == 64
    assert Placeholders().ints("x", 2) != Placeholders().text("x")


def test_the_principal_statement_ends_with_its_extra_columns():
    assert _PRINCIPAL.names()[-len(_EXTRA_COLUMNS) :] == _EXTRA_COLUMNS


def test_model_statement_gives_instances_as_select_related_does():
    with_type = OrderFactory(service_type=ServiceType.objects.create(slug="st-x", name="X"))
    without = OrderFactory(service_type=None)
    statement = ModelStatement(
        Order,
        lambda p: Order.objects.filter(pk=p.int("order_id")).annotate(doubled=F("version") * 2),
        related=("service_type", "customer"),
        annotations=("doubled",),
    )

    for order in (with_type, without):
        (read,) = statement.objects(order_id=order.pk)
        expected = Order.objects.select_related("service_type", "customer").get(pk=order.pk)
        assert read == expected and read.__dict__.keys() >= {"email", "version", "doubled"}
        assert read.doubled == 2 * expected.version
        with CaptureQueriesContext(connection) as queries:
            assert read.service_type == expected.service_type
            assert read.customer == expected.customer
        assert len(queries) == 0  # joined, not read lazily
        assert all(
            getattr(read, f.attname) == getattr(expected, f.attname)
            for f in Order._meta.concrete_fields
        )
    assert without.service_type is None
    assert statement.objects(order_id=without.pk)[0].service_type is None

    # what it reads saves like any instance
    (read,) = statement.objects(order_id=with_type.pk)
    read.email = "saved@example.com"
    read.save(update_fields=["email"])
    assert Order.objects.get(pk=with_type.pk).email == "saved@example.com"


def _loaded(instance) -> dict:
    state = instance._state
    values = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    return {"values": values, "adding": state.adding, "db": state.db, "class": type(instance)}


def test_model_from_row_is_from_db():
    order = OrderFactory()
    everything = tuple(f.attname for f in Order._meta.concrete_fields)
    row = Order.objects.filter(pk=order.pk).values_list(*everything).get()
    for attnames, values in ((everything, row), (("id", "email"), (order.pk, order.email))):
        fast = model_from_row(Order, "default", attnames, values)
        assert _loaded(fast) == _loaded(Order.from_db("default", list(attnames), values))
    fast = model_from_row(Order, "default", ("id", "email"), (order.pk, order.email))
    with CaptureQueriesContext(connection) as queries:
        assert fast.version == order.version  # deferred: read on first use, as from_db's
    assert len(queries) == 1
    fast.email = "fast@example.com"
    fast.save(update_fields=["email"])
    assert Order.objects.get(pk=order.pk).email == "fast@example.com"


def test_model_from_row_runs_init_for_an_init_receiver():
    order, seen = OrderFactory(), []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.__dict__.get("email"))

    signals.post_init.connect(receiver, sender=Order)
    try:
        read = model_from_row(Order, "default", ("id", "email"), (order.pk, order.email))
    finally:
        signals.post_init.disconnect(receiver, sender=Order)
    assert seen == [order.email] and read.email == order.email

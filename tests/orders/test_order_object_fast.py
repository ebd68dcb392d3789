"""The order object's fast path (ORDER_OBJECT_READERS) writes exactly what DRF's fields write,
for every serializer that uses it, on orders with and without each optional value."""

import zoneinfo
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from config.api.errors import NotFound
from orders import selectors
from orders.api.serializers import (
    OrderDetailSerializer,
    OrderObjectSerializer,
    OrderPatchResultSerializer,
)
from orders.models import OrderTotal
from tests.factories.accounts import ClientFactory, EmployeeFactory
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db


def _orders():
    bare = OrderFactory(customer=None, location=None, email="", telephone="", notify=None)
    full = OrderFactory(
        stage="in-production",
        notify=True,
        processed=True,
        order_date=date(2026, 3, 8),
        order_time=time(14, 5, 9),
        total_items=3,
        order_total=Decimal("123.4500"),
        comment="Leave at the door",
        payment="card",
        invoice_prefix="INV-2026-00",
        invoice_date=timezone.now(),
        assignee=EmployeeFactory().user,
        assignee_updated_at=datetime(2026, 3, 9, 10, 0, tzinfo=timezone.UTC),
        ip_address="192.168.1.20",
        user_agent="Mozilla/5.0",
    )
    OrderTotal.objects.create(order=full, code="subtotal", title="Sub-total", value=100, priority=1)
    OrderTotal.objects.create(order=full, code="total", title="Total", value="123.45", priority=9)
    date_only = OrderFactory(stage="received", order_date=date(2026, 1, 2), order_time=None)
    return [bare, full, date_only]


@pytest.mark.parametrize(
    "serializer_class", [OrderObjectSerializer, OrderDetailSerializer, OrderPatchResultSerializer]
)
def test_fast_path_equals_drf_field_by_field(serializer_class):
    orders = [selectors.order_get(order_id=order.pk) for order in _orders()]

    class DrfPath(serializer_class):
        fast = False

    for order in orders:
        fast = serializer_class(order).data
        drf = DrfPath(order).data
        assert list(fast) == list(drf) == serializer_class.Meta.fields
        for name in drf:
            assert (name, fast[name], type(fast[name])) == (name, drf[name], type(drf[name]))


def test_a_field_without_a_reader_falls_back_to_drf():
    order = selectors.order_get(order_id=OrderFactory(stage="received").pk)

    class WithNumber(OrderObjectSerializer):
        class Meta(OrderObjectSerializer.Meta):
            fields = [*OrderObjectSerializer.Meta.fields, "number"]

    assert WithNumber(order).data["number"] == order.number


def test_list_rows_read_like_the_orders_themselves(django_assert_num_queries):
    orders = _orders()
    ids = [order.pk for order in orders]
    rows = list(selectors.order_list_rows().filter(id__in=ids).order_by("-id"))

    with django_assert_num_queries(1):  # the totals of the whole page
        objects = selectors.order_rows_read(rows)

    from_rows = OrderObjectSerializer(objects, many=True).data
    from_models = [
        OrderObjectSerializer(selectors.order_get(order_id=pk)).data for pk in sorted(ids)[::-1]
    ]
    assert from_rows == from_models
    assert [o["order_totals"] for o in from_rows if o["order_totals"]][0][0]["code"] == "subtotal"


def test_a_page_writes_local_times_in_the_current_zone_looked_up_once():
    orders = [selectors.order_get(order_id=order.pk) for order in _orders()]
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    with timezone.override(tokyo):
        page = OrderObjectSerializer(orders, many=True).data
        one_by_one = [OrderObjectSerializer(order).data for order in orders]
    assert page == one_by_one
    for order, written in zip(orders, page, strict=True):
        expected = order.date_added.astimezone(tokyo).strftime("%Y-%m-%d %H:%M:%S")
        assert written["date_added"] == expected
    assert page != OrderObjectSerializer(orders, many=True).data  # UTC+9 is not the default


def test_the_detail_read_is_the_model_path_in_two_queries(django_assert_num_queries):
    for order in _orders():
        with django_assert_num_queries(2):  # the order with its status, its totals
            row = selectors.order_object_get(order_id=order.pk)
        model = selectors.order_get(order_id=order.pk)
        assert OrderDetailSerializer(row).data == OrderDetailSerializer(model).data
        assert (row.pk, row.version) == (model.pk, model.version)  # the ETag


def test_the_detail_read_refuses_what_order_get_refuses():
    mine, theirs = ClientFactory(), ClientFactory()
    own = OrderFactory(customer=mine)
    other = OrderFactory(customer=theirs)
    deleted = OrderFactory(customer=mine, is_deleted=True)
    assert selectors.order_object_get(order_id=str(own.pk), user=mine.user).pk == own.pk
    for order_id in (other.pk, deleted.pk, "¹", "abc", 10**20):
        with pytest.raises(NotFound):
            selectors.order_object_get(order_id=order_id, user=mine.user)
        with pytest.raises(NotFound):
            selectors.order_get(order_id=order_id, user=mine.user)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 8, 14, 5, 9, tzinfo=timezone.UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.UTC),
        datetime(1000, 1, 1, 0, 0, 0, 1, tzinfo=timezone.UTC),
        datetime(999, 7, 4, 1, 2, 3, 456, tzinfo=timezone.UTC),  # strftime does not pad it
        datetime(1, 1, 2, 0, 0, tzinfo=timezone.UTC),
        datetime(2026, 3, 8, 2, 30, tzinfo=zoneinfo.ZoneInfo("America/Denver")),
    ],
)
def test_the_timestamp_texts_are_strftimes(moment):
    from orders.api.serializers import LOCAL_FORMAT, UTC_FORMAT, local_format, local_text, utc_text

    assert utc_text(moment) == moment.astimezone(timezone.UTC).strftime(UTC_FORMAT)
    assert local_text(moment) == timezone.localtime(moment).strftime(LOCAL_FORMAT)
    naive = moment.replace(tzinfo=None)
    assert local_format(naive) == naive.strftime(LOCAL_FORMAT)

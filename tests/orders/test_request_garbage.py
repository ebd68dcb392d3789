"""The order lists do not leave their rows to the garbage collector: a serializer made per
request tied the page's rows to itself in a reference cycle, so they outlived the request
until a collection pass found them (a tenth of a list request went to those passes)."""

import gc
import types
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from django.test.utils import override_settings

from tests.factories import ClientFactory
from tests.factories.orders import OrderFactory, OrderTotalFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@contextmanager
def cyclic_garbage():
    """The objects that only the cyclic collector would free, made inside the block."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list = []
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _rows(garbage) -> list:
    return [o for o in garbage if isinstance(o, types.SimpleNamespace)]


def test_the_order_list_frees_its_rows_when_the_request_ends(staff_api):
    for order in OrderFactory.create_batch(5, stage="in-production"):
        OrderTotalFactory(order=order, code="total")
    staff_api.get("/api/orders?per_page=50")  # warm: first-use caches are no garbage
    with cyclic_garbage() as garbage:
        response = staff_api.get("/api/orders?per_page=50&status=in-production")
        answered = response.status_code, len(response.json()["data"])
        del response  # as the server drops it once sent
    assert answered == (200, 5)
    assert _rows(garbage) == []


def test_the_customer_list_frees_its_rows_when_the_request_ends(person_api):
    me = ClientFactory()
    moment = datetime(2013, 1, 30, tzinfo=UTC)
    for _ in range(3):
        order = OrderFactory(customer=me, date_added=moment, paid_at=moment, completed_at=moment)
        OrderTotalFactory(order=order, code="total")
        ShipmentFactory(order=order, status="shipped", ship_date=moment.date())
    api = person_api("customer", record=me)
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        api.get("/orders")
        with cyclic_garbage() as garbage:
            response = api.get("/orders")
            answered = response.status_code, len(response.json()["orders"])
            del response  # as the server drops it once sent
    assert answered == (200, 3)
    assert _rows(garbage) == []

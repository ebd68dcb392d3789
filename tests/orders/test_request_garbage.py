"""The order lists do not leave their rows to the garbage collector: a serializer made per
request tied the page's rows to itself in a reference cycle, and DRF's view and response
tie the written page to each other, so both outlived the request until a collection pass
found them (a tenth of a list request went to those passes).

Served as a WSGI server serves them (Django's test client keeps the response in cycles of
its own): the handler called, the body read, the response closed."""

import gc
import json
import types
from datetime import UTC, datetime

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.test.utils import override_settings

from accounts.models import Application
from accounts.services import role_grant
from tests.factories import ClientFactory
from tests.factories.orders import OrderFactory, OrderTotalFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def _serve(handler: WSGIHandler, path: str, token: str) -> tuple[str, dict]:
    environ = RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {token}").environ
    statuses: list[str] = []
    # the test's transaction holds the connection: keep Django from closing it at the
    # request's start and end, as its test client does
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = handler(environ, lambda status, headers, *_: statuses.append(status))
        body = b"".join(result)
        result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return statuses[0], json.loads(body)


def _left_to_the_collector(handler: WSGIHandler, path: str, token: str):
    """What one request leaves that only the cyclic collector would free, and its answer."""
    _serve(handler, path, token)  # warm: first-use caches are no garbage
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        answer = _serve(handler, path, token)
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    rows = [
        o
        for o in garbage
        if isinstance(o, types.SimpleNamespace)  # the rows read for the page
        or (isinstance(o, dict) and ("order_id" in o or "customer_id" in o))  # written
    ]
    return answer, rows


def test_the_order_list_frees_its_page_when_the_response_is_closed(staff_member, make_token):
    for order in OrderFactory.create_batch(5, stage="in-production"):
        OrderTotalFactory(order=order, code="total")
    (status, body), rows = _left_to_the_collector(
        WSGIHandler(), "/api/orders?per_page=50&status=in-production", make_token(staff_member).raw
    )
    assert status.startswith("200") and len(body["data"]) == 5
    assert rows == []


def test_the_customer_list_frees_its_orders_when_the_response_is_closed(make_token):
    me = ClientFactory()
    for application in Application.objects.all():
        role_grant(user=me.user, application=application, role_name="customer")
    moment = datetime(2013, 1, 30, tzinfo=UTC)
    for _ in range(3):
        order = OrderFactory(customer=me, date_added=moment, paid_at=moment, completed_at=moment)
        OrderTotalFactory(order=order, code="total")
        ShipmentFactory(order=order, status="shipped", ship_date=moment.date())
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        (status, body), rows = _left_to_the_collector(
            WSGIHandler(), "/orders", make_token(me.user).raw
        )
    assert status.startswith("200") and len(body["orders"]) == 3
    assert rows == []

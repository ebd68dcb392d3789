"""/orders, /orders/latest, /orders/{id}: the customer document's examples, scoping, errors."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from accounts import abilities as ab
from tests.factories import ClientFactory, LiaisonFactory
from tests.factories.orders import (
    AddressFactory,
    OrderFactory,
    OrderTotalFactory,
    PackageFactory,
    PlanFactory,
    ShipmentFactory,
    ShipmentItemFactory,
)
from tests.orders.contracts import CONTRACT, assert_same_shape, contract

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("test_host"),
]
JAN_30_2013 = datetime(2013, 1, 30, 15, 0, tzinfo=UTC)
TRACKING = "https://tools.usps.com/id=9269876"


@pytest.fixture
def test_host():
    with override_settings(ALLOWED_HOSTS=["test.host", "testserver"]):
        yield


@pytest.fixture
def customer_api(person_api):
    """Log in as a client (customer role): `customer_api(client)`."""

    def make(client):
        api = person_api("customer", record=client)
        api.defaults["HTTP_HOST"] = "test.host"
        return api

    return make


def _doc(name):
    """The example with the document's typo "Jaunary" spelt right (we write "January")."""
    text = (CONTRACT / f"{name}.json").read_text()
    return json.loads(text.replace("Jaunary", "January"))


def completed_order(**kwargs):
    kwargs.setdefault("date_added", JAN_30_2013)
    kwargs.setdefault("paid_at", JAN_30_2013)
    kwargs.setdefault("completed_at", JAN_30_2013)
    return OrderFactory(**kwargs)


def _totals(order, **values):
    for priority, (code, value) in enumerate(values.items()):
        OrderTotalFactory(order=order, code=code, value=Decimal(value), priority=priority)


def _shipped(order, items=3, **kwargs):
    shipment = ShipmentFactory(
        order=order, status="shipped", ship_date=date(2013, 1, 1), tracking_url=TRACKING, **kwargs
    )
    for index in range(items):
        ShipmentItemFactory(shipment=shipment, name=f"Item {index + 1}", option="Option 1")
    return shipment


@pytest.fixture
def list_example():
    """The list example's data: client 2 with orders 2 (paid plan, totals, shipped) and 3."""
    client = ClientFactory(id=2)
    free = PlanFactory(id=1, name="Plan Name 3", price=Decimal("0"), package=None)
    paid = PlanFactory(
        id=2,
        name="Plan Name 2",
        price=Decimal("50"),
        package=PackageFactory(name="Package 2"),
    )
    second = completed_order(id=2, customer=client, plan=paid)
    _totals(second, shipping="10", discount="5", subtotal="50", total="55")
    completed_order(id=3, customer=client, plan=free)
    return client, second


def test_list_is_the_documents_example(customer_api, list_example):
    client, second = list_example
    _shipped(second)
    response = customer_api(client).get("/orders", {"order": "DESC"})
    assert response.status_code == 200
    assert response.json() == _doc("customer_list_response")


def test_list_order_in_a_json_body_like_the_document(customer_api, list_example):
    client, second = list_example
    body = contract("customer_list_request")
    response = customer_api(client).generic(
        "GET", "/orders", data=json.dumps(body), content_type="application/json"
    )
    assert [order["id"] for order in response.json()["orders"]] == [3, 2]
    ascending = customer_api(client).get("/orders").json()
    assert [order["id"] for order in ascending["orders"]] == [2, 3]


def test_list_with_queued_shipments_is_the_documents_example(customer_api, list_example):
    client, second = list_example
    ShipmentFactory(order=second, status="queued")
    second.refresh_from_db()
    response = customer_api(client).get("/orders", {"order": "DESC"})
    expected = _doc("customer_list_queued_response")["orders"][0]
    body = response.json()
    assert body["orders"][1] == expected
    assert body == {"status": "ok", "orders": [body["orders"][0], expected]}


@pytest.fixture
def detail_example():
    """The detail example's data: order 489 of client 164."""
    client = ClientFactory(id=164)
    plan = PlanFactory(
        id=3, name="Plan Name 30", price=Decimal("50"), package=PackageFactory(name="Package 23")
    )
    billing = AddressFactory(
        client=client,
        first_name="Joe",
        last_name="Jackson",
        address="123 Fake St. Suite 11",
        city="Oakland",
        state="CA",
        postal_code="94612",
    )
    order = completed_order(id=489, customer=client, plan=plan, billing_address=billing)
    _totals(order, shipping="10", discount="5", subtotal="50", total="50")
    return client, order


def _without_checkout(body):
    """The detail example's checkout URL does not follow from its own ids (509?url=144 for
    order 489 of customer 164); everything else is compared as a value."""
    body["order"]["plan"].pop("checkout")
    return body


def test_detail_is_the_documents_example(customer_api, detail_example):
    client, order = detail_example
    shipment = _shipped(order, items=0, shipping_address=AddressFactory())
    ShipmentItemFactory(shipment=shipment, name="Item 1", option="Option 1")
    body = customer_api(client).get("/orders/489").json()
    assert body["order"]["plan"]["checkout"] == "http://test.host/checkout/489?url=164"
    assert _without_checkout(body) == _without_checkout(_doc("customer_detail_response"))


def test_detail_with_queued_shipment_is_the_documents_example(customer_api, detail_example):
    client, order = detail_example
    order.plan.package.required_option = "size"
    order.plan.package.save()
    shipment = ShipmentFactory(order=order, status="queued", shipping_address=AddressFactory())
    ShipmentItemFactory(shipment=shipment, option="")
    body = customer_api(client).get("/orders/489").json()
    expected = _doc("customer_detail_queued_response")
    assert _without_checkout(body) == _without_checkout(expected)


def test_latest_is_the_most_recently_completed_order(customer_api, detail_example):
    client, order = detail_example
    _shipped(order, items=1, shipping_address=AddressFactory())
    completed_order(  # a higher id, completed earlier
        id=490, customer=client, completed_at=datetime(2012, 1, 1, tzinfo=UTC), plan=order.plan
    )
    body = customer_api(client).get("/orders/latest").json()
    assert body["order"]["id"] == 489
    assert_same_shape(body, _doc("customer_detail_response"))


# --------------------------------------------------------------------------- errors, scoping

NO_ORDER = {"status": "error", "messages": ["No order found"]}


def test_someone_elses_order_is_no_order_found(customer_api, detail_example):
    _, order = detail_example
    stranger = ClientFactory()
    response = customer_api(stranger).get(f"/orders/{order.pk}")
    assert response.status_code == 404
    assert response.json() == contract("customer_error_not_yours") == NO_ORDER


def test_latest_without_orders_is_no_order_found(customer_api):
    response = customer_api(ClientFactory()).get("/orders/latest")
    assert response.status_code == 404
    assert response.json() == contract("customer_error_no_orders")


@pytest.mark.parametrize("order_id", ["999999", "abc"])
def test_missing_order_is_no_order_found(customer_api, order_id):
    response = customer_api(ClientFactory()).get(f"/orders/{order_id}")
    assert response.status_code == 404 and response.json() == NO_ORDER


@pytest.mark.parametrize(
    "path", ["/orders", "/orders/latest", "/orders/{mine}", "/orders/{theirs}"]
)
def test_cross_client_on_every_route(customer_api, path):
    me, them = ClientFactory(), ClientFactory()
    mine = completed_order(customer=me)
    theirs = completed_order(customer=them, completed_at=datetime(2030, 1, 1, tzinfo=UTC))
    response = customer_api(me).get(path.format(mine=mine.pk, theirs=theirs.pk))
    body = response.json()
    if path == "/orders":
        assert [order["id"] for order in body["orders"]] == [mine.pk]
    elif path == "/orders/{theirs}":
        assert response.status_code == 404 and body == NO_ORDER
    else:
        assert body["order"]["id"] == mine.pk and body["order"]["customer_id"] == me.pk


def test_only_completed_and_not_deleted_orders_are_shown(customer_api):
    me = ClientFactory()
    done = completed_order(customer=me)
    completed_order(customer=me, completed_at=None)
    completed_order(customer=me, is_deleted=True)
    body = customer_api(me).get("/orders").json()
    assert [order["id"] for order in body["orders"]] == [done.pk]


def test_a_liaison_sees_the_orders_of_their_clients(person_api):
    first, second, other = ClientFactory(), ClientFactory(), ClientFactory()
    liaison = LiaisonFactory()
    liaison.clients.add(first, second)
    orders = [completed_order(customer=c) for c in (first, second, other)]
    api = person_api("liaison", record=liaison)
    body = api.get("/orders").json()
    assert [order["id"] for order in body["orders"]] == [orders[0].pk, orders[1].pk]
    assert api.get(f"/orders/{orders[2].pk}").status_code == 404


def test_bad_order_parameter(customer_api):
    response = customer_api(ClientFactory()).get("/orders", {"order": "sideways"})
    assert response.status_code == 400
    assert response.json() == {"status": "error", "messages": ["order must be ASC or DESC"]}


@pytest.mark.parametrize("path", ["/orders", "/orders/latest", "/orders/1"])
def test_auth_failures_use_the_envelope(api, person_api, path):
    response = api.get(path)
    assert response.status_code == 401 and response.json()["status"] == "invalid-token"
    staff_only = person_api("viewer").get(path)  # viewer lacks orders.view_own_orders
    assert staff_only.status_code == 403
    assert staff_only.json()["status"] == "permission-denied"


@pytest.mark.parametrize("path", ["/orders", "/orders/latest", "/orders/1"])
def test_customer_routes_need_orders_read(person_api, path):
    client = ClientFactory()
    api = person_api("customer", record=client, abilities=[ab.ORDERS_WRITE])
    response = api.get(path)
    assert response.status_code == 403 and "orders:read" in response.json()["message"]


def test_issues_and_fallback_addresses(customer_api):
    me = ClientFactory()
    plan = PlanFactory(package=PackageFactory(required_option="size"))
    order = completed_order(customer=me, plan=plan)
    nowhere = ShipmentFactory(order=order, status="queued")
    ShipmentItemFactory(shipment=nowhere, option="")
    body = customer_api(me).get(f"/orders/{order.pk}").json()
    assert body["order"]["shipments"][0]["issues"] == [
        "missing_shipment_address",
        "missing_required_option",
    ]
    AddressFactory(client=me, is_primary_shipping=True, first_name="Primary")
    body = customer_api(me).get(f"/orders/{order.pk}").json()
    shipment = body["order"]["shipments"][0]
    assert shipment["issues"] == ["missing_required_option"]
    assert shipment["shipping_address"]["first_name"] == "Primary"


def test_current_plan_and_upgrade_flags(customer_api, clock):
    me = ClientFactory()
    plan = PlanFactory(upgrade_price=Decimal("20"))
    order = completed_order(customer=me, plan=plan, paid_at=clock.now)
    body = customer_api(me).get(f"/orders/{order.pk}").json()
    assert body["order"]["plan"]["current"] is True and body["order"]["plan"]["upgrade"] is True
    assert body["order"]["plan"]["upgrade_price"] == "20.0"
    clock.advance(days=400)  # 12 months have passed
    body = customer_api(me).get(f"/orders/{order.pk}").json()
    assert body["order"]["plan"]["current"] is False


# --------------------------------------------------------------------------- query counts


def _rich_order(client):
    plan = PlanFactory(package=PackageFactory(required_option="size"))
    order = completed_order(customer=client, plan=plan, billing_address=AddressFactory())
    _totals(order, shipping="10", total="60")
    _shipped(order, items=2, shipping_address=AddressFactory())
    ShipmentItemFactory(shipment=ShipmentFactory(order=order), option="")
    return order


def _count(api, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(path).status_code == 200
    return len(captured)


def test_customer_list_query_count_is_constant(customer_api, django_assert_max_num_queries):
    me = ClientFactory()
    AddressFactory(client=me, is_primary_shipping=True)
    api = customer_api(me)
    _rich_order(me)
    api.get("/orders")
    one = _count(api, "/orders")
    for _ in range(49):
        _rich_order(me)
    with django_assert_max_num_queries(one):
        assert len(api.get("/orders").json()["orders"]) == 50


@pytest.mark.parametrize("path", ["/orders/{id}", "/orders/latest"])
def test_customer_detail_query_count_is_constant(customer_api, django_assert_max_num_queries, path):
    me = ClientFactory()
    api = customer_api(me)
    first = _rich_order(me)
    api.get("/orders")
    one = _count(api, path.format(id=first.pk))
    orders = [_rich_order(me) for _ in range(49)]
    for _ in range(48):
        _shipped(orders[-1], items=1)
    with django_assert_max_num_queries(one):
        body = api.get(path.format(id=orders[-1].pk)).json()
    assert body["order"]["id"] == orders[-1].pk
    assert len(body["order"]["shipments"]) == 50


# --------------------------------------------------------------------------- the list's rows


def test_the_list_rows_render_exactly_like_the_orders_themselves(customer_api, clock):
    """The list reads rows (no model instances); every shape renders as the model path."""
    from rest_framework.test import APIRequestFactory

    from orders import selectors
    from orders.api.serializers import CustomerOrderSerializer

    me = ClientFactory()
    bare = completed_order(customer=me, plan=None)
    rich = _rich_order(me)
    free = PlanFactory(package=None, price=Decimal("0"), upgrade_price=Decimal("12.50"))
    current = completed_order(customer=me, plan=free, paid_at=clock.now, refunded_at=None)
    _totals(current, subtotal="12.5", discount="-2.25", total="10.25", shipping="0")
    ShipmentFactory(order=current, status="backordered")
    ShipmentFactory(order=current, status="queued", shipping_address=AddressFactory())
    ShipmentFactory(order=current, status="delivered", ship_date=None)
    refunded = completed_order(customer=me, plan=rich.plan, refunded_at=JAN_30_2013)
    ShipmentFactory(order=refunded, status="queued")
    AddressFactory(client=me, is_primary_shipping=True)
    request = APIRequestFactory().get("/orders", HTTP_HOST="test.host")
    ids = [me.pk]
    for descending in (False, True):
        rows = selectors.customer_orders(client_ids=ids, descending=descending)
        models = list(selectors._customer_orders(ids).order_by("-id" if descending else "id"))
        assert [row.pk for row in rows] == [order.pk for order in models]

        def render(orders):
            customer = selectors.CustomerContext.for_orders(orders, now=clock.now)
            context = {"request": request, "customer": customer}
            return json.dumps(CustomerOrderSerializer(orders, many=True, context=context).data)

        from_rows = render(rows)
        assert from_rows == render(models)
    assert {bare.pk, rich.pk, current.pk, refunded.pk} == {row.pk for row in rows}
    assert "missing_shipment_address" not in from_rows  # the primary address covers them


def test_long_dates_are_strftimes_in_the_current_zone():
    import zoneinfo

    from django.utils import timezone

    from orders.api.serializers import long_date

    for month in range(1, 13):
        day = date(2026, month, 9)
        assert long_date(day) == f"{day:%B} 9, 2026"  # the C locale's month names
    late = datetime(2013, 1, 30, 23, 30, tzinfo=UTC)
    assert long_date(late) == "January 30, 2013"
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert long_date(late) == "January 31, 2013"
    assert long_date(late, zoneinfo.ZoneInfo("America/Denver")) == "January 30, 2013"
    assert long_date(None) is None


def test_a_list_writes_its_dates_in_the_current_zone_like_one_by_one(customer_api, clock):
    import zoneinfo

    from django.utils import timezone
    from rest_framework.test import APIRequestFactory

    from orders import selectors
    from orders.api.serializers import CustomerOrderSerializer

    me = ClientFactory()
    late = datetime(2013, 1, 30, 23, 30, tzinfo=UTC)
    completed_order(customer=me, paid_at=late, refunded_at=None)
    completed_order(customer=me, paid_at=None, refunded_at=late)
    request = APIRequestFactory().get("/orders", HTTP_HOST="test.host")
    rows = selectors.customer_orders(client_ids=[me.pk])
    context = {"request": request, "customer": selectors.CustomerContext.for_orders(rows)}
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        listed = CustomerOrderSerializer(rows, many=True, context=context).data
        one_by_one = [CustomerOrderSerializer(row, context=context).data for row in rows]
    assert listed == one_by_one
    assert [o["paid_at"] for o in listed] == ["January 31, 2013", None]
    assert [o["refunded_at"] for o in listed] == [None, "January 31, 2013"]

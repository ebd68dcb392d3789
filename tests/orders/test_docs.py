"""docs/orders.md stays true: every `<!-- checked: name -->` JSON example has the keys and
value types of a real request's answer (and the exact body where it is deterministic)."""

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orders.models import Order
from stages.models import Stage
from tests.factories import ClientFactory
from tests.factories.orders import (
    AddressFactory,
    LocationFactory,
    OrderFactory,
    OrderTotalFactory,
    PackageFactory,
    PlanFactory,
    ShipmentFactory,
    ShipmentItemFactory,
)
from tests.orders.contracts import assert_same_shape

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "orders.md"
CHECKED = re.compile(r"<!-- checked: ([a-z-]+) -->\s*```json\n(.*?)```", re.DOTALL)


def examples() -> dict:
    found = {name: json.loads(body) for name, body in CHECKED.findall(DOC.read_text())}
    assert found, "no checked examples found in docs/orders.md"
    return found


DOCS = examples()
HANDLED = {
    "list-response",
    "create-request",
    "create-response",
    "not-found",
    "patch-request",
    "patch-response",
    "invalid-param",
    "delete-response",
    "customer-not-found",
    "customer-list-response",
    "customer-detail-response",
}


def test_every_checked_example_is_checked():
    assert set(DOCS) == HANDLED


def _placed(**kwargs) -> Order:
    order = OrderFactory(
        stage="quality-check",
        order_date=date(2020, 5, 24),
        processed=True,
        payment="cod",
        invoice_date=datetime(2020, 5, 24, 11, 58, 43, tzinfo=UTC),
        ip_address="192.168.10.1",
        user_agent="Mozilla/5.0",
        **kwargs,
    )
    OrderTotalFactory(order=order, code="total", value=Decimal("15.0449"))
    return order


def test_list_response(staff_api):
    _placed()
    _placed()
    body = staff_api.get("/api/orders?status=quality-check&per_page=1").json()
    assert_same_shape(body, DOCS["list-response"])
    assert body["links"]["next"].startswith("http://testserver/api/orders?status=quality-check")


def test_create_request_and_response(staff_api):
    request = dict(DOCS["create-request"])
    request["customer_id"] = ClientFactory().pk
    request["location_id"] = LocationFactory().pk
    response = staff_api.post("/api/orders", request, format="json", HTTP_USER_AGENT="erp/2")
    assert response.status_code == 201, response.json()
    body = response.json()
    example = dict(DOCS["create-response"])
    assert_same_shape(body, example)
    for key in ("order_date_time", "total_items", "order_total", "order_totals", "status_id"):
        assert body[key] == example[key], key


def test_not_found(staff_api):
    response = staff_api.get("/api/orders/999999")
    assert response.status_code == 400
    assert response.json() == DOCS["not-found"]


def test_patch_request_and_response(staff_api):
    order = OrderFactory(stage="received", processed=True, payment="cod")
    assert Stage.objects.get(pk=DOCS["patch-request"]["status_id"]).slug == "in-production"
    response = staff_api.patch(f"/api/orders/{order.pk}", DOCS["patch-request"], format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_same_shape(body, DOCS["patch-response"])
    assert (body["order_type"], body["status_id"]) == ("delivery", 2)


def test_invalid_param(staff_api):
    order = OrderFactory(stage="received")
    response = staff_api.patch(f"/api/orders/{order.pk}", {"email": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == DOCS["invalid-param"]


def test_delete_response(staff_api):
    order = OrderFactory(stage="received")
    body = staff_api.delete(f"/api/orders/{order.pk}").json()
    assert_same_shape(body, DOCS["delete-response"])
    assert body == {"id": order.pk, "object": "order", "deleted": True}


JAN_30_2013 = datetime(2013, 1, 30, 12, tzinfo=UTC)


@pytest.fixture
def customer(person_api):
    client = ClientFactory()
    return client, person_api("customer", record=client)


def _completed(client, **kwargs) -> Order:
    plan = PlanFactory(package=PackageFactory())
    order = OrderFactory(
        customer=client,
        plan=plan,
        date_added=JAN_30_2013,
        paid_at=JAN_30_2013,
        completed_at=JAN_30_2013,
        **kwargs,
    )
    for code, value in (("shipping", "10"), ("discount", "5"), ("subtotal", "50"), ("total", "55")):
        OrderTotalFactory(order=order, code=code, value=Decimal(value))
    return order


def test_customer_not_found(customer):
    _, api = customer
    response = api.get("/orders/latest")
    assert response.status_code == 404
    assert response.json() == DOCS["customer-not-found"]


def test_customer_list_response(customer):
    client, api = customer
    order = _completed(client)
    shipment = ShipmentFactory(
        order=order, status="shipped", ship_date=date(2013, 1, 1), tracking_url="https://t.example"
    )
    ShipmentItemFactory(shipment=shipment)
    assert_same_shape(api.get("/orders").json(), DOCS["customer-list-response"])


def test_customer_detail_response(customer):
    client, api = customer
    order = _completed(client, billing_address=AddressFactory(client=client))
    ShipmentFactory(order=order, status="queued")
    body = api.get(f"/orders/{order.pk}").json()
    assert_same_shape(body, DOCS["customer-detail-response"])
    assert body["order"]["shipments"] == DOCS["customer-detail-response"]["order"]["shipments"]

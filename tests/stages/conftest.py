"""Fixtures for the stage tests: an order with its first status, a poster, a write counter."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from orders.models import Order
from stages.models import OrderStage, OrderStatus
from stages.services import stage_record
from tests.factories.orders import OrderFactory

SYSTEM = Actor.system("test")
ORDER_STAGES_URL = "/api/v1/order_stages"


@pytest.fixture
def order() -> Order:
    """An order received two hours ago."""
    order = OrderFactory()
    stage_record(
        order=order,
        stage="received",
        actor=SYSTEM,
        stage_at=timezone.now() - timedelta(hours=2),
        check_transition=False,
    )
    return order


@pytest.fixture
def post(staff_api) -> Callable:
    """POST /api/v1/order_stages as JSON (or `format="multipart"` for a form post)."""

    def send(payload: dict, *, format: str = "json", client=None):
        return (client or staff_api).post(ORDER_STAGES_URL, payload, format=format)

    return send


@pytest.fixture
def snapshot() -> Callable[[], tuple]:
    """What the stage tables (and orders) hold: to assert that a refused call wrote nothing."""

    def take() -> tuple:
        return (
            OrderStage.objects.count(),
            sorted(OrderStatus.objects.values_list("id", "stage_id", "stage_at", "updated_at")),
            sorted(Order.objects.values_list("id", "version", "date_modified")),
        )

    return take


def error_of(response, slug: str, status_code: int = 400) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["status"] == slug, body
    return body["errors"]

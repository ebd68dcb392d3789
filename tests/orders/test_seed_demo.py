"""seed_demo's orders part: believable, complete with statuses, idempotent, bulk at scale."""

import pytest
from django.core.management import call_command

from accounts.models import Client
from orders import demo
from orders.models import Order, Shipment
from stages.models import OrderStatus

pytestmark = pytest.mark.django_db


def _state() -> dict:
    return {
        "orders": Order.objects.count(),
        "statuses": OrderStatus.objects.count(),
        "shipments": Shipment.objects.count(),
        "versions": sum(Order.objects.values_list("version", flat=True)),
    }


def test_seed_demo_makes_orders_across_stages_and_is_idempotent(capsys, api, make_token):
    call_command("seed_demo", "--orders", "30", "--clients", "4")
    first = _state()
    assert first["orders"] == 30 and first["statuses"] == 30
    stages = set(OrderStatus.objects.values_list("stage__slug", flat=True))
    assert {"received", "complete"} <= stages and len(stages) >= 4
    completed = Order.objects.filter(completed_at__isnull=False)
    assert completed.exists()
    assert Shipment.objects.filter(status="shipped").exists()
    assert "30 through the services" in capsys.readouterr().out

    call_command("seed_demo", "--orders", "30", "--clients", "4")
    assert _state() == first

    # the customer API has something to show for a demo customer with completed orders
    client = Client.objects.get(pk=completed.first().customer_id)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(client.user).raw}")
    body = api.get("/orders").json()
    assert body["status"] == "ok" and body["orders"]


def test_bulk_path_beyond_the_rich_orders(monkeypatch):
    monkeypatch.setattr(demo, "RICH_ORDERS", 5)
    monkeypatch.setattr(demo, "BATCH", 7)
    call_command("seed_demo", "--orders", "30", "--clients", "3")
    assert Order.objects.count() == 30
    assert OrderStatus.objects.count() == 30
    assert Order.objects.filter(external_id="demo-30").exists()
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 30
    before = _state()
    call_command("seed_demo", "--orders", "30", "--clients", "3")
    assert _state() == before


@pytest.mark.postgres
def test_copy_path_on_postgresql(monkeypatch):
    monkeypatch.setattr(demo, "RICH_ORDERS", 3)
    monkeypatch.setattr(demo, "BATCH", 10)
    call_command("seed_demo", "--orders", "25", "--clients", "3")
    assert Order.objects.count() == OrderStatus.objects.count() == 25
    order = Order.objects.get(external_id="demo-20")
    assert order.lines.exists() and order.totals.filter(code="total").exists()
    assert order.order_total == order.totals.get(code="total").value
    before = _state()
    call_command("seed_demo", "--orders", "25", "--clients", "3")
    assert _state() == before

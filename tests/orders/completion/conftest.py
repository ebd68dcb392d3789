"""Fixtures for the completion tests: orders ready to complete, rules, the endpoint."""

from collections.abc import Callable
from urllib.parse import quote

import pytest

from orders.models import JobFlowRule, Order
from stages.models import Stage
from tests.factories.orders import OrderFactory


def complete_url(number: str) -> str:
    return f"/api/v2/orders/{quote(number, safe='')}/complete"


def completion_error(code: str, message: str) -> dict:
    return {
        "error": "Could not complete order",
        "details": [f"Error Code: {code}", f"Error Message: {message}"],
    }


@pytest.fixture
def ready_order() -> Callable[..., Order]:
    """An order whose history reached quality-check (the catalogue lets it move to complete)."""

    def make(**kwargs) -> Order:
        from stages.services import stage_record
        from tests.factories.orders import FACTORY_ACTOR

        order = OrderFactory(stage="received", **kwargs)
        for slug in ("in-production", "quality-check"):
            stage_record(order=order, stage=slug, actor=FACTORY_ACTOR)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def rule() -> Callable[..., JobFlowRule]:
    def make(stage: str, message: str, *, service_type=None, position=0, **kwargs):
        return JobFlowRule.objects.create(
            stage=Stage.objects.get(slug=stage),
            message=message,
            service_type=service_type,
            position=position,
            **kwargs,
        )

    return make


def order_state(order: Order) -> dict:
    """What a refusal must leave untouched: the order row, its stages and its jobs."""
    from group_orders.models import Job
    from stages.models import OrderStage

    fresh = Order.objects.get(pk=order.pk)
    return {
        "row": {f.attname: getattr(fresh, f.attname) for f in Order._meta.concrete_fields},
        "stages": list(OrderStage.objects.filter(order=fresh).values_list("id", flat=True)),
        "jobs": Job.objects.filter(subject_type="orders.order", subject_id=str(fresh.pk)).count(),
        "history": fresh.history.count(),
    }

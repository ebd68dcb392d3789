"""The one service that records a stage: history always, current status forward only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from config.api.errors import InvalidParam
from stages.models import OrderStage, OrderStatus
from stages.services import stage_record
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_first_stage_creates_status_and_history():
    order = OrderFactory()
    recorded = stage_record(order=order, stage="received", actor=SYSTEM)
    assert recorded.moved
    status = OrderStatus.objects.get(order=order)
    assert status.stage.slug == "received"
    assert status.client == order.customer
    row = OrderStage.objects.get(order=order)
    assert (row.stage.slug, row.actor_kind, row.created_by) == (
        "received",
        "system",
        "system: test",
    )
    order.refresh_from_db()
    assert order.version == 2


def test_late_stage_is_history_only():
    order = OrderFactory()
    now = timezone.now()
    stage_record(order=order, stage="received", actor=SYSTEM, stage_at=now - timedelta(hours=2))
    stage_record(order=order, stage="in-production", actor=SYSTEM, stage_at=now)
    late = stage_record(
        order=order, stage="on-hold", actor=SYSTEM, stage_at=now - timedelta(hours=1)
    )
    assert not late.moved
    assert OrderStatus.objects.get(order=order).stage.slug == "in-production"
    assert OrderStage.objects.filter(order=order).count() == 3
    assert late.history.previous_stage.slug == "received"


def test_disallowed_transition_names_the_reason_and_writes_nothing():
    order = OrderFactory()
    stage_record(order=order, stage="received", actor=SYSTEM)
    with pytest.raises(InvalidParam) as refused:
        stage_record(order=order, stage="shipped", actor=SYSTEM)
    assert "cannot move" in refused.value.errors["stage"][0]
    assert OrderStage.objects.filter(order=order).count() == 1


def test_update_status_false_leaves_the_current_status():
    order = OrderFactory()
    stage_record(order=order, stage="received", actor=SYSTEM)
    recorded = stage_record(order=order, stage="in-production", actor=SYSTEM, update_status=False)
    assert not recorded.moved
    assert OrderStatus.objects.get(order=order).stage.slug == "received"
    assert OrderStage.objects.filter(order=order).count() == 2

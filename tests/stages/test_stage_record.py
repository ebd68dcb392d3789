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


def test_out_of_order_arrivals_leave_the_latest_stage_current_and_lose_nothing():
    """Stages arrive scrambled: the current status is the one with the latest stage_at."""
    order = OrderFactory()
    start = timezone.now() - timedelta(hours=10)
    timeline = ["received", "in-production", "quality-check", "shipped", "complete"]
    arrival = [2, 0, 4, 1, 3]  # indexes into the timeline, in the order they arrive
    results = {}
    for index in arrival:
        results[index] = stage_record(
            order=order,
            stage=timeline[index],
            actor=SYSTEM,
            stage_at=start + timedelta(hours=index),
            check_transition=False,
        )

    status = OrderStatus.objects.get(order=order)
    assert status.stage.slug == "complete"
    assert status.stage_at == start + timedelta(hours=4)
    rows = list(OrderStage.objects.filter(order=order).order_by("stage_at"))
    assert [row.stage.slug for row in rows] == timeline
    # moved: 2 (first), 4 (later than 2); not: 0, 1, 3 (each older than the current one)
    assert {i for i, r in results.items() if r.moved} == {2, 4}
    assert [row.updated_status for row in rows] == [False, False, True, False, True]
    # the previous stage is what preceded each row in time when it was recorded
    assert results[1].history.previous_stage.slug == "received"
    assert results[3].history.previous_stage.slug == "quality-check"


def test_a_stage_at_equal_to_the_current_one_moves_the_status():
    order = OrderFactory()
    moment = timezone.now() - timedelta(minutes=5)
    stage_record(order=order, stage="received", actor=SYSTEM, stage_at=moment)
    same_time = stage_record(order=order, stage="on-hold", actor=SYSTEM, stage_at=moment)
    assert same_time.moved
    assert OrderStatus.objects.get(order=order).stage.slug == "on-hold"


def test_a_late_arrival_skips_the_transition_check_but_a_move_does_not():
    order = OrderFactory()
    now = timezone.now()
    stage_record(order=order, stage="received", actor=SYSTEM, stage_at=now)
    late = stage_record(
        order=order, stage="complete", actor=SYSTEM, stage_at=now - timedelta(hours=1)
    )
    assert not late.moved
    with pytest.raises(InvalidParam):
        stage_record(order=order, stage="complete", actor=SYSTEM, stage_at=now)


def test_order_details_are_written_to_the_order_when_the_status_moves():
    order = OrderFactory(notes="old")
    stage_record(
        order=order,
        stage="received",
        actor=SYSTEM,
        order_details={"notes": "new", "external_id": "X-1", "delivery_rush": True},
    )
    order.refresh_from_db()
    assert (order.notes, order.external_id, order.delivery_rush) == ("new", "X-1", True)
    status = OrderStatus.objects.get(order=order)
    assert (status.notes, status.external_id, status.delivery_rush) == ("new", "X-1", True)
    assert order.version == 2


def test_an_empty_external_id_clears_it_to_null():
    order = OrderFactory(external_id="X-2")
    stage_record(order=order, stage="received", actor=SYSTEM, order_details={"external_id": ""})
    order.refresh_from_db()
    assert order.external_id is None
    assert OrderStatus.objects.get(order=order).external_id == ""


def test_an_unknown_order_detail_key_is_refused_and_nothing_is_written():
    order = OrderFactory()
    with pytest.raises(InvalidParam) as refused:
        stage_record(order=order, stage="received", actor=SYSTEM, order_details={"colour": "red"})
    assert "order.colour" in refused.value.errors
    assert not OrderStage.objects.filter(order=order).exists()


def test_created_by_user_names_the_row_unless_created_by_is_given():
    order = OrderFactory()
    user = OrderFactory().customer.user
    named = stage_record(order=order, stage="received", actor=SYSTEM, created_by_user=user)
    assert (named.history.created_by, named.history.created_by_user) == (user.full_name, user)
    overridden = stage_record(
        order=order, stage="received", actor=SYSTEM, created_by_user=user, created_by="Desk"
    )
    assert overridden.history.created_by == "Desk"
    assert overridden.history.actor_label == "system: test"


def test_an_order_requests_status_takes_the_requests_client():
    from tests.factories.orders import OrderRequestFactory

    request = OrderRequestFactory()
    stage_record(order_request=request, stage="received", actor=SYSTEM)
    status = OrderStatus.objects.get(order_request=request)
    assert status.client == request.client
    assert status.client_billing_postal_code == request.client.billing_postal_code


def test_reaching_complete_by_any_path_completes_the_order():
    order = OrderFactory()
    start = timezone.now() - timedelta(hours=3)
    stage_record(order=order, stage="received", actor=SYSTEM, stage_at=start)
    stage_record(order=order, stage="in-production", actor=SYSTEM, stage_at=start)
    stage_record(order=order, stage="quality-check", actor=SYSTEM, stage_at=start)
    done_at = start + timedelta(hours=1)
    stage_record(order=order, stage="complete", actor=SYSTEM, stage_at=done_at)
    order.refresh_from_db()
    assert order.completed_at == done_at


def test_a_late_complete_row_does_not_complete_the_order():
    order = OrderFactory()
    now = timezone.now()
    stage_record(order=order, stage="received", actor=SYSTEM, stage_at=now)
    stage_record(order=order, stage="complete", actor=SYSTEM, stage_at=now - timedelta(hours=1))
    order.refresh_from_db()
    assert order.completed_at is None

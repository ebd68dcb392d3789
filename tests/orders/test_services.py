"""The order services: each change locks, records who acted, bumps version, refuses a deleted
order, and does nothing when nothing changes."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts.actors import Actor
from config.api.errors import InvalidParam
from orders.models import Order, OrderLine, OrderTotal
from orders.services import (
    LineDraft,
    OrderDraft,
    TotalDraft,
    order_assign,
    order_create,
    order_hard_delete,
    order_hold,
    order_mark_invalid,
    order_numbers_allocate,
    order_release,
    order_soft_delete,
    order_update,
)
from stages.models import OrderStage, Stage
from tests.factories import ClientFactory, EmployeeFactory
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return EmployeeFactory().user


@pytest.fixture
def actor(clerk):
    return Actor.for_user(clerk)


def _latest_history(order):
    return Order.history.filter(id=order.pk).order_by("-history_id").first()


def test_order_create_numbers_hashes_lines_totals_and_first_status(actor, clerk):
    draft = OrderDraft(
        first_name="Maya",
        customer=ClientFactory(),
        lines=[
            LineDraft(name="Scan", quantity=2, price=Decimal("4.50")),
            LineDraft(name="Frame", price=Decimal("10")),
        ],
        totals=[
            TotalDraft(code="subtotal", value=Decimal("19")),
            TotalDraft(code="total", value=Decimal("24")),
        ],  # noqa: E501
    )
    first = order_create(draft=draft, actor=actor)
    second = order_create(draft=OrderDraft(first_name="Liam"), actor=actor)

    assert int(second.number) > int(first.number) >= 100001
    assert first.hash != second.hash and len(first.hash) == 32
    assert (first.total_items, first.order_total) == (3, Decimal("24"))
    assert list(OrderLine.objects.filter(order=first).values_list("subtotal", flat=True)) == [
        Decimal("9"),
        Decimal("10"),
    ]
    assert OrderTotal.objects.filter(order=first).count() == 2
    assert first.current_status.stage.slug == "received"
    assert first.current_status.stage_trigger == "order-created"
    stage_row = OrderStage.objects.get(order=first)
    assert (stage_row.actor_kind, stage_row.actor_user) == ("user", clerk)
    created = _latest_history(first)
    assert (created.history_type, created.history_user) == ("+", clerk)
    assert first.version == Order.objects.get(pk=first.pk).version
    assert second.total_items == 0 and second.order_total == 0


def test_order_numbers_skip_a_number_an_import_already_used():
    upcoming = order_numbers_allocate(count=1)[0]
    OrderFactory(number=str(int(upcoming) + 1))
    numbers = order_numbers_allocate(count=2)
    assert str(int(upcoming) + 1) not in numbers
    assert len(set(numbers)) == 2


def test_order_create_refuses_bad_drafts_before_writing(actor):
    with pytest.raises(InvalidParam) as refused:
        order_create(draft=OrderDraft(first_name="A", order_type="drone"), actor=actor)
    assert "order_type" in refused.value.errors
    with pytest.raises(InvalidParam) as refused:
        order_create(
            draft=OrderDraft(first_name="A", lines=[LineDraft(name="x", quantity=0)]), actor=actor
        )
    assert "lines.0.quantity" in refused.value.errors
    assert not Order.objects.exists()


def test_application_actor_is_named_in_the_history(staff_member, make_token):
    token = make_token(staff_member, name="shop-sync").token
    order = order_create(draft=OrderDraft(first_name="A"), actor=Actor.for_token(token))
    record = _latest_history(order)
    assert record.history_user == staff_member
    assert "planoauth (shop-sync)" in record.history_change_reason


def test_order_update_changes_only_what_differs_and_bumps_version_once(actor, clerk):
    order = OrderFactory(stage="received", first_name="Ann", email="a@example.com")
    version = Order.objects.get(pk=order.pk).version
    same = order_update(order=order, actor=actor, changes={"first_name": "Ann"})
    assert same.version == version
    changed = order_update(
        order=order, actor=actor, changes={"first_name": "Anne", "email": "b@example.com"}
    )  # noqa: E501
    assert changed.version == version + 1
    record = _latest_history(order)
    assert record.history_user == clerk and record.first_name == "Anne"
    assert "first_name, email" in record.history_change_reason


def test_order_update_moves_the_stage_through_stage_record(actor):
    order = OrderFactory(stage="received")
    production = Stage.objects.get(slug="in-production")
    updated = order_update(order=order, actor=actor, changes={"status": production})
    assert Order.objects.get(pk=order.pk).current_status.stage == production
    assert updated.version == Order.objects.get(pk=order.pk).version
    with pytest.raises(InvalidParam) as refused:
        order_update(
            order=order,
            actor=actor,
            changes={"status": Stage.objects.get(slug="received"), "first_name": "Zed"},
        )  # noqa: E501
    assert "stage" in refused.value.errors
    assert Order.objects.get(pk=order.pk).first_name == "Tucker"


def test_order_update_refuses_fields_it_does_not_own(actor):
    order = OrderFactory()
    with pytest.raises(InvalidParam) as refused:
        order_update(order=order, actor=actor, changes={"is_on_hold": True})
    assert "is_on_hold" in refused.value.errors


def test_hold_and_release(actor, clerk):
    order = OrderFactory(stage="received")
    held = order_hold(order=order, actor=actor, reason="Address unclear")
    assert (held.is_on_hold, held.hold_reason) == (True, "Address unclear") and held.held_at
    again = order_hold(order=order, actor=actor, reason="other")
    assert again.version == held.version and again.hold_reason == "Address unclear"
    record = _latest_history(order)
    assert (record.history_user, record.is_on_hold) == (clerk, True)
    assert record.history_change_reason.startswith("Put on hold by")
    released = order_release(order=order, actor=actor)
    assert not released.is_on_hold and released.held_at is None
    assert released.version == held.version + 1
    assert _latest_history(order).history_change_reason.startswith("Released")


def test_mark_invalid_needs_a_reason(actor):
    order = OrderFactory()
    with pytest.raises(InvalidParam):
        order_mark_invalid(order=order, actor=actor, reason=" ")
    marked = order_mark_invalid(order=order, actor=actor, reason="Duplicate of 30001")
    assert marked.is_invalid and marked.invalid_reason == "Duplicate of 30001"
    assert _latest_history(order).history_change_reason.startswith("Marked invalid")


def test_assign_sets_the_time_and_refuses_non_staff(actor, clerk):
    order = OrderFactory()
    group = Group.objects.get(name="order manager")
    assigned = order_assign(order=order, actor=actor, assignee=clerk, assignee_group=group)
    assert assigned.assignee == clerk and assigned.assignee_group == group
    assert assigned.assignee_updated_at is not None
    with pytest.raises(InvalidParam):
        order_assign(order=order, actor=actor, assignee=ClientFactory().user)
    unassigned = order_assign(order=order, actor=actor, assignee=None)
    assert unassigned.assignee is None
    assert _latest_history(order).history_change_reason.startswith("Unassigned")


@pytest.mark.parametrize(
    "change",
    [
        lambda order, actor: order_hold(order=order, actor=actor),
        lambda order, actor: order_release(order=order, actor=actor),
        lambda order, actor: order_mark_invalid(order=order, actor=actor, reason="x"),
        lambda order, actor: order_assign(order=order, actor=actor, assignee=None),
        lambda order, actor: order_update(order=order, actor=actor, changes={"first_name": "X"}),
        lambda order, actor: order_soft_delete(order=order, actor=actor),
    ],
)
def test_a_soft_deleted_order_refuses_every_change(actor, change):
    order = OrderFactory()
    order_soft_delete(order=order, actor=actor)
    with pytest.raises(InvalidParam) as refused:
        change(order, actor)
    assert "deleted" in refused.value.errors["order_id"][0]


def test_hard_delete_removes_the_order_and_keeps_who_did_it(actor, clerk):
    order = OrderFactory(stage="received")
    order_soft_delete(order=order, actor=actor)
    assert order_hard_delete(order=order, actor=actor) == order.pk
    assert not Order.objects.filter(pk=order.pk).exists()
    assert not OrderStage.objects.filter(order_id=order.pk).exists()
    record = _latest_history(order)
    assert (record.history_type, record.history_user) == ("-", clerk)

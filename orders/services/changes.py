"""Changing an order: fields, stage, assignment, hold, invalid, deletion."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from config.api.conditional import check_version
from config.api.errors import InvalidParam
from orders.models import Order
from orders.services.drafts import _check_email, _check_order_type
from orders.services.history import _stamp
from stages.models import Stage
from stages.services import stage_record

TRIGGER_UPDATED = "order-updated"


def _lock(order: Order | int) -> Order:
    """The order re-read under a row lock; refuses a soft-deleted order."""
    pk = order.pk if isinstance(order, Order) else order
    locked = Order.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise InvalidParam("order_id", f"Order {pk} does not exist.")
    if locked.is_deleted:
        raise InvalidParam(
            "order_id", f"Order {locked.number} was deleted; a deleted order cannot be changed."
        )
    return locked


def _save(order: Order, actor: Actor, what: str, fields: Iterable[str]) -> Order:
    order.version += 1
    _stamp(order, actor, what)
    order.save(update_fields=[*fields, "version", "date_modified"])
    return order


# Fields order_update may change; the API's PATCH exposes the documented subset.
ORDER_UPDATABLE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "telephone",
        "comment",
        "notify",
        "order_type",
        "order_date",
        "order_time",
        "payment",
        "invoice_prefix",
        "invoice_date",
        "customer",
        "location",
        "address",
        "billing_address",
        "shipping_address",
        "plan",
        "service_type",
        "services_addons",
        "delivery_rush",
        "due_date",
        "notes",
        "external_id",
        "cancel_reason",
        "cancel_note",
        "paid_at",
        "refunded_at",
        "processed",
        "assignee",
        "assignee_group",
        "assignee_updated_at",
        "status",
        "status_updated_at",
    }
)
_ASSIGNMENT_FIELDS = ("assignee", "assignee_group")


def _check_assignee(user: User | None, param: str = "assignee_id") -> None:
    if user is None:
        return
    if not user.is_active or not (user.is_staff or hasattr(user, "employee")):
        raise InvalidParam(param, "The assignee must be an active staff member.")


def order_changes_check(changes: Mapping[str, Any]) -> None:
    """The checks order_update runs before it touches the order (forms)."""
    _check_changes(changes)


def _check_changes(changes: Mapping[str, Any]) -> None:
    unknown = sorted(set(changes) - ORDER_UPDATABLE_FIELDS)
    if unknown:
        raise InvalidParam(unknown[0], f"{unknown[0]} cannot be changed.")
    if "first_name" in changes and not (changes["first_name"] or "").strip():
        raise InvalidParam("first_name", "first_name must not be blank.")
    if "email" in changes:
        _check_email(changes["email"] or "", "email")
    if "order_type" in changes:
        _check_order_type(changes["order_type"], "order_type")
    if "assignee" in changes:
        _check_assignee(changes["assignee"])
    if "status_updated_at" in changes and "status" not in changes:
        raise InvalidParam(
            "status_updated_at", "status_updated_at can only be given together with status_id."
        )
    if "status" in changes and not isinstance(changes["status"], Stage):
        raise InvalidParam("status_id", "Not a stage.")


@transaction.atomic
def order_update(
    *,
    order: Order | int,
    actor: Actor,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> Order:
    """Change fields of an order (names of ORDER_UPDATABLE_FIELDS; relations as instances).

    `status` (a Stage) goes through `stage_record`, so the transition rules of the stage
    catalogue apply; `status_updated_at` is then the time the new stage happened (a time
    older than the current stage's is recorded as history only). Changing `assignee` or
    `assignee_group` sets `assignee_updated_at` (to the given value, else now). Nothing
    changes when every value is already what it is; then `version` stays too.
    `expected_version` (from If-Match) refuses with precondition-failed (412) when the order
    moved on since the caller read it.
    """
    _check_changes(changes)
    order = _lock(order)
    check_version(expected=expected_version, actual=order.version)
    changes = dict(changes)
    stage = changes.pop("status", None)
    stage_at = changes.pop("status_updated_at", None)
    if "external_id" in changes and not changes["external_id"]:
        changes["external_id"] = None
    changed = [name for name, value in changes.items() if getattr(order, name) != value]
    if any(name in changed for name in _ASSIGNMENT_FIELDS) and "assignee_updated_at" not in changes:
        changes["assignee_updated_at"] = timezone.now()
        changed.append("assignee_updated_at")
    if "external_id" in changed and changes["external_id"] is not None:
        taken = Order.objects.filter(external_id=changes["external_id"]).exclude(pk=order.pk)
        if taken.exists():
            raise InvalidParam("external_id", "Another order has this external_id.")
    if changed:
        for name in changed:
            setattr(order, name, changes[name])
        _save(order, actor, f"Changed {', '.join(changed)}"[:60], changed)
    if stage is not None:
        current = getattr(getattr(order, "current_status", None), "stage_id", None)
        if current != stage.pk:
            stage_record(
                order=order,
                stage=stage,
                actor=actor,
                stage_at=stage_at,
                stage_trigger=TRIGGER_UPDATED,
            )
            order.version = Order.objects.values_list("version", flat=True).get(pk=order.pk)
    return order


@transaction.atomic
def order_assign(
    *, order: Order | int, actor: Actor, assignee: User | None, assignee_group: Group | None = None
) -> Order:
    """Give the order to a staff member (and/or a staff group); None unassigns."""
    _check_assignee(assignee, "assignee")
    order = _lock(order)
    if order.assignee_id == (assignee.pk if assignee else None) and order.assignee_group_id == (
        assignee_group.pk if assignee_group else None
    ):
        return order
    order.assignee = assignee
    order.assignee_group = assignee_group
    order.assignee_updated_at = timezone.now()
    what = f"Assigned to {assignee.email}" if assignee else "Unassigned"
    return _save(order, actor, what, ["assignee", "assignee_group", "assignee_updated_at"])


@transaction.atomic
def order_hold(*, order: Order | int, actor: Actor, reason: str = "") -> Order:
    """Put the order on hold (a flag beside its stage); already on hold: nothing changes."""
    order = _lock(order)
    if order.is_on_hold:
        return order
    order.is_on_hold = True
    order.hold_reason = reason[:255]
    order.held_at = timezone.now()
    return _save(order, actor, "Put on hold", ["is_on_hold", "hold_reason", "held_at"])


@transaction.atomic
def order_release(*, order: Order | int, actor: Actor) -> Order:
    """Take the order off hold; not on hold: nothing changes."""
    order = _lock(order)
    if not order.is_on_hold:
        return order
    order.is_on_hold = False
    order.hold_reason = ""
    order.held_at = None
    return _save(order, actor, "Released from hold", ["is_on_hold", "hold_reason", "held_at"])


@transaction.atomic
def order_mark_invalid(*, order: Order | int, actor: Actor, reason: str) -> Order:
    """Flag the order as invalid with a reason (required); a new reason replaces the old."""
    if not (reason or "").strip():
        raise InvalidParam("invalid_reason", "Say why the order is invalid.")
    order = _lock(order)
    if order.is_invalid and order.invalid_reason == reason:
        return order
    order.is_invalid = True
    order.invalid_reason = reason[:255]
    return _save(order, actor, "Marked invalid", ["is_invalid", "invalid_reason"])


@transaction.atomic
def order_soft_delete(*, order: Order | int, actor: Actor) -> Order:
    """Hide the order from lists and the API; it stays in the database and its history."""
    order = _lock(order)
    order.is_deleted = True
    order.deleted_at = timezone.now()
    return _save(order, actor, "Deleted (soft)", ["is_deleted", "deleted_at"])


@transaction.atomic
def order_hard_delete(
    *, order: Order | int, actor: Actor, expected_version: int | None = None
) -> int:
    """Delete the order for good with its lines, totals, shipments and stage history.

    simple-history keeps a "-" row saying who deleted it. Returns the deleted order's id.
    A soft-deleted order may be purged (that is the one change it accepts).
    `expected_version` as in order_update.
    """
    pk = order.pk if isinstance(order, Order) else order
    locked = Order.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise InvalidParam("order_id", f"Order {pk} does not exist.")
    check_version(expected=expected_version, actual=locked.version)
    _stamp(locked, actor, "Deleted permanently")
    locked.delete()
    return pk

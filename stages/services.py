"""Every write to stages: recording a stage (history + current status)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor
from config.api.errors import InvalidParam
from orders.models import Order, OrderRequest
from stages.models import OrderStage, OrderStatus, Stage

INITIAL_STAGE = "received"

# OrderStatus fields a caller may set through `status_details` (the document's hashes)
STATUS_DETAIL_FIELDS = frozenset(
    {
        "client",
        "client_id",
        "client_billing_postal_code",
        "appt_id",
        "appt_confirmed",
        "appt_duration_time",
        "appt_start_at",
        "appt_stop_at",
        "appt_cancel_reason",
        "appt_cancel_note",
        "notes",
        "delivery_rush",
        "due_date",
        "external_id",
        "service_type",
        "services_addon_array",
        "cancel_reason",
        "cancel_note",
        "created_by",
        "updated_by",
        "updated_by_id",
    }
)


@dataclass(frozen=True)
class StageRecorded:
    history: OrderStage
    status: OrderStatus | None  # the current status row after the call
    moved: bool  # True when this call moved the current status


def stage_get(slug: str) -> Stage:
    """The active stage with this slug; invalid-param naming `stage` otherwise."""
    stage = Stage.objects.filter(slug=slug, is_active=True).first()
    if stage is None:
        raise InvalidParam("stage", f"Unknown stage '{slug}'.")
    return stage


def transition_refusal(current: Stage | None, target: Stage) -> str | None:
    """Why the current stage may not move to `target`, or None when it may."""
    if current is None or current.pk == target.pk:
        return None
    if current.is_terminal:
        return f"'{current.name}' is a final stage; an order cannot leave it."
    if not current.allowed_next.filter(pk=target.pk).exists():
        return f"An order in '{current.name}' cannot move to '{target.name}'."
    return None


def _lock_subject(order: Order | None, order_request: OrderRequest | None):
    if (order is None) == (order_request is None):
        raise InvalidParam("order_id", "Give exactly one of order_id and order_request_id.")
    if order is not None:
        Order.objects.select_for_update().only("pk").get(pk=order.pk)
        return {"order": order}
    OrderRequest.objects.select_for_update().only("pk").get(pk=order_request.pk)
    return {"order_request": order_request}


def _apply_details(status: OrderStatus, order: Order | None, details: Mapping[str, Any]) -> None:
    unknown = set(details) - STATUS_DETAIL_FIELDS
    if unknown:
        raise InvalidParam(sorted(unknown)[0], "Not a field of the order status.")
    for name, value in details.items():
        setattr(status, name, value)
    if "client" not in details and "client_id" not in details:
        customer = order.customer if order is not None else None
        if customer is not None:  # no client hash: look the client up from the order
            status.client = customer
            status.client_billing_postal_code = customer.billing_postal_code


@transaction.atomic
def stage_record(
    *,
    stage: Stage | str,
    actor: Actor,
    order: Order | None = None,
    order_request: OrderRequest | None = None,
    update_status: bool = True,
    stage_at: datetime | None = None,
    stage_trigger: str = "",
    check_transition: bool = True,
    source_created_at: datetime | None = None,
    notified_at: datetime | None = None,
    created_by: str | None = None,
    updated_by: str = "",
    updated_by_id: int | None = None,
    notes: str = "",
    event_slug: str = "",
    status_details: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> StageRecorded:
    """Record a stage for one order or order request.

    Always appends a history row. Moves the current status only when `update_status` is
    true and the stage is not older than the current one (a late arrival stays history only).
    A move is checked against the catalogue (invalid-param naming `stage` with the reason).
    Serialised per order by a row lock, so concurrent calls lose nothing.
    """
    subject = _lock_subject(order, order_request)
    if isinstance(stage, str):
        stage = stage_get(stage)
    now = timezone.now()
    stage_at = stage_at or now
    status = OrderStatus.objects.select_related("stage").filter(**subject).first()

    moves = update_status and (status is None or stage_at >= status.stage_at)
    if moves and check_transition and status is not None:
        refusal = transition_refusal(status.stage, stage)
        if refusal:
            raise InvalidParam("stage", refusal)

    previous = (
        OrderStage.objects.filter(**subject, stage_at__lte=stage_at)
        .order_by("-stage_at", "-id")
        .values_list("stage_id", flat=True)
        .first()
    )
    author = created_by if created_by is not None else actor.display
    history = OrderStage.objects.create(
        **subject,
        stage=stage,
        previous_stage_id=previous,
        stage_trigger=stage_trigger,
        stage_at=stage_at,
        source_created_at=source_created_at,
        notified_at=notified_at,
        updated_status=moves,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_application=actor.application,
        created_by=author,
        updated_by=updated_by,
        updated_by_id=updated_by_id,
        notes=notes,
        event_slug=event_slug,
        payload=dict(payload or {}),
    )
    if not moves:
        return StageRecorded(history=history, status=status, moved=False)

    if status is None:
        status = OrderStatus(**subject, created_by=author)
    status.stage = stage
    status.stage_at = stage_at
    status.stage_trigger = stage_trigger
    status.status_updated_at = now
    status.notified_at = notified_at or status.notified_at
    status.event_slug = event_slug
    status.updated_by = updated_by or status.updated_by
    status.updated_by_id = updated_by_id or status.updated_by_id
    _apply_details(status, order, status_details or {})
    status.save()
    if order is not None:
        Order.objects.filter(pk=order.pk).update(version=F("version") + 1)
    return StageRecorded(history=history, status=status, moved=True)


def order_statuses_start_bulk(
    *, orders: list[Order], actor: Actor, stage_trigger: str, stage: str = INITIAL_STAGE
) -> None:
    """Give freshly bulk-created orders their first status and history row (imports).

    The orders are new, so there is nothing to lock or to check a transition against.
    """
    initial = stage_get(stage)
    now = timezone.now()
    statuses, history = [], []
    for order in orders:
        customer = order.customer
        statuses.append(
            OrderStatus(
                order=order,
                stage=initial,
                stage_at=now,
                stage_trigger=stage_trigger,
                status_updated_at=now,
                client=customer,
                client_billing_postal_code=customer.billing_postal_code if customer else "",
                external_id=order.external_id or "",
                delivery_rush=order.delivery_rush,
                due_date=order.due_date,
                notes=order.notes,
                created_by=actor.display,
            )
        )
        history.append(
            OrderStage(
                order=order,
                stage=initial,
                stage_trigger=stage_trigger,
                stage_at=now,
                updated_status=True,
                actor_kind=actor.kind,
                actor_user=actor.user,
                actor_application=actor.application,
                created_by=actor.display,
            )
        )
    OrderStatus.objects.bulk_create(statuses, batch_size=2000)
    OrderStage.objects.bulk_create(history, batch_size=2000)

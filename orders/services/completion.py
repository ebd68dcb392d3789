"""Completing an order (order-complete-api-v2.txt): a request flags it, the job tracker
completes it.

What callers may rely on:
- `order_completion_request(order_number=, actor=)` locks the order row, checks it, sets
  `completion_requested_at` / `completion_requested_by` and enqueues exactly one
  `orders.completion` job (dispatched when the transaction commits). It refuses with
  `CompletionRefused` carrying the document's code: 01 not found (404), 02 deleted,
  03 invalid, 04 already completed — or already requested and not yet done —, 05 on hold,
  20 the first unmet job-flow rule's message (or the stage catalogue's reason why the order
  cannot move to `complete`); all 400. A refusal changes nothing. A number that cannot be an
  order number (empty, over 32 characters, control characters or spaces) is 01 without a
  database query; any other number costs one lookup.
- `order_completion_run(order_id=, ...)` (the job's handler) re-checks everything under the
  row lock. Either it records the `complete` stage through `stage_record` (actor
  `system: completion`, trigger `completion-request`, the catalogue's transition rules
  applied), sets `completed_at` and clears the flag; or it records a `completion-failed`
  event (the current stage again, history only, the reason in `notes`) and clears the flag.
  Run again, it changes nothing: an order completes once. The customer's e-mail (when
  `order.notify`) goes out after the completion committed; a failure is logged and
  returned in the job's result, and never undoes the completion.
- `order_completion_given_up(job)`: a job that failed for good records `completion-failed`
  and clears the flag, so the order may be asked to complete again.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.actors import Actor
from group_orders.models import Job
from group_orders.services.jobs import job_enqueue
from orders.models import JobFlowRule, Order
from orders.selectors import orders_of_callers_clients
from orders.services.history import _stamp
from stages.models import OrderStage, OrderStatus, Stage
from stages.services import (
    COMPLETE_STAGE,
    INITIAL_STAGE,
    stage_get,
    stage_record,
    transition_refusal,
)

logger = logging.getLogger("orderdesk.orders.completion")

COMPLETION_JOB = "orders.completion"
TRIGGER_COMPLETION = "completion-request"
EVENT_COMPLETION_FAILED = "completion-failed"
ON_HOLD_STAGE = "on-hold"
COMPLETION_ACTOR = Actor.system("completion")
NUMBER_MAX_LENGTH = Order._meta.get_field("number").max_length


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    http_status: int = 400


NOT_FOUND = Refusal("01", "Order not found", 404)
DELETED = Refusal("02", "Order deleted")
INVALID = Refusal("03", "Order unvalid")  # sic: the document's wording
COMPLETED = Refusal("04", "Order already completed")
ALREADY_REQUESTED = Refusal("04", "Order completion already requested")
ON_HOLD = Refusal("05", "Order on hold")
FLOW_CODE = "20"


class CompletionRefused(Exception):
    """The order may not be asked to complete; `refusal` says why (the document's codes)."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(f"{refusal.code}: {refusal.message}")

    @property
    def code(self) -> str:
        return self.refusal.code

    @property
    def message(self) -> str:
        return self.refusal.message

    @property
    def http_status(self) -> int:
        return self.refusal.http_status


@dataclass(frozen=True)
class CompletionRequested:
    order: Order
    job: Job


def order_number_plausible(number: str) -> bool:
    """Whether `number` could be an order number at all (no query needed to say no)."""
    return (
        isinstance(number, str)
        and 1 <= len(number) <= NUMBER_MAX_LENGTH
        and number.isprintable()
        and not any(character.isspace() for character in number)
    )


def _current_status(order: Order) -> OrderStatus | None:
    return OrderStatus.objects.select_related("stage").filter(order_id=order.pk).first()


def _is_completed(order: Order, status: OrderStatus | None) -> bool:
    return order.completed_at is not None or (
        status is not None and status.stage.slug == COMPLETE_STAGE
    )


def job_flow_rule_unmet(order: Order) -> JobFlowRule | None:
    """The first active rule (position, id) for this order whose stage is not in its history."""
    rules = list(
        JobFlowRule.objects.filter(is_active=True)
        .filter(Q(service_type__isnull=True) | Q(service_type_id=order.service_type_id))
        .order_by("position", "id")
    )
    if not rules:
        return None
    seen = set(
        OrderStage.objects.filter(order_id=order.pk).values_list("stage_id", flat=True).distinct()
    )
    return next((rule for rule in rules if rule.stage_id not in seen), None)


def completion_refusal(
    order: Order, status: OrderStatus | None, *, complete: Stage | None = None
) -> Refusal | None:
    """Why this (locked) order may not complete now, in the document's order of codes.

    Completed means `completed_at` set or the current stage `complete`; on hold means the
    hold flag or the current stage `on-hold`. Code 20: the first unmet job-flow rule, then
    the stage catalogue (the current stage must be allowed to move to `complete`).
    """
    if order.is_deleted:
        return DELETED
    if order.is_invalid:
        return INVALID
    if _is_completed(order, status):
        return COMPLETED
    if order.is_on_hold or (status is not None and status.stage.slug == ON_HOLD_STAGE):
        return ON_HOLD
    rule = job_flow_rule_unmet(order)
    if rule is not None:
        return Refusal(FLOW_CODE, rule.message)
    if status is not None:
        reason = transition_refusal(status.stage, complete or stage_get(COMPLETE_STAGE))
        if reason:
            return Refusal(FLOW_CODE, reason)
    return None


def order_completion_request(*, order_number: str, actor: Actor) -> CompletionRequested:
    """Flag the order with this number for completion and enqueue its completion job.

    Raises CompletionRefused (see the module docstring); a refusal changes nothing. While a
    completion is requested and not yet done, another request is refused with code 04
    ("Order completion already requested"): one flag, one job, however many ask at once.
    """
    if not order_number_plausible(order_number):
        raise CompletionRefused(NOT_FOUND)
    with transaction.atomic():
        # a caller who may not see the order (another client's) is told it does not exist
        visible = orders_of_callers_clients(Order.objects.all(), actor.user)
        order = visible.select_for_update().filter(number=order_number).first()
        if order is None:
            raise CompletionRefused(NOT_FOUND)
        refusal = completion_refusal(order, _current_status(order))
        if refusal is None and order.completion_requested_at is not None:
            refusal = ALREADY_REQUESTED
        if refusal is not None:
            raise CompletionRefused(refusal)
        order.completion_requested_at = timezone.now()
        order.completion_requested_by = actor.user
        order.version += 1
        _stamp(order, actor, "Completion requested")
        order.save(
            update_fields=[
                "completion_requested_at",
                "completion_requested_by",
                "version",
                "date_modified",
            ]
        )
        job = job_enqueue(
            kind=COMPLETION_JOB,
            subject=order,
            actor=actor,
            params={
                "requested_at": order.completion_requested_at.isoformat(),
                "requested_by": actor.display[:255],
            },
        )
    return CompletionRequested(order=order, job=job)


def _clear_flag(order: Order, what: str, *, fields: tuple[str, ...] = (), bump: bool) -> None:
    order.completion_requested_at = None
    order.completion_requested_by = None
    update = ["completion_requested_at", "completion_requested_by", *fields, "date_modified"]
    if bump:
        order.version += 1
        update.append("version")
    _stamp(order, COMPLETION_ACTOR, what)
    order.save(update_fields=update)


def _request_note(params: Mapping[str, Any]) -> str:
    who = params.get("requested_by") or "someone"
    when = params.get("requested_at") or "an unknown time"
    return f"Completion requested by {who} at {when}"


def _record_failure(
    order: Order, status: OrderStatus | None, reason: str, payload: dict[str, Any]
) -> None:
    """A `completion-failed` event: the current stage again, history only, reason in notes."""
    if status is not None:
        stage = status.stage
    else:  # an order without a status yet (e.g. bulk-created): its latest history stage
        latest = (
            OrderStage.objects.filter(order_id=order.pk)
            .order_by("-stage_at", "-id")
            .select_related("stage")
            .first()
        )
        stage = latest.stage if latest is not None else stage_get(INITIAL_STAGE)
    stage_record(
        order=order,
        stage=stage,
        actor=COMPLETION_ACTOR,
        update_status=False,
        check_transition=False,  # history only: the status does not move
        stage_trigger=TRIGGER_COMPLETION,
        event_slug=EVENT_COMPLETION_FAILED,
        notes=f"Completion failed: {reason}",
        payload=payload,
    )


def order_completion_run(
    *, order_id: int, job_id: int | None = None, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Complete a flagged order (the `orders.completion` job). Idempotent; see the module
    docstring. Returns what happened, for the job's result:
    `{"outcome": "completed", "email": ...}`, `{"outcome": "failed", "code", "message"}`,
    `{"outcome": "already-completed"}`, `{"outcome": "not-requested"}` (nothing to do: the
    request was already settled) or `{"outcome": "order-gone"}` (deleted for good).

    Call it outside any transaction (job_execute does): the e-mail goes out after the
    completion has committed."""
    params = dict(params or {})
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            return {"outcome": "order-gone"}
        status = _current_status(order)
        if _is_completed(order, status):
            if order.completion_requested_at is not None:
                _clear_flag(order, "Completion request settled (already completed)", bump=True)
            return {"outcome": "already-completed"}
        if order.completion_requested_at is None:
            return {"outcome": "not-requested"}
        payload = {
            "job_id": job_id,
            "requested_at": order.completion_requested_at.isoformat(),
            "requested_by": params.get("requested_by", ""),
            "requested_by_user_id": order.completion_requested_by_id,
        }
        complete = stage_get(COMPLETE_STAGE)
        refusal = completion_refusal(order, status, complete=complete)
        if refusal is not None:
            _record_failure(order, status, refusal.message, {**payload, "code": refusal.code})
            _clear_flag(order, f"Completion failed ({refusal.message})", bump=True)
            return {"outcome": "failed", "code": refusal.code, "message": refusal.message}
        now = timezone.now()
        order.completed_at = now
        # stage_record bumps `version` once for the stage move and this change together
        _clear_flag(order, "Completed", fields=("completed_at",), bump=False)
        stage_record(
            order=order,
            stage=complete,
            actor=COMPLETION_ACTOR,
            # never older than the current stage: a late stage would stay history only
            stage_at=max(now, status.stage_at) if status is not None else now,
            stage_trigger=TRIGGER_COMPLETION,
            notes=_request_note({**params, "requested_at": payload["requested_at"]}),
            payload=payload,
        )
        notify = bool(order.notify)
    return {
        "outcome": "completed",
        "email": order_completed_notify(order_id=order_id) if notify else "not-requested",
    }


def order_completed_notify(*, order_id: int) -> str:
    """E-mail the customer that the order is complete: "sent", "no-address" or
    "failed: <error>". A failure is logged; the completion stands."""
    order = Order.objects.prefetch_related("lines").get(pk=order_id)
    if not order.email:
        return "no-address"
    body = render_to_string(
        "orders/email/order_completed.txt",
        {"order": order, "name": order.first_name, "lines": list(order.lines.all())},
    )
    try:
        EmailMessage(
            subject=f"Your order {order.number} is complete", body=body, to=[order.email]
        ).send()
    except Exception as exc:  # any transport failure: keep the completion, record why
        logger.exception("order %s: completion e-mail failed", order.number)
        return f"failed: {type(exc).__name__}: {exc}"[:500]
    return "sent"


def order_completion_given_up(job: Job) -> None:
    """The completion job failed for good: record why and clear the flag (may ask again)."""
    if not job.subject_id.isdigit():
        return
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=int(job.subject_id)).first()
        if order is None or order.completion_requested_at is None:
            return
        status = _current_status(order)
        if _is_completed(order, status):
            _clear_flag(order, "Completion request settled (already completed)", bump=True)
            return
        error = (job.last_error or "unknown error").strip().splitlines()[0][:200]
        reason = f"the completion job #{job.pk} failed after {job.attempts} attempts ({error})"
        payload = {
            "job_id": job.pk,
            "requested_at": order.completion_requested_at.isoformat(),
            "requested_by": (job.params or {}).get("requested_by", ""),
            "requested_by_user_id": order.completion_requested_by_id,
        }
        _record_failure(order, status, reason, payload)
        _clear_flag(order, "Completion failed (job gave up)", bump=True)

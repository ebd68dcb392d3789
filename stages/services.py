"""Every write to stages: recording a stage (history + current status), and the Order
details an `order` hash carries."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Application, Client, User
from config.api.errors import InvalidParam
from config.bulk_rows import BulkRows, copy_text
from config.statements import ModelStatement, Placeholders, UpdateStatement
from config.writes import RowWriter
from orders.models import Order, OrderRequest, ServiceType
from stages.models import OrderStage, OrderStatus, Stage

INITIAL_STAGE = "received"
COMPLETE_STAGE = "complete"

# OrderStatus fields a caller may set through `status_details` (client and appointment)
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

# The keys of the document's `order` hash; on an order they are written to the Order itself.
ORDER_DETAIL_FIELDS = frozenset(
    {
        "notes",
        "delivery_rush",
        "due_date",
        "external_id",
        "service_type",
        "services_addon_array",
        "cancel_reason",
        "cancel_note",
    }
)
# hash key -> Order field, where they differ
_ORDER_FIELD_NAMES = {"services_addon_array": "services_addons"}


@dataclass(frozen=True)
class StageRecorded:
    history: OrderStage
    status: OrderStatus | None  # the current status row after the call
    moved: bool  # True when this call moved the current status


_ACTIVE_STAGE = ModelStatement(
    Stage,
    lambda p: Stage.objects.filter(slug=p.text("slug"), is_active=True).order_by(
        *Stage._meta.ordering
    )[:1],
)


def stage_active(slug: str) -> Stage | None:
    """The active stage with this slug, or None."""
    return _ACTIVE_STAGE.first(slug=slug)


def stage_get(slug: str) -> Stage:
    """The active stage with this slug; invalid-param naming `stage` otherwise."""
    stage = stage_active(slug)
    if stage is None:
        raise InvalidParam("stage", f"Unknown stage '{slug}'.")
    return stage


def transition_refusal(
    current: Stage | None, target: Stage, *, allowed_next_ids: Collection[int] | None = None
) -> str | None:
    """Why the current stage may not move to `target`, or None when it may.

    Pass `allowed_next_ids` (the ids of `current.allowed_next`) to ask about many targets
    without a query each.
    """
    if current is None or current.pk == target.pk:
        return None
    if current.is_terminal:
        return f"'{current.name}' is a final stage; an order cannot leave it."
    if allowed_next_ids is None:
        allowed = current.allowed_next.filter(pk=target.pk).exists()
    else:
        allowed = target.pk in allowed_next_ids
    if not allowed:
        return f"An order in '{current.name}' cannot move to '{target.name}'."
    return None


def _lock_subject(order: Order | None, order_request: OrderRequest | None):
    """Lock the order (or order request) row: stage_record calls for it run one at a time.

    Returns (subject filter, the locked order or None). The order is read whole with its
    service type and customer in the same statement that locks it: the status row mirrors it.
    """
    if (order is None) == (order_request is None):
        raise InvalidParam("order_id", "Give exactly one of order_id and order_request_id.")
    if order is not None:
        locked = _order_locked(order.pk)
        if locked is None:
            raise InvalidParam("order_id", f"Order {order.pk} does not exist.")
        return {"order": order}, locked
    if not OrderRequest.objects.select_for_update().filter(pk=order_request.pk).exists():
        raise InvalidParam("order_request_id", f"Order request {order_request.pk} does not exist.")
    return {"order_request": order_request}, None


# the three reads of every stage post, compiled once (config/statements.py)
_ORDER_LOCKED = ModelStatement(
    Order,
    lambda p: Order.objects.select_for_update(of=("self",)).filter(pk=p.int("order_id"))[:1],
    related=("service_type", "customer"),
)


def _order_locked(pk: int) -> Order | None:
    return _ORDER_LOCKED.first(order_id=pk)


def _status_with_verdict(p: Placeholders, subject: str) -> QuerySet[OrderStatus]:
    """The status of an order (or order request), and whether the catalogue lets its stage
    move to the placeholder stage (`may_move`)."""
    may_move = Stage.allowed_next.through.objects.filter(
        from_stage_id=OuterRef("stage_id"), to_stage_id=p.int("to_stage_id")
    )
    return OrderStatus.objects.annotate(may_move=Exists(may_move)).filter(
        **{f"{subject}_id": p.int("subject_id")}
    )[:1]


def _history_before(p: Placeholders, subject: str) -> QuerySet[OrderStage]:
    """The latest history row of an order (or order request) at or before a moment."""
    return OrderStage.objects.filter(
        **{f"{subject}_id": p.int("subject_id"), "stage_at__lte": p.moment("stage_at")}
    ).order_by("-stage_at", "-id")[:1]


# its stage only: the caller renders its slug
_BEFORE = ModelStatement(OrderStage, _history_before, related=("stage",), fields=("stage_id",))

_STATUS = ModelStatement(
    OrderStatus, _status_with_verdict, related=("stage", "client"), annotations=("may_move",)
)


def _user_name(user: User) -> str:
    """`first last`, or the e-mail address for a user without a name."""
    return user.full_name or user.email


def _mirror_order(status: OrderStatus, order: Order) -> None:
    """Copy the Order's details onto its status row (the row is a denormalised view of it)."""
    status.notes = order.notes
    status.delivery_rush = order.delivery_rush
    status.due_date = order.due_date
    status.external_id = order.external_id or ""
    status.service_type = order.service_type.slug if order.service_type_id else ""
    status.services_addon_array = list(order.services_addons or [])
    status.cancel_reason = order.cancel_reason
    status.cancel_note = order.cancel_note


def _apply_details(
    status: OrderStatus,
    order: Order | None,
    order_request: OrderRequest | None,
    details: Mapping[str, Any],
) -> None:
    unknown = set(details) - STATUS_DETAIL_FIELDS
    if unknown:
        raise InvalidParam(sorted(unknown)[0], "Not a field of the order status.")
    for name, value in details.items():
        setattr(status, name, value)
    if "client" not in details and "client_id" not in details:
        # no client given: the client is the order's customer (or the request's client)
        status.client = order.customer if order is not None else order_request.client
    if "client_billing_postal_code" not in details:
        status.client_billing_postal_code = (
            status.client.billing_postal_code if status.client is not None else ""
        )


def _check_order_details(details: Mapping[str, Any]) -> None:
    unknown = set(details) - ORDER_DETAIL_FIELDS
    if unknown:
        raise InvalidParam(f"order.{sorted(unknown)[0]}", "Not a key of the order hash.")


def _service_type_get(slug: str) -> ServiceType:
    service_type = ServiceType.objects.filter(slug=slug).first()
    if service_type is None:
        raise InvalidParam("order.service_type", f"Unknown service type '{slug}'.")
    return service_type


@transaction.atomic
def order_details_apply(
    *, order: Order | int, actor: Actor, details: Mapping[str, Any]
) -> tuple[Order, list[str]]:
    """Write the document's `order` hash to the Order itself, under a row lock.

    Keys: notes, delivery_rush (bool), due_date (date), external_id ("" clears it),
    service_type (a ServiceType slug; "" clears it), services_addon_array (list),
    cancel_reason, cancel_note. Saves only the fields whose value changes, with a
    simple-history row naming the actor; returns the locked order and the changed Order
    field names (empty when nothing changed). `invalid-param` names `order.<key>`: an
    unknown key, an unknown service type, an external_id another order already has.
    Does not bump `version`: `stage_record` does, once per call.
    """
    _check_order_details(details)
    pk = order.pk if isinstance(order, Order) else order
    locked = _order_locked(pk)
    if locked is None:
        raise Order.DoesNotExist(f"Order {pk} does not exist.")
    return locked, _order_details_write(locked=locked, actor=actor, details=details)


def _order_details_write(*, locked: Order, actor: Actor, details: Mapping[str, Any]) -> list[str]:
    """order_details_apply on an order the caller has locked (and read) already."""
    values: dict[str, Any] = {}
    for key, value in details.items():
        name = _ORDER_FIELD_NAMES.get(key, key)
        if key == "service_type":
            value = _service_type_get(value) if value else None
        elif key == "external_id":
            value = value or None  # NULL, not "": the unique constraint ignores NULLs
        elif key == "services_addon_array":
            value = list(value or [])
        elif key == "delivery_rush" and value is None:
            continue  # the Order's flag is not nullable; null leaves it as it is
        elif key in ("notes", "cancel_reason", "cancel_note") and value is None:
            value = ""
        values[name] = value
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    if not changed:
        return []
    if "external_id" in changed and values["external_id"] is not None:
        taken = Order.objects.filter(external_id=values["external_id"]).exclude(pk=locked.pk)
        if taken.exists():
            raise InvalidParam("order.external_id", "Another order has this external_id.")
    for name in changed:
        setattr(locked, name, values[name])
    locked._history_user = actor.user
    locked._change_reason = f"Order details from a stage by {actor.display}"[:100]
    try:
        with transaction.atomic():  # a savepoint: a concurrent duplicate external_id
            locked.save(update_fields=[*changed, "date_modified"])
    except IntegrityError:
        raise InvalidParam("order.external_id", "Another order has this external_id.") from None
    return changed


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
    created_by_user: User | None = None,
    updated_by_user: User | None = None,
    order_details: Mapping[str, Any] | None = None,
) -> StageRecorded:
    """Record a stage for one order or order request.

    Always appends a history row. Moves the current status only when `update_status` is
    true and the stage is not older than the current one (a late arrival stays history only).
    A move is checked against the catalogue (invalid-param naming `stage` with the reason).
    Serialised per order by a row lock, so concurrent calls lose nothing.

    Who: `created_by` (a non-empty string) wins; else the name of `created_by_user`; else
    the actor. `updated_by_user` fills `updated_by_id` and, unless given, `updated_by`.
    `status_details`: client and appointment fields of the status row; without a client the
    client is the order's customer (the request's client), and the postal code the client's.
    `order_details`: the `order` hash (ORDER_DETAIL_FIELDS). When the status moves it is
    written to the Order (`order_details_apply`) and the status row mirrors the Order; on
    an order request it sets the status row only. When the status does not move it is kept
    in the history row's payload only. Any invalid-param rolls everything back.
    """
    subject, locked = _lock_subject(order, order_request)
    if isinstance(stage, str):
        stage = stage_get(stage)
    if order_details:
        _check_order_details(order_details)
    now = timezone.now()
    stage_at = stage_at or now
    # the status, and whether the catalogue lets its stage move to `stage`, in one statement
    ((subject_name, subject_row),) = subject.items()
    status = _STATUS.first((subject_name,), subject_id=subject_row.pk, to_stage_id=stage.pk)

    moves = update_status and (status is None or stage_at >= status.stage_at)
    if moves and check_transition and status is not None:
        allowed_next_ids = (stage.pk,) if status.may_move else ()
        refusal = transition_refusal(status.stage, stage, allowed_next_ids=allowed_next_ids)
        if refusal:
            raise InvalidParam("stage", refusal)

    # the stage before this one in time, read whole: the caller renders its slug
    before = _BEFORE.first((subject_name,), subject_id=subject_row.pk, stage_at=stage_at)
    if created_by:
        author = created_by
    elif created_by_user is not None:
        author = _user_name(created_by_user)
    else:
        author = actor.display
    if updated_by_user is not None:
        updated_by = updated_by or _user_name(updated_by_user)
        updated_by_id = updated_by_user.pk
    history = OrderStage(
        **subject,
        stage=stage,
        previous_stage=before.stage if before is not None else None,
        stage_trigger=stage_trigger,
        stage_at=stage_at,
        source_created_at=source_created_at,
        notified_at=notified_at,
        updated_status=moves,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_application=actor.application,
        actor_label=actor.display[:255],
        created_by=author,
        created_by_user=created_by_user,
        updated_by=updated_by,
        updated_by_id=updated_by_id,
        notes=notes,
        event_slug=event_slug,
        payload=dict(payload or {}),
    )
    _HISTORY_WRITER.save(history)
    if not moves:
        return StageRecorded(history=history, status=status, moved=False)

    # as read: the UPDATE writes what this call changes (the row is locked with the order)
    before = _STATUS_WRITER.snapshot(status) if status is not None else None
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
    if order is not None:
        _order_details_write(locked=locked, actor=actor, details=order_details or {})
        _mirror_order(status, locked)
    elif order_details:
        for key, value in order_details.items():
            setattr(status, key, _status_value(key, value))
    _apply_details(status, locked, order_request, status_details or {})
    _STATUS_WRITER.save(status, since=before)
    if order is not None:
        # however an order reaches `complete` (completion job, stage post, admin), it is
        # completed from then on: the customer API and code 04 read completed_at
        complete = stage.slug == COMPLETE_STAGE
        _ORDER_MOVED.run(
            (complete,), order_id=order.pk, **({"stage_at": stage_at} if complete else {})
        )
    return StageRecorded(history=history, status=status, moved=True)


def _order_moved(p: Placeholders, complete: bool) -> tuple[QuerySet[Order], dict[str, Any]]:
    """A new version of an order whose status moved; reaching `complete` completes it."""
    changes: dict[str, Any] = {"version": F("version") + 1}
    if complete:
        changes["completed_at"] = Coalesce(F("completed_at"), Value(p.moment("stage_at")))
    return Order.objects.filter(pk=p.int("order_id")), changes


_ORDER_MOVED = UpdateStatement(Order, _order_moved)
_HISTORY_WRITER = RowWriter(OrderStage)
_STATUS_WRITER = RowWriter(OrderStatus)


def _status_value(key: str, value: Any) -> Any:
    """An `order` hash value as the status row stores it (order requests)."""
    if key == "services_addon_array":
        return list(value or [])
    if key in ("delivery_rush", "due_date"):
        return value
    return value or ""


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
                actor_label=actor.display[:255],
                created_by=actor.display,
            )
        )
    OrderStatus.objects.bulk_create(statuses, batch_size=2000)
    OrderStage.objects.bulk_create(history, batch_size=2000)


def order_statuses_start_rows(
    *, orders: Sequence, actor: Actor, stage_trigger: str, stage: str = INITIAL_STAGE
) -> tuple[list[BulkRows], dict]:
    """`order_statuses_start_bulk` through `BulkRows` (COPY on PostgreSQL): the same rows and
    values, without a model instance per row — statuses, then history — not yet written,
    and the parents they name (write them inside `config.bulk_rows.foreign_keys_checked_once`).
    The orders (an `Order` or anything with its pk, customer, external_id, delivery_rush,
    due_date and notes, such as `orders.services.CreatedOrder`) must have their primary
    keys (taken up front) and be written first, in the same transaction."""
    initial = stage_get(stage)
    now = timezone.now()
    author = actor.display
    statuses = BulkRows(
        OrderStatus,
        [
            "order_id",
            "client_id",
            "client_billing_postal_code",
            "external_id",
            "delivery_rush",
            "due_date",
            "notes",
        ],
        constants={
            "order_request_id": None,
            "stage_id": initial.pk,
            "stage_at": now,
            "stage_trigger": stage_trigger,
            "status_updated_at": now,
            "created_by": author,
        },
        now=now,
    )
    history = BulkRows(
        OrderStage,
        ["order_id"],
        constants={
            "order_request_id": None,
            "stage_id": initial.pk,
            "previous_stage_id": None,
            "stage_trigger": stage_trigger,
            "stage_at": now,
            "updated_status": True,
            "actor_kind": actor.kind,
            "actor_user_id": actor.user.pk if actor.user else None,
            "actor_application_id": actor.application.pk if actor.application else None,
            "actor_label": author[:255],
            "created_by": author,
        },
        now=now,
    )
    pks = [order.pk for order in orders]
    customers = [order.customer for order in orders]
    statuses.add_columns(
        pks,
        [customer.pk if customer else None for customer in customers],
        [customer.billing_postal_code if customer else "" for customer in customers],
        [order.external_id or "" for order in orders],
        [order.delivery_rush for order in orders],
        [order.due_date for order in orders],
        [order.notes for order in orders],
    )
    history.add_columns(pks)
    parents = {
        Stage: [initial.pk],
        Client: {customer.pk for customer in customers if customer},
        User: [actor.user.pk if actor.user else None],
        Application: [actor.application.pk if actor.application else None],
    }
    return [statuses, history], parents


class StageStep(NamedTuple):
    """One row of a bulk history: the stage (slug), when, and whether it moved the status."""

    stage: str
    at: datetime
    updated_status: bool = True
    event_slug: str = ""


@dataclass(slots=True)
class BulkHistory:
    """The whole stage history of one freshly bulk-created order, oldest step first, and the
    Order details its status row mirrors."""

    order_id: int
    steps: Sequence[StageStep]
    client_id: int | None = None
    client_billing_postal_code: str = ""
    external_id: str = ""
    delivery_rush: bool = False
    due_date: date | None = None
    service_type: str = ""  # slug
    services_addons: list[str] = field(default_factory=list)
    notes: str = ""
    cancel_reason: str = ""
    cancel_note: str = ""


def _bulk_path_refusal(steps: Sequence[StageStep], stages: dict[str, Stage], allowed) -> str:
    """Why this path breaks the catalogue ("" when it does not)."""
    current = None
    for step in steps:
        target = stages.get(step.stage)
        if target is None:
            return f"Unknown stage '{step.stage}'."
        if not step.updated_status:
            continue
        refusal = transition_refusal(current, target, allowed_next_ids=allowed.get(current))
        if refusal:
            return refusal
        current = target
    return ""


@transaction.atomic
def order_stage_histories_bulk(
    *, histories: Sequence[BulkHistory], actor: Actor, stage_trigger: str
) -> dict[str, int]:
    """Write the stage histories of freshly bulk-created orders (demo data, historical
    imports): every step as an order_stages row, and one order_statuses row per order in the
    stage of its latest step that moved the status.

    The orders are new, so there is nothing to lock; each path is checked against the
    catalogue's transitions (invalid-param naming `stage` for the first bad one) before
    anything is written. `previous_stage` is the step before by time, as `stage_record`
    would have found it. The status row mirrors the given Order details. PostgreSQL: COPY
    (a row is one string format); elsewhere bulk_create. Returns rows written per table.
    """
    stages = {stage.slug: stage for stage in Stage.objects.filter(is_active=True)}
    by_id = {stage.pk: stage for stage in stages.values()}
    allowed: dict[Stage, set[int]] = {stage: set() for stage in stages.values()}
    links = Stage.allowed_next.through.objects.values_list("from_stage_id", "to_stage_id")
    for from_id, to_id in links:
        if from_id in by_id:
            allowed[by_id[from_id]].add(to_id)
    checked: dict[tuple, str] = {}
    for index, history in enumerate(histories):
        if not history.steps:
            raise InvalidParam("stage", f"History {index} has no step.")
        path = tuple((s.stage, s.updated_status) for s in history.steps)
        if path not in checked:
            checked[path] = _bulk_path_refusal(history.steps, stages, allowed)
        if checked[path]:
            raise InvalidParam("stage", checked[path])

    now = timezone.now()
    author = actor.display[:255]
    rows = BulkRows(
        OrderStage,
        ["order_id", "stage_id", "previous_stage_id", "stage_at", "updated_status", "event_slug"],
        constants={
            "order_request_id": None,
            "stage_trigger": stage_trigger,
            "actor_kind": actor.kind,
            "actor_user_id": actor.user.pk if actor.user else None,
            "actor_application_id": actor.application.pk if actor.application else None,
            "actor_label": author,
            "created_by": author,
        },
        now=now,
    )
    statuses = BulkRows(
        OrderStatus,
        [
            "order_id",
            "stage_id",
            "stage_at",
            "client_id",
            "client_billing_postal_code",
            "external_id",
            "delivery_rush",
            "due_date",
            "service_type",
            "services_addon_array",
            "notes",
            "cancel_reason",
            "cancel_note",
        ],
        constants={
            "order_request_id": None,
            "stage_trigger": stage_trigger,
            "status_updated_at": now,
            "created_by": author,
        },
        now=now,
    )
    ids = {slug: stage.pk for slug, stage in stages.items()}
    if rows.postgresql:
        id_texts = {slug: str(pk) for slug, pk in ids.items()}
        for history in histories:
            order_text = str(history.order_id)
            previous, current = NULL_TEXT, None
            for step in sorted(history.steps, key=_step_time):
                stage_text = id_texts[step.stage]
                rows.add_text(
                    order_text,
                    stage_text,
                    previous,
                    step.at.isoformat(),
                    "t" if step.updated_status else "f",
                    copy_text(step.event_slug),
                )
                previous = stage_text
                if step.updated_status:
                    current = step
            _status_add(statuses, history, current, ids)
    else:
        for history in histories:
            previous, current = None, None
            for step in sorted(history.steps, key=_step_time):
                stage_id = ids[step.stage]
                rows.add(
                    history.order_id,
                    stage_id,
                    previous,
                    step.at,
                    step.updated_status,
                    step.event_slug,
                )
                previous = stage_id
                if step.updated_status:
                    current = step
            _status_add(statuses, history, current, ids)
    return {"order_stages": rows.write(), "order_statuses": statuses.write()}


NULL_TEXT = copy_text(None)


def _step_time(step: StageStep) -> datetime:
    return step.at


def _status_add(statuses: BulkRows, history: BulkHistory, current: StageStep | None, ids) -> None:
    if current is None:  # history-only steps: the status starts in the first step's stage
        current = history.steps[0]
    statuses.add(
        history.order_id,
        ids[current.stage],
        current.at,
        history.client_id,
        history.client_billing_postal_code,
        history.external_id,
        history.delivery_rush,
        history.due_date,
        history.service_type,
        list(history.services_addons),
        history.notes,
        history.cancel_reason,
        history.cancel_note,
    )

"""Every write to orders: create (one or many), update, hold, release, mark invalid, delete,
assign.

What callers may rely on:
- every service takes keyword arguments only and an `Actor`; the Order's simple-history row
  records the actor's user (`history_user`) and, in `history_change_reason`, what was done and
  by whom (also for applications and the system, which have no user of their own);
- a state change locks the order row (`select_for_update`), does nothing when nothing
  changes, bumps `version`, and saves only the fields it changed;
- a soft-deleted order refuses every change with `invalid-param` naming `order_id`;
- bad input raises `InvalidParam` naming the field before anything is written; the services
  are atomic, so nothing is ever partially saved;
- the stage of an order changes only through `stages.services.stage_record`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_ipv46_address
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.actors import Actor
from accounts.models import Client, User
from config.api.errors import InvalidParam
from orders.models import (
    Address,
    Location,
    Order,
    OrderLine,
    OrderNumberCounter,
    OrderTotal,
    OrderType,
    Plan,
    ServiceType,
    Shipment,
    ShipmentItem,
)
from stages.models import Stage
from stages.services import INITIAL_STAGE, order_statuses_start_bulk, stage_record

ZERO = Decimal("0")
BULK_BATCH_SIZE = 2000
# The stage trigger written on the first status row of an order.
TRIGGER_CREATED = "order-created"
TRIGGER_IMPORTED = "order-imported"
TRIGGER_UPDATED = "order-updated"


# --------------------------------------------------------------------------- drafts


@dataclass
class LineDraft:
    """One line of an order to be created. `subtotal` defaults to price × quantity."""

    name: str
    quantity: int = 1
    price: Decimal = ZERO
    option: str = ""
    comment: str = ""
    subtotal: Decimal | None = None


@dataclass
class TotalDraft:
    """One `order_totals` row: code (subtotal, shipping, discount, tax, total, ...) and value.

    Values are amounts, never negative: a discount of 5 is stored as 5 under code `discount`.
    """

    code: str
    value: Decimal
    title: str = ""  # defaults to the code, capitalised
    priority: int = 0


@dataclass
class OrderDraft:
    """Everything needed to create one order; related objects are model instances.

    `number` is allocated when None. `total_items` defaults to the sum of the line quantities;
    `order_total` to the `total` row of `totals`, else the sum of the line subtotals.
    `date_added` defaults to now.
    """

    first_name: str
    last_name: str = ""
    email: str = ""
    telephone: str = ""
    comment: str = ""
    notify: bool | None = None
    order_type: str = OrderType.COLLECTION
    order_date: date | None = None
    order_time: time | None = None
    processed: bool = False
    payment: str = ""
    invoice_prefix: str = ""
    invoice_date: datetime | None = None
    customer: Client | None = None
    location: Location | None = None
    address: Address | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    plan: Plan | None = None
    service_type: ServiceType | None = None
    services_addons: list[str] = field(default_factory=list)
    delivery_rush: bool = False
    due_date: date | None = None
    notes: str = ""
    external_id: str | None = None
    number: str | None = None
    ip_address: str | None = None
    user_agent: str = ""
    assignee: User | None = None
    assignee_group: Group | None = None
    paid_at: datetime | None = None
    refunded_at: datetime | None = None
    completed_at: datetime | None = None
    date_added: datetime | None = None
    total_items: int | None = None
    order_total: Decimal | None = None
    lines: list[LineDraft] = field(default_factory=list)
    totals: list[TotalDraft] = field(default_factory=list)


# Plain Order fields copied from a draft as they are.
_DRAFT_ORDER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "telephone",
    "comment",
    "notify",
    "order_type",
    "order_date",
    "order_time",
    "processed",
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
    "ip_address",
    "user_agent",
    "assignee",
    "assignee_group",
    "paid_at",
    "refunded_at",
    "completed_at",
)


# --------------------------------------------------------------------------- validation


def _check_email(value: str, param: str) -> None:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise InvalidParam(param, f"'{value}' is not a valid e-mail address.") from None


def _check_order_type(value: str, param: str) -> None:
    if value not in OrderType.values:
        raise InvalidParam(param, f"order_type must be one of {', '.join(OrderType.values)}.")


def _check_amount(value: Decimal | None, param: str) -> None:
    if value is not None and value < 0:
        raise InvalidParam(param, f"{param} must not be negative.")


def _draft_validate(draft: OrderDraft, prefix: str = "") -> None:
    """Domain rules for a new order; the param names the field (with `prefix` for bulk rows)."""
    if not (draft.first_name or "").strip():
        raise InvalidParam(f"{prefix}first_name", "first_name must not be blank.")
    _check_email(draft.email, f"{prefix}email")
    _check_order_type(draft.order_type, f"{prefix}order_type")
    _check_amount(draft.order_total, f"{prefix}order_total")
    if draft.total_items is not None and draft.total_items < 0:
        raise InvalidParam(f"{prefix}total_items", "total_items must not be negative.")
    if draft.ip_address:
        try:
            validate_ipv46_address(draft.ip_address)
        except ValidationError:
            raise InvalidParam(f"{prefix}ip_address", "Not an IPv4 or IPv6 address.") from None
    for index, line in enumerate(draft.lines):
        param = f"{prefix}lines.{index}"
        if not (line.name or "").strip():
            raise InvalidParam(f"{param}.name", "A line needs a name.")
        if line.quantity < 1:
            raise InvalidParam(f"{param}.quantity", "quantity must be at least 1.")
        _check_amount(line.price, f"{param}.price")
        _check_amount(line.subtotal, f"{param}.subtotal")
    codes = set()
    for index, total in enumerate(draft.totals):
        param = f"{prefix}order_totals.{index}"
        if not (total.code or "").strip():
            raise InvalidParam(f"{param}.code", "A total needs a code.")
        if total.code in codes:
            raise InvalidParam(f"{param}.code", f"The total '{total.code}' is given twice.")
        codes.add(total.code)
        _check_amount(total.value, f"{param}.value")


def _line_subtotal(line: LineDraft) -> Decimal:
    return line.subtotal if line.subtotal is not None else line.price * line.quantity


def _order_total(draft: OrderDraft) -> Decimal:
    if draft.order_total is not None:
        return draft.order_total
    for total in draft.totals:
        if total.code == "total":
            return total.value
    return sum((_line_subtotal(line) for line in draft.lines), ZERO)


# --------------------------------------------------------------------------- numbers


def order_numbers_allocate(*, count: int) -> list[str]:
    """`count` order numbers nobody has, in increasing order; gaps are possible, reuse is not.

    PostgreSQL: `nextval` of the sequence `order_number_seq` (no lock held until commit, so
    concurrent creators never wait on each other). Elsewhere: a counter row. A number that an
    import once gave explicitly is skipped.
    """
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval('order_number_seq') FROM generate_series(1, %s)", [count]
            )
            values = [row[0] for row in cursor.fetchall()]
    else:
        with transaction.atomic():
            OrderNumberCounter.objects.get_or_create(name="order")
            OrderNumberCounter.objects.filter(name="order").update(
                last_value=F("last_value") + count
            )
            last = OrderNumberCounter.objects.get(name="order").last_value
            values = list(range(last - count + 1, last + 1))
    numbers = [str(value) for value in values]
    taken = set(Order.objects.filter(number__in=numbers).values_list("number", flat=True))
    if taken:
        numbers = [n for n in numbers if n not in taken] + order_numbers_allocate(count=len(taken))
    return numbers


# --------------------------------------------------------------------------- history


def _stamp(order: Order, actor: Actor, what: str) -> None:
    """Tell simple-history who acted and what they did, for the next save or delete."""
    order._history_user = actor.user
    order._change_reason = f"{what} by {actor.display}"[:100]


def _history_reason(actor: Actor, what: str) -> str:
    return f"{what} by {actor.display}"[:100]


# --------------------------------------------------------------------------- create


def _build_order(draft: OrderDraft, *, number: str, actor: Actor, group_order=None) -> Order:
    order = Order(
        number=number,
        hash=Order.new_hash(),
        group_order=group_order,
        order_total=_order_total(draft),
        total_items=(
            draft.total_items
            if draft.total_items is not None
            else sum(line.quantity for line in draft.lines)
        ),
        created_by=actor.user,
        date_added=draft.date_added or timezone.now(),
        **{name: getattr(draft, name) for name in _DRAFT_ORDER_FIELDS},
    )
    if order.assignee_id or order.assignee_group_id:
        order.assignee_updated_at = timezone.now()
    if not order.external_id:
        order.external_id = None  # NULL, so the unique constraint ignores it
    return order


def _build_lines(order: Order, draft: OrderDraft) -> list[OrderLine]:
    return [
        OrderLine(
            order=order,
            name=line.name,
            option=line.option,
            quantity=line.quantity,
            price=line.price,
            subtotal=_line_subtotal(line),
            comment=line.comment,
        )
        for line in draft.lines
    ]


def _build_totals(order: Order, draft: OrderDraft) -> list[OrderTotal]:
    return [
        OrderTotal(
            order=order,
            code=total.code,
            title=total.title or total.code.replace("_", " ").capitalize(),
            value=total.value,
            priority=total.priority or index,
        )
        for index, total in enumerate(draft.totals)
    ]


def _check_unique_ids(drafts: list[OrderDraft], prefix: str) -> None:
    """number and external_id: unique among the drafts and against the database."""
    for attr in ("number", "external_id"):
        seen: dict[str, int] = {}
        for index, draft in enumerate(drafts):
            value = getattr(draft, attr)
            if not value:
                continue
            param = f"{prefix.format(index=index)}{attr}"
            if value in seen:
                raise InvalidParam(param, f"{attr} '{value}' is given twice.")
            seen[value] = index
        if seen:
            existing = Order.objects.filter(**{f"{attr}__in": list(seen)}).values_list(
                attr, flat=True
            )
            for value in existing:
                param = f"{prefix.format(index=seen[value])}{attr}"
                raise InvalidParam(param, f"An order with {attr} '{value}' already exists.")


@transaction.atomic
def order_create(*, draft: OrderDraft, actor: Actor, stage_trigger: str = TRIGGER_CREATED) -> Order:
    """Create one order with its lines and totals, and its first status (`received`).

    Assigns a unique human `number` (unless the draft brings one) and a random `hash`.
    Returns the order with `current_status` loaded. `invalid-param` names the bad field.
    """
    _draft_validate(draft)
    _check_unique_ids([draft], prefix="")
    number = draft.number or order_numbers_allocate(count=1)[0]
    order = _build_order(draft, number=number, actor=actor)
    _stamp(order, actor, "Created")
    order.save()
    OrderLine.objects.bulk_create(_build_lines(order, draft))
    OrderTotal.objects.bulk_create(_build_totals(order, draft))
    recorded = stage_record(
        order=order,
        stage=INITIAL_STAGE,
        actor=actor,
        check_transition=False,
        stage_trigger=stage_trigger,
        stage_at=min(order.date_added, timezone.now()),  # received when it was added
    )
    order.version = Order.objects.values_list("version", flat=True).get(pk=order.pk)
    order.current_status = recorded.status
    return order


@transaction.atomic
def orders_create_bulk(
    *,
    rows: list[OrderDraft],
    actor: Actor,
    group_order=None,
    stage_trigger: str = TRIGGER_IMPORTED,
    stage: str = INITIAL_STAGE,
    batch_size: int = BULK_BATCH_SIZE,
    record_history: bool = True,
) -> list[Order]:
    """Create many orders at once (imports, demo data): all of them or none.

    - Validates every draft first; `invalid-param` names the row, e.g. `rows.12.email`,
      `rows.3.external_id` (duplicate in the rows or already in the database).
    - Allocates the missing numbers in one go, then `bulk_create`s orders, lines and totals
      in batches of `batch_size` (no per-row save, no signals), links them to `group_order`,
      and gives each order its first status and stage-history row through
      `stages.services.order_statuses_start_bulk` (stage `received` unless `stage` names
      another, e.g. for historical data; `stage_trigger`).
    - Writes one simple-history "+" row per order with the actor, unless `record_history` is
      false (demo data at scale).
    - Returns the orders in the order of `rows`, with primary keys.

    Keep `rows` to a few thousand per call and call again for more; the caller chooses the
    transaction size.
    """
    for index, draft in enumerate(rows):
        _draft_validate(draft, prefix=f"rows.{index}.")
    _check_unique_ids(rows, prefix="rows.{index}.")
    numbers = iter(order_numbers_allocate(count=sum(1 for d in rows if not d.number)))
    orders = [
        _build_order(
            draft,
            number=draft.number or next(numbers),
            actor=actor,
            group_order=group_order,
        )
        for draft in rows
    ]
    if record_history:
        created = bulk_create_with_history(
            orders,
            Order,
            batch_size=batch_size,
            default_user=actor.user,
            default_change_reason=_history_reason(actor, "Imported"),
        )
        # bulk_create_with_history re-reads the rows where the database returns no keys
        if any(order.pk is None for order in orders):
            orders = list(created)
    else:
        Order.objects.bulk_create(orders, batch_size=batch_size)
    lines, totals = [], []
    for order, draft in zip(orders, rows, strict=True):
        lines.extend(_build_lines(order, draft))
        totals.extend(_build_totals(order, draft))
    OrderLine.objects.bulk_create(lines, batch_size=batch_size)
    OrderTotal.objects.bulk_create(totals, batch_size=batch_size)
    order_statuses_start_bulk(orders=orders, actor=actor, stage_trigger=stage_trigger, stage=stage)
    return orders


# --------------------------------------------------------------------------- state changes


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


def order_draft_check(draft: OrderDraft) -> None:
    """The checks order_create runs, for forms that want to show them next to the fields."""
    _draft_validate(draft)


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
def order_update(*, order: Order | int, actor: Actor, changes: Mapping[str, Any]) -> Order:
    """Change fields of an order (names of ORDER_UPDATABLE_FIELDS; relations as instances).

    `status` (a Stage) goes through `stage_record`, so the transition rules of the stage
    catalogue apply; `status_updated_at` is then the time the new stage happened (a time
    older than the current stage's is recorded as history only). Changing `assignee` or
    `assignee_group` sets `assignee_updated_at` (to the given value, else now). Nothing
    changes when every value is already what it is; then `version` stays too.
    """
    _check_changes(changes)
    order = _lock(order)
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
def order_hard_delete(*, order: Order | int, actor: Actor) -> int:
    """Delete the order for good with its lines, totals, shipments and stage history.

    simple-history keeps a "-" row saying who deleted it. Returns the deleted order's id.
    A soft-deleted order may be purged (that is the one change it accepts).
    """
    pk = order.pk if isinstance(order, Order) else order
    locked = Order.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise InvalidParam("order_id", f"Order {pk} does not exist.")
    _stamp(locked, actor, "Deleted permanently")
    locked.delete()
    return pk


# --------------------------------------------------------------------------- parts

OrderPart = OrderLine | OrderTotal | Shipment | ShipmentItem


def _part_order_id(part: OrderPart) -> int:
    if isinstance(part, ShipmentItem):
        return Shipment.objects.values_list("order_id", flat=True).get(pk=part.shipment_id)
    return part.order_id


def _check_part(part: OrderPart) -> None:
    if isinstance(part, OrderLine):
        if part.quantity < 1:
            raise InvalidParam("quantity", "quantity must be at least 1.")
        _check_amount(part.price, "price")
        _check_amount(part.subtotal, "subtotal")
    elif isinstance(part, OrderTotal):
        _check_amount(part.value, "value")
    elif isinstance(part, Shipment) and part.shipping_address_id:
        address_client = Address.objects.values_list("client_id", flat=True).get(
            pk=part.shipping_address_id
        )
        customer = Order.objects.values_list("customer_id", flat=True).get(pk=part.order_id)
        if address_client not in (None, customer):
            raise InvalidParam("shipping_address", "The address belongs to another client.")


def _refresh_amounts(order: Order) -> list[str]:
    """total_items and order_total follow the lines and the `total` row once they exist."""
    lines = list(OrderLine.objects.filter(order=order).values_list("quantity", "subtotal"))
    total = OrderTotal.objects.filter(order=order, code="total").values_list("value", flat=True)
    changed = []
    if lines:
        items = sum(quantity for quantity, _ in lines)
        if order.total_items != items:
            order.total_items = items
            changed.append("total_items")
    amount = total.first()
    if amount is None and lines:
        amount = sum((subtotal for _, subtotal in lines), ZERO)
    if amount is not None and order.order_total != amount:
        order.order_total = amount
        changed.append("order_total")
    return changed


@transaction.atomic
def order_part_save(*, part: OrderPart, actor: Actor) -> OrderPart:
    """Add or change a line, total, shipment or shipment item of an order (admin).

    Locks the order (refusing a deleted one), checks amounts, keeps total_items/order_total
    in step with the lines and the `total` row, bumps the order's version and writes its
    history row naming the part.
    """
    order = _lock(_part_order_id(part))
    _check_part(part)
    if isinstance(part, OrderLine) and not part.subtotal:
        part.subtotal = part.price * part.quantity
    adding = part.pk is None
    part.save()
    what = f"{'Added' if adding else 'Changed'} {part._meta.verbose_name} {part}"
    _save(order, actor, what[:60], _refresh_amounts(order))
    return part


@transaction.atomic
def order_part_delete(*, part: OrderPart, actor: Actor) -> None:
    """Remove a line, total, shipment or shipment item (admin); same rules as saving."""
    order = _lock(_part_order_id(part))
    label = f"Removed {part._meta.verbose_name} {part}"
    part.delete()
    _save(order, actor, label[:60], _refresh_amounts(order))

"""Creating orders: one through the API or the admin, many at once for imports."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.actors import Actor
from accounts.models import Client
from config.api.errors import InvalidParam
from config.bulk_rows import BulkRows, foreign_keys_checked_once
from orders.models import Order, OrderLine, OrderTotal
from orders.services.drafts import (
    _DRAFT_ORDER_FIELDS,
    OrderColumns,
    OrderDraft,
    _draft_validate,
    _line_subtotal,
    _order_total,
    _order_total_of,
    _total_items_of,
)
from orders.services.history import _history_reason, _stamp
from orders.services.numbers import order_numbers_allocate
from stages.services import (
    INITIAL_STAGE,
    order_statuses_start_bulk,
    order_statuses_start_rows,
    stage_record,
)

BULK_BATCH_SIZE = 2000
# The stage trigger written on the first status row of an order.
TRIGGER_CREATED = "order-created"
TRIGGER_IMPORTED = "order-imported"


def _build_order(draft: OrderDraft, *, number: str, actor: Actor, group_order=None) -> Order:
    order = Order(
        number=number,
        hash=Order.new_hash(),
        group_order=group_order,
        order_total=_order_total(draft),
        total_items=_total_items_of(draft.total_items, draft.lines),
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
            existing = Order.objects.filter(**{f"{attr}__any_of": list(seen)}).values_list(
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


@dataclass(slots=True)
class CreatedOrder:
    """An order written by `orders_bulk_write`: its keys and what its status row
    mirrors (no model instance: imports write hundreds of thousands)."""

    pk: int
    number: str
    customer: Client | None
    external_id: str | None
    delivery_rush: bool
    due_date: date | None
    notes: str


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
    - Allocates the missing numbers in one go, then writes orders, lines and totals in
      batches of `batch_size` (no per-row save, no signals), links them to `group_order`,
      and gives each order its first status and stage-history row (stage `received` unless
      `stage` names another, e.g. for historical data; `stage_trigger`). PostgreSQL: COPY
      through `config.bulk_rows.BulkRows`, order ids taken from the sequence up front, and
      `stages.services.order_statuses_start_rows`; elsewhere `bulk_create` and
      `order_statuses_start_bulk`. Both write the same rows and values.
    - Writes one simple-history "+" row per order with the actor, unless `record_history` is
      false (demo data at scale; imports, whose stage history names the importer).
    - Returns the orders in the order of `rows`, with primary keys.

    Keep `rows` to a few thousand per call and call again for more; the caller chooses the
    transaction size. `orders_bulk_prepare` + `orders_bulk_write` do the same in two steps
    and return only the keys (`CreatedOrder`), the path of imports.
    """
    if _use_copy():
        created = orders_bulk_write(
            orders_bulk_prepare(
                rows=rows,
                actor=actor,
                group_order=group_order,
                stage_trigger=stage_trigger,
                stage=stage,
                record_history=record_history,
            )
        )
        by_pk = Order.objects.in_bulk([order.pk for order in created])
        return [by_pk[order.pk] for order in created]
    _drafts_check(rows)
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


@dataclass
class PreparedOrders:
    """New orders ready for `orders_bulk_write`: keys taken and, on PostgreSQL, every row of
    every table they fill made into COPY text. Prepared outside the writing transaction, so
    that the next batch is made ready while the database writes this one."""

    created: list[CreatedOrder]
    tables: list[BulkRows]  # in writing order: parents first
    parents: dict[type[models.Model], set]  # what the rows refer to (locked when written)
    elsewhere: dict[str, Any] | None = None  # not PostgreSQL: orders_create_bulk's arguments


def orders_bulk_prepare(
    *,
    rows: list[OrderDraft] | OrderColumns,
    actor: Actor,
    group_order=None,
    stage_trigger: str = TRIGGER_IMPORTED,
    stage: str = INITIAL_STAGE,
    record_history: bool = True,
    checked: bool = False,
) -> PreparedOrders:
    """The first half of `orders_create_bulk` without model instances: checks the drafts
    (unless `checked`: the caller applied the draft rules to every row and checks their
    external ids in the writing transaction, as imports do), takes ids and numbers from the
    sequences (gaps are possible when prepared orders are not written) and makes the rows;
    writes nothing. `rows` may be given column by column (`OrderColumns`: no OrderDraft per
    order), which makes the same rows."""
    if not _use_copy():
        return PreparedOrders(
            created=[],
            tables=[],
            parents={},
            elsewhere={
                "rows": rows.drafts() if isinstance(rows, OrderColumns) else rows,
                "actor": actor,
                "group_order": group_order,
                "stage_trigger": stage_trigger,
                "stage": stage,
                "record_history": record_history,
            },
        )
    orders = rows if isinstance(rows, OrderColumns) else OrderColumns.of_drafts(rows)
    if not checked:
        _drafts_check(rows if isinstance(rows, list) else orders.drafts())
    given = orders.column("number")
    numbers = iter(order_numbers_allocate(count=sum(1 for number in given if not number)))
    created, tables, parents = _orders_copy_rows(
        orders,
        numbers=[number or next(numbers) for number in given],
        actor=actor,
        group_order=group_order,
        history_reason=_history_reason(actor, "Imported") if record_history else None,
    )
    status_tables, status_parents = order_statuses_start_rows(
        orders=created, actor=actor, stage_trigger=stage_trigger, stage=stage
    )
    for model, keys in status_parents.items():
        parents.setdefault(model, set()).update(keys)
    return PreparedOrders(created=created, tables=tables + status_tables, parents=parents)


@transaction.atomic
def orders_bulk_write(prepared: PreparedOrders) -> list[CreatedOrder]:
    """The second half: writes prepared orders with their
    status and first stage-history rows (COPY; the parents they name are locked, see
    `config.bulk_rows.foreign_keys_checked_once`). Write a preparation once."""
    if prepared.elsewhere is not None:
        return [
            CreatedOrder(
                pk=order.pk,
                number=order.number,
                customer=order.customer,
                external_id=order.external_id,
                delivery_rush=order.delivery_rush,
                due_date=order.due_date,
                notes=order.notes,
            )
            for order in orders_create_bulk(**prepared.elsewhere)
        ]
    with foreign_keys_checked_once(prepared.parents):
        for table in prepared.tables:
            table.write()
    return prepared.created


def _drafts_check(rows: list[OrderDraft]) -> None:
    for index, draft in enumerate(rows):
        _draft_validate(draft, prefix=f"rows.{index}.")
    _check_unique_ids(rows, prefix="rows.{index}.")


def _use_copy() -> bool:
    """COPY (BulkRows) on PostgreSQL; bulk_create elsewhere."""
    return connection.vendor == "postgresql"


def _pk_or_none(value) -> int | None:
    return None if value is None else value.pk


def _draft_column(name: str) -> tuple[str, Callable[[Any], Any]]:
    """The Order column (attname) a draft field fills, and how its value becomes the
    column's value: as `_build_order` and `bulk_create` would store it."""
    field = Order._meta.get_field(name)
    if field.is_relation:
        return field.attname, _pk_or_none
    if isinstance(field, models.GenericIPAddressField):
        # normalised like Django does (IPv6), "" stored as NULL
        return field.attname, lambda value: field.get_prep_value(value) or None
    if name == "external_id":
        return field.attname, lambda value: value or None  # NULL: the unique index ignores it
    return field.attname, _same


def _same(value):
    return value


_DRAFT_COLUMNS = {name: _draft_column(name) for name in _DRAFT_ORDER_FIELDS}
_DRAFT_FOREIGN_KEYS = [
    name for name in _DRAFT_ORDER_FIELDS if Order._meta.get_field(name).is_relation
]


def _each(function: Callable[..., Any], *columns: Sequence[Any]) -> list[Any]:
    """`function` of each order's values; computed once when each column holds one object
    repeated (a constant, or a default)."""
    if all(len(set(map(id, column))) == 1 for column in columns):
        return [function(*(column[0] for column in columns))] * len(columns[0])
    return list(map(function, *columns))


def _orders_copy_rows(
    orders: OrderColumns,
    *,
    numbers: list[str],
    actor: Actor,
    group_order,
    history_reason: str | None,
) -> tuple[list[CreatedOrder], list[BulkRows], dict[type[models.Model], set]]:
    """PostgreSQL: the COPY rows of the orders (ids taken up front), their simple-history
    "+" rows (`history_reason` None: none), lines and totals — the same rows and values
    `bulk_create` (with history) writes — and the parents they name. Writes nothing.

    Column by column: a field that has one value in every order of the call is written as
    a constant (encoded once); the fields that differ are converted a column at a time
    (`BulkRows.add_columns`).
    """
    count = orders.count
    if not count:
        return [], [], {}
    now = timezone.now()
    fields = {name: orders.column(name) for name in _DRAFT_ORDER_FIELDS}
    lines, totals = orders.column("lines"), orders.column("totals")
    computed = {  # as _build_order computes them
        "order_total": _each(_order_total_of, orders.column("order_total"), totals, lines),
        "total_items": _each(_total_items_of, orders.column("total_items"), lines),
        "date_added": _each(lambda value: value or now, orders.column("date_added")),
    }
    # by identity, in C: the common constants (None, False, "", one catalogue instance, one
    # enum member, a repeated default) are single objects; equal values held in distinct
    # objects are converted row by row, which is as correct and only slower
    varying = [
        name
        for name, values in fields.items()
        if name in orders.columns and len(set(map(id, values))) > 1
    ]
    varying_computed = [name for name, values in computed.items() if len(set(map(id, values))) > 1]
    constants = {
        "group_order_id": _pk_or_none(group_order),
        "created_by_id": actor.user.pk if actor.user else None,
        "date_modified": now,
    }
    for name, values in fields.items():
        if name not in varying:
            attname, convert = _DRAFT_COLUMNS[name]
            constants[attname] = convert(values[0])
    for name, values in computed.items():
        if name not in varying_computed:
            constants[name] = values[0]
    assigned = "assignee" in varying or "assignee_group" in varying
    if not assigned:
        constants["assignee_updated_at"] = (
            now if constants["assignee_id"] or constants["assignee_group_id"] else None
        )
    columns = ["id", "number", "hash", *varying_computed]
    columns += [_DRAFT_COLUMNS[name][0] for name in varying]
    columns += ["assignee_updated_at"] if assigned else []
    order_rows = BulkRows(Order, columns, constants=constants, now=now)
    history_rows = None
    if history_reason is not None:
        # date_modified (auto_now) is the one Order column simple-history does not track
        history_rows = BulkRows(
            Order.history.model,
            columns,
            constants={
                **{k: v for k, v in constants.items() if k != "date_modified"},
                "history_date": now,
                "history_change_reason": history_reason,
                "history_type": "+",
                "history_user_id": actor.user.pk if actor.user else None,
            },
            now=now,
        )
    line_rows = BulkRows(
        OrderLine, ["order_id", "name", "option", "quantity", "price", "subtotal", "comment"]
    )
    total_rows = BulkRows(OrderTotal, ["order_id", "code", "title", "value", "priority"])
    parents: dict[type[models.Model], set] = defaultdict(set)
    for name in _DRAFT_FOREIGN_KEYS:
        model = Order._meta.get_field(name).related_model
        values = fields[name] if name in varying else fields[name][:1]
        parents[model].update(map(_pk_or_none, {id(value): value for value in values}.values()))
    parents[Order._meta.get_field("group_order").related_model].add(_pk_or_none(group_order))
    parents[Order._meta.get_field("created_by").related_model].add(_pk_or_none(actor.user))

    pks = order_rows.ids(count)
    given = [pks, numbers, Order.new_hashes(count)]
    given += [computed[name] for name in varying_computed]
    for name in varying:
        convert = _DRAFT_COLUMNS[name][1]
        given.append(fields[name] if convert is _same else list(map(convert, fields[name])))
    if assigned:
        assignees = zip(fields["assignee"], fields["assignee_group"], strict=True)
        given.append([now if assignee or group else None for assignee, group in assignees])
    order_rows.add_columns(*given)
    if history_rows is not None:
        history_rows.add_columns(*given)
    # imports give no order lines or totals: nothing to go through
    parts = zip(pks, lines, totals, strict=True) if any(lines) or any(totals) else ()
    for pk, order_lines, order_totals in parts:
        for line in order_lines:  # as _build_lines, without a model instance
            line_rows.add(
                pk,
                line.name,
                line.option,
                line.quantity,
                line.price,
                _line_subtotal(line),
                line.comment,
            )
        for index, total in enumerate(order_totals):  # as _build_totals
            total_rows.add(
                pk,
                total.code,
                total.title or total.code.replace("_", " ").capitalize(),
                total.value,
                total.priority or index,
            )
    created = list(
        map(
            CreatedOrder,
            pks,
            numbers,
            fields["customer"],
            fields["external_id"],
            fields["delivery_rush"],
            fields["due_date"],
            fields["notes"],
        )
    )
    tables = [order_rows, history_rows, line_rows, total_rows]
    return created, [table for table in tables if table is not None], dict(parents)

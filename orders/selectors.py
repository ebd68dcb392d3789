"""Reads for orders: the integrator list, one order, and the customer's completed orders."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import SimpleNamespace

from django.db import router
from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_client_ids, user_is_employee
from config.api.errors import InvalidParam, NotFound
from config.filtersets import id_of
from config.statements import ModelStatement, Placeholders, Statement, id_list, model_from_row
from orders.filters import OrderFilter
from orders.models import Address, Order, OrderTotal, Shipment, ShipmentItem

MISSING_SHIPMENT_ADDRESS = "missing_shipment_address"
MISSING_REQUIRED_OPTION = "missing_required_option"


# --------------------------------------------------------------------------- integrator


def orders_visible() -> QuerySet[Order]:
    """Orders the integrator API and staff lists show: not soft-deleted."""
    return Order.objects.filter(is_deleted=False)


def user_sees_every_order(user: User | None) -> bool:
    """Staff (admin staff, employees, superusers) and the system (no user) see every
    client's orders."""
    if user is None:
        return True
    if user.is_superuser or user.is_staff:
        return True
    return user_is_employee(user)


def orders_of_callers_clients(queryset: QuerySet[Order], user: User | None) -> QuerySet[Order]:
    """`queryset` as `user` may see it: everything for staff; for anyone else (a client user
    or a liaison holding a role such as group uploader) the orders of their own clients only —
    another client's order answers as if it did not exist."""
    if user_sees_every_order(user):
        return queryset
    return queryset.filter(customer_id__in=customer_client_ids(user=user))


def order_list(
    *, params: Mapping[str, str] | None = None, user: User | None = None
) -> QuerySet[Order]:
    """Visible orders matching the OrderFilter params, with what the order object needs.

    Bad filter values raise invalid-param naming the parameter. Not ordered: the caller
    (keyset pagination) orders it. With `user`, only the orders that caller may see.
    """
    return order_object_queryset(_orders_filtered(params, user), lean=True)


def _orders_filtered(
    params: Mapping[str, str] | None, user: User | None, *, base: QuerySet | None = None
) -> QuerySet[Order]:
    """`base` (default: the visible orders) as `user` may see it, filtered by `params`."""
    queryset = orders_of_callers_clients(orders_visible() if base is None else base, user)
    filterset = OrderFilter(data=params or {}, queryset=queryset)
    if not filterset.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        first = next(iter(errors))
        raise InvalidParam(first, errors[first][0], errors=errors)
    return filterset.qs


# What the order object (and its ETag, and every keyset ordering) reads: a page of the list
# loads only these, not the ~60 columns of an order and ~30 of its status.
ORDER_OBJECT_COLUMNS = (
    "id", "customer_id", "location_id", "address_id", "first_name", "last_name", "email",
    "telephone", "notify", "order_type", "order_date", "order_time", "processed", "total_items",
    "order_total", "comment", "payment", "invoice_prefix", "invoice_date", "assignee_id",
    "assignee_group_id", "assignee_updated_at", "ip_address", "hash", "user_agent",
    "date_added", "date_modified", "version",
    "current_status__stage_id", "current_status__status_updated_at",
)  # fmt: skip
ORDER_TOTAL_COLUMNS = ("id", "order_id", "code", "title", "value", "priority")


# The same columns as values() rows (a page of the list needs no model instances).
ORDER_ROW_VALUES = tuple(c for c in ORDER_OBJECT_COLUMNS if not c.startswith("current_status"))


class _Related(list):
    def all(self) -> list:  # reads like the related manager of a model instance
        return self


def order_list_rows(
    *, params: Mapping[str, str] | None = None, user: User | None = None
) -> QuerySet:
    """order_list as values() rows: the order object's columns, and the current status's
    stage_id and status_updated_at. Turn a page of them into order objects with
    `order_rows_read`."""
    return _orders_filtered(params, user, base=_visible_order_rows().all())


@cache
def _visible_order_rows() -> QuerySet:
    """The visible orders as the list's rows, built once per process (resolving the 30
    columns was a tenth of a list request); each request filters a clone."""
    return _order_rows(orders_visible())


def _order_rows(queryset: QuerySet[Order]) -> QuerySet:
    return queryset.values(
        *ORDER_ROW_VALUES,
        status_stage_id=F("current_status__stage_id"),
        status_updated_at=F("current_status__status_updated_at"),
    )


def _totals_of_orders(p: Placeholders, count: int) -> QuerySet:
    return (
        OrderTotal.objects.filter(order_id__in=p.ints("order", count))
        .order_by("priority", "id")
        .values_list("order_id", "code", "title", "value", "priority")
    )


_TOTALS = Statement(OrderTotal, _totals_of_orders)


def order_rows_read(rows: list[dict]) -> list[SimpleNamespace]:
    """A page of `order_list_rows` as objects the order object serializer reads (attributes,
    `current_status`, `totals.all()`), with the totals of the page in one query."""
    totals: dict[int, _Related] = {row["id"]: _Related() for row in rows}
    if totals:
        count, ids = id_list("order", list(totals))
        for order_id, code, title, value, priority in _TOTALS.rows((count,), **ids):
            totals[order_id].append(
                SimpleNamespace(code=code, title=title, value=value, priority=priority)
            )
    objects = []
    for row in rows:
        row = dict(row)
        stage_id, updated_at = row.pop("status_stage_id"), row.pop("status_updated_at")
        status = (
            None
            if stage_id is None
            else SimpleNamespace(stage_id=stage_id, status_updated_at=updated_at)
        )
        objects.append(
            SimpleNamespace(**row, pk=row["id"], current_status=status, totals=totals[row["id"]])
        )
    return objects


def order_object_queryset(queryset: QuerySet[Order], *, lean: bool = False) -> QuerySet[Order]:
    """The joins and prefetches the order object (integrator API) renders from. `lean`: only
    the columns it reads (lists; a single order that a service goes on to use stays whole)."""
    if not lean:
        return queryset.select_related("current_status").prefetch_related("totals")
    return (
        queryset.select_related("current_status")
        .only(*ORDER_OBJECT_COLUMNS)
        .prefetch_related(
            Prefetch("totals", queryset=OrderTotal.objects.only(*ORDER_TOTAL_COLUMNS))
        )
    )


def order_get(
    *, order_id: int | str, include_deleted: bool = False, user: User | None = None
) -> Order:
    """One order by id for the integrator API; NotFound (invalid-param, 400) otherwise —
    also when `user` may not see it (another client's order)."""
    pk = _as_id(order_id)
    queryset = Order.objects.all() if include_deleted else orders_visible()
    queryset = orders_of_callers_clients(queryset, user)
    order = order_object_queryset(queryset).filter(pk=pk).first() if pk else None
    if order is None:
        raise NotFound("order_id", f"Order {order_id} does not exist.")
    return order


def _visible_order(p: Placeholders, clients: int | None) -> QuerySet[Order]:
    """The visible order of the placeholder id; of `clients` placeholder clients only (None:
    of any client): orders_of_callers_clients as a statement's shape."""
    queryset = orders_visible().filter(pk=p.int("order_id"))
    if clients is not None:
        queryset = queryset.filter(customer_id__in=p.ints("client", clients))
    return queryset


def _callers_clients(user: User | None) -> tuple[int | None, dict[str, int]] | None:
    """The caller's restriction for `_visible_order`: (None, {}) for a caller who sees every
    order, (count, values) for the client ids of one who does not, None for one who sees none."""
    if user_sees_every_order(user):
        return None, {}
    client_ids = customer_client_ids(user=user)
    return id_list("client", client_ids) if client_ids else None


_ORDER_ROW = Statement(Order, lambda p, clients: _order_rows(_visible_order(p, clients))[:1])
_ORDER_ID = Statement(Order, lambda p, clients: _visible_order(p, clients).values("id")[:1])


def order_visible_stub(*, order_id: int, user: User | None = None) -> Order | None:
    """The order as an instance holding its id only (like `.only("pk")`), when it exists, is
    not deleted and `user` may see it; None otherwise."""
    restriction = _callers_clients(user)
    if restriction is None:
        return None
    clients, values = restriction
    rows = _ORDER_ID.rows((clients,), order_id=order_id, **values)
    return model_from_row(Order, router.db_for_read(Order), ("id",), rows[0]) if rows else None


def order_object_get(*, order_id: int | str, user: User | None = None) -> SimpleNamespace:
    """order_get for reading only: the order object's columns as one row and its totals (two
    queries, no model instances), as `order_rows_read` gives them. NotFound as order_get."""
    pk = _as_id(order_id)
    restriction = _callers_clients(user) if pk is not None else None
    rows = []
    if restriction is not None:
        clients, values = restriction
        rows = _ORDER_ROW.dicts((clients,), order_id=pk, **values)
    if not rows:
        raise NotFound("order_id", f"Order {order_id} does not exist.")
    return order_rows_read(rows)[0]


def _as_id(value: int | str) -> int | None:
    return id_of(str(value))


# --------------------------------------------------------------------------- customer


def customer_client_ids(*, user: User) -> list[int]:
    """The clients whose orders this user may see: their own client, and a liaison's clients."""
    return user_client_ids(user)


def _customer_orders(client_ids: Iterable[int]) -> QuerySet[Order]:
    shipments = Shipment.objects.select_related("shipping_address").prefetch_related(
        Prefetch("items", queryset=ShipmentItem.objects.order_by("id"))
    )
    return (
        Order.objects.filter(
            customer_id__in=list(client_ids), completed_at__isnull=False, is_deleted=False
        )
        .select_related("plan__package", "billing_address", "shipping_address")
        .prefetch_related("totals", Prefetch("shipments", queryset=shipments))
    )


_CUSTOMER_ORDER_COLUMNS = (
    "id", "customer_id", "plan_id", "date_added", "paid_at", "refunded_at",
    "shipping_address_id",
)  # fmt: skip
_CUSTOMER_PLAN_COLUMNS = (
    "name", "css_class", "description", "online_benefits", "annotations", "tags", "duration",
    "price", "upgrade_price", "available_to_customer", "package_id",
)  # fmt: skip
_CUSTOMER_PACKAGE_COLUMNS = (
    "name", "description", "shipping_domestic", "shipping_international", "items",
    "required_option",
)  # fmt: skip


def _customer_order_rows(p: Placeholders, clients: int, descending: bool) -> QuerySet:
    return (
        Order.objects.filter(
            customer_id__in=p.ints("client", clients), completed_at__isnull=False, is_deleted=False
        )
        .order_by("-id" if descending else "id")
        .values_list(
            *_CUSTOMER_ORDER_COLUMNS,
            *(f"plan__{name}" for name in _CUSTOMER_PLAN_COLUMNS),
            *(f"plan__package__{name}" for name in _CUSTOMER_PACKAGE_COLUMNS),
        )
    )


def _shipments_of_orders(p: Placeholders, count: int) -> QuerySet:
    return (
        Shipment.objects.filter(order_id__in=p.ints("order", count))
        .order_by("id")
        .values("id", "order_id", "status", "ship_date", "tracking_url", "shipping_address_id")
    )


def _items_of_shipments(p: Placeholders, count: int) -> QuerySet:
    return (
        ShipmentItem.objects.filter(shipment_id__in=p.ints("shipment", count))
        .order_by("id")
        .values_list("shipment_id", "name", "thumbnail", "option")
    )


_CUSTOMER_ORDERS = Statement(Order, _customer_order_rows)
_SHIPMENTS = Statement(Shipment, _shipments_of_orders)
_SHIPMENT_ITEMS = Statement(ShipmentItem, _items_of_shipments)


def customer_orders(*, client_ids: list[int], descending: bool = False) -> list[SimpleNamespace]:
    """The completed orders of these clients, by id (ascending unless `descending`), as the
    customer list renders them: objects with the attributes it reads (the plan and its
    package, `totals.all()`, `shipments.all()`, each shipment's `items.all()`), read as rows
    in four queries without model instances. The detail reads models (`customer_order_get`)."""
    if not client_ids:
        return []
    count, clients = id_list("client", list(client_ids))
    rows = _CUSTOMER_ORDERS.rows((count, descending), **clients)
    order_width, plan_width = len(_CUSTOMER_ORDER_COLUMNS), len(_CUSTOMER_PLAN_COLUMNS)
    plans: dict[int, SimpleNamespace] = {}
    orders: list[SimpleNamespace] = []
    for row in rows:
        order = SimpleNamespace(
            **dict(zip(_CUSTOMER_ORDER_COLUMNS, row[:order_width], strict=True))
        )
        order.pk = order.id
        order.plan = None
        if order.plan_id is not None:
            order.plan = plans.get(order.plan_id)
            if order.plan is None:
                order.plan = plans[order.plan_id] = _plan_of_row(
                    order.plan_id,
                    row[order_width : order_width + plan_width],
                    row[order_width + plan_width :],
                )
        order.totals, order.shipments = _Related(), _Related()
        orders.append(order)
    if not orders:
        return orders
    by_id = {order.id: order for order in orders}
    count, ids = id_list("order", list(by_id))
    for order_id, code, _title, value, _priority in _TOTALS.rows((count,), **ids):
        by_id[order_id].totals.append(SimpleNamespace(code=code, value=value))
    shipments = {}
    for values in _SHIPMENTS.dicts((count,), **ids):
        shipment = shipments[values["id"]] = SimpleNamespace(**values, pk=values["id"])
        shipment.items = _Related()
        by_id[shipment.order_id].shipments.append(shipment)
    if shipments:
        count, ids = id_list("shipment", list(shipments))
        for shipment_id, name, thumbnail, option in _SHIPMENT_ITEMS.rows((count,), **ids):
            shipments[shipment_id].items.append(
                SimpleNamespace(name=name, thumbnail=thumbnail, option=option)
            )
    return orders


def _plan_of_row(plan_id: int, plan_values: tuple, package_values: tuple) -> SimpleNamespace:
    plan = SimpleNamespace(**dict(zip(_CUSTOMER_PLAN_COLUMNS, plan_values, strict=True)))
    plan.pk = plan.id = plan_id
    plan.package = (
        None
        if plan.package_id is None
        else SimpleNamespace(**dict(zip(_CUSTOMER_PACKAGE_COLUMNS, package_values, strict=True)))
    )
    return plan


def customer_order_get(*, client_ids: list[int], order_id: int | str) -> Order | None:
    """One completed order of these clients; None when missing or someone else's."""
    pk = _as_id(order_id)
    if pk is None or not client_ids:
        return None
    return _customer_orders(client_ids).filter(pk=pk).first()


def customer_order_latest(*, client_ids: list[int]) -> Order | None:
    """The most recently completed order of these clients, or None."""
    if not client_ids:
        return None
    return _customer_orders(client_ids).order_by("-completed_at", "-id").first()


@dataclass(frozen=True)
class CustomerContext:
    """What rendering customer orders needs beyond the orders: one query each, per page."""

    primary_shipping: dict[int, Address]  # client id → primary shipping address
    current_plans: dict[int, int]  # client id → plan id of the plan in force

    @classmethod
    def for_orders(cls, orders: list[Order], *, now: datetime | None = None) -> "CustomerContext":
        client_ids = sorted({order.customer_id for order in orders if order.customer_id})
        return cls(
            primary_shipping=clients_primary_shipping(client_ids=client_ids),
            current_plans=clients_current_plans(client_ids=client_ids, now=now),
        )


def clients_primary_shipping(*, client_ids: list[int]) -> dict[int, Address]:
    if not client_ids:
        return {}
    count, clients = id_list("client", list(client_ids))
    addresses = _PRIMARY_SHIPPING.objects((count,), **clients)
    return {address.client_id: address for address in addresses}


_PRIMARY_SHIPPING = ModelStatement(
    Address,
    lambda p, clients: Address.objects.filter(
        client_id__in=p.ints("client", clients), is_primary_shipping=True
    ),
)


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment  # unreachable: every month has a 28th


def _paid_plans_of_clients(p: Placeholders, clients: int) -> QuerySet:
    return (
        Order.objects.filter(
            customer_id__in=p.ints("client", clients),
            completed_at__isnull=False,
            paid_at__isnull=False,
            refunded_at__isnull=True,
            is_deleted=False,
            plan__isnull=False,
        )
        .order_by("customer_id", "-paid_at", "-id")
        .values_list("customer_id", "plan_id", "paid_at", "plan__duration")
    )


_PAID_PLANS = Statement(Order, _paid_plans_of_clients)


def clients_current_plans(*, client_ids: list[int], now: datetime | None = None) -> dict[int, int]:
    """Per client, the plan in force: the plan of the latest completed, paid and not refunded
    order, while `duration` months since it was paid have not passed."""
    if not client_ids:
        return {}
    now = now or timezone.now()
    count, clients = id_list("client", list(client_ids))
    rows = _PAID_PLANS.rows((count,), **clients)
    current: dict[int, int] = {}
    seen: set[int] = set()
    for client_id, plan_id, paid_at, duration in rows:
        if client_id in seen:
            continue
        seen.add(client_id)
        if _add_months(paid_at, duration) > now:
            current[client_id] = plan_id
    return current


def shipment_address(shipment: Shipment, order: Order, primary: Address | None) -> Address | None:
    """Where a shipment goes: its own address, else the order's, else the client's primary."""
    return shipment.shipping_address or order.shipping_address or primary


def shipment_issues(shipment: Shipment, order: Order, primary: Address | None) -> list[str]:
    """The customer document's shipment issues, computed from the data (never stored).

    - missing_shipment_address: neither the shipment nor the order has a shipping address and
      the client has no primary shipping address on file;
    - missing_required_option: the order's plan's package requires an option and some item
      of the shipment has none.
    """
    issues = []
    # shipment_address(...) is None, by ids (rows of the customer list carry no addresses)
    if (
        shipment.shipping_address_id is None
        and order.shipping_address_id is None
        and primary is None
    ):
        issues.append(MISSING_SHIPMENT_ADDRESS)
    package = order.plan.package if order.plan else None
    if package is not None and package.required_option:
        if any(not item.option for item in shipment.items.all()):
            issues.append(MISSING_REQUIRED_OPTION)
    return issues

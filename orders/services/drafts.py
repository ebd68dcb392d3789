"""What a new order is made of (OrderDraft, its lines and totals) and the checks a
draft must pass before anything is written."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_ipv46_address

from accounts.models import Client, User
from config.api.errors import InvalidParam
from orders.models import Address, Location, OrderType, Plan, ServiceType

ZERO = Decimal("0")

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


_DRAFT_FIELD_NAMES = frozenset(f.name for f in fields(OrderDraft))


@dataclass
class OrderColumns:
    """Many new orders given column by column, without an OrderDraft each (imports):
    `columns` maps OrderDraft fields to one value per order (`count` of them), `constants`
    maps fields to the value of every order; a field in neither has OrderDraft's default.
    The values follow the OrderDraft rules (model instances for related objects)."""

    count: int
    columns: dict[str, Sequence[Any]]
    constants: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.columns) | set(self.constants)) - _DRAFT_FIELD_NAMES
        if unknown:
            raise ValueError(f"OrderDraft has no field {sorted(unknown)[0]}")
        if self.columns.keys() & self.constants.keys():
            raise ValueError("a field is either a column or a constant")
        if any(len(values) != self.count for values in self.columns.values()):
            raise ValueError(f"every column has {self.count} values")

    @classmethod
    def of_drafts(cls, drafts: Sequence[OrderDraft]) -> "OrderColumns":
        names = [f.name for f in fields(OrderDraft)]
        values = zip(*map(attrgetter(*names), drafts), strict=True) if drafts else []
        columns = dict(zip(names, values, strict=True)) if drafts else {}
        return cls(count=len(drafts), columns=columns)

    def column(self, name: str) -> Sequence[Any]:
        """One value per order (a constant or default repeated: the same object each time)."""
        if name in self.columns:
            return self.columns[name]
        if name in self.constants:
            return [self.constants[name]] * self.count
        return [_DRAFT_DEFAULTS[name]] * self.count

    def drafts(self) -> list[OrderDraft]:
        """The orders as OrderDrafts (the paths that check or build model instances)."""
        names = list(self.columns)
        rows = zip(*self.columns.values(), strict=True) if names else [()] * self.count
        return order_drafts_many(
            self.constants, (dict(zip(names, values, strict=True)) for values in rows)
        )


def order_drafts_many(common: dict[str, Any], rows: Iterable[dict[str, Any]]) -> list[OrderDraft]:
    """`[OrderDraft(**common, **row) for row in rows]` without running the dataclass's
    __init__ for each (a bulk import makes hundreds of thousands): the fields neither gives
    take their defaults, fresh lists included."""
    template = OrderDraft(**{"first_name": "", **common})
    base = vars(template)
    fresh_lists = [name for name, value in base.items() if type(value) is list and not value]
    drafts = []
    new = object.__new__
    for row in rows:
        draft = new(OrderDraft)
        values = {**base, **row}
        for name in fresh_lists:
            if name not in row:
                values[name] = []
        draft.__dict__ = values
        drafts.append(draft)
    return drafts


# A draft's defaults (the lists among them, for reading only: order_drafts_many gives each
# draft lists of its own).
_DRAFT_DEFAULTS = vars(OrderDraft(first_name=""))

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


# Addresses of the common shape, every one of which Django's validate_email accepts (a
# dot-atom local part, LDH labels, an alphabetic top-level domain): checked by one regex.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
).fullmatch


def email_is_valid(value: str) -> bool:
    """Django's validate_email, with the common case answered by one regex (imports check
    hundreds of thousands of addresses); anything else goes to validate_email itself."""
    if len(value) <= 254 and _PLAIN_EMAIL(value):
        return True
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _check_email(value: str, param: str) -> None:
    if value and not email_is_valid(value):
        raise InvalidParam(param, f"'{value}' is not a valid e-mail address.")


_ORDER_TYPES = frozenset(OrderType.values)


def _check_order_type(value: str, param: str) -> None:
    if value not in _ORDER_TYPES:
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
    return _order_total_of(draft.order_total, draft.totals, draft.lines)


def _order_total_of(
    order_total: Decimal | None, totals: list[TotalDraft], lines: list[LineDraft]
) -> Decimal:
    """An order's total: as given, else its `total` row, else the sum of its lines."""
    if order_total is not None:
        return order_total
    for total in totals:
        if total.code == "total":
            return total.value
    return sum((_line_subtotal(line) for line in lines), ZERO)


def _total_items_of(total_items: int | None, lines: list[LineDraft]) -> int:
    """An order's item count: as given, else the sum of its lines' quantities."""
    return total_items if total_items is not None else sum(line.quantity for line in lines)


def order_draft_check(draft: OrderDraft) -> None:
    """The checks order_create runs, for forms that want to show them next to the fields."""
    _draft_validate(draft)

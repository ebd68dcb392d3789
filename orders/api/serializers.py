"""Serializers of the integrator orders API (orders-rest-api.md) and the customer orders API
(customer-orders-api.txt). Input serializers reject fields they do not know."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import Any

from django.contrib.auth.models import Group
from django.db.models.manager import BaseManager
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import Client, User
from config.api.field_copies import ShallowFieldsMixin
from config.api.params import CONTROL_PARAMS
from config.api.strict_types import INT16_MAX, INT32_MAX, StrictJsonTypesMixin
from orders.models import Address, Location, Order, OrderType, Plan, ServiceType
from orders.services import LineDraft, OrderDraft, TotalDraft
from stages.models import Stage

# --------------------------------------------------------------------------- formats

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"  # "2020-05-24 12:58:43", in the platform's time zone
UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # "2020-05-24T11:58:43.000000Z"


# isoformat writes what these strftime formats write, at half the cost, for years from 1000
# on (strftime's %Y does not pad years below 1000; isoformat does): a page of orders writes
# a few hundred of them.
def local_format(value: datetime) -> str:
    """value (a datetime, as it is) in LOCAL_FORMAT."""
    return (
        value.isoformat(" ", "seconds")[:19] if value.year >= 1000 else value.strftime(LOCAL_FORMAT)
    )


def local_text(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """value in LOCAL_FORMAT in `zone` (default: the current time zone; a page of orders
    passes the zone it looked up once, each look-up costing more than the formatting)."""
    return local_format(timezone.localtime(value, zone)) if value else None


def utc_text(value: datetime | None) -> str | None:
    if not value:
        return None
    value = value.astimezone(UTC)
    if value.year >= 1000:
        return value.isoformat("T", "microseconds")[:26] + "Z"
    return value.strftime(UTC_FORMAT)


@extend_schema_field(OpenApiTypes.STR)
class LocalDateTimeTextField(serializers.Field):
    """Output "YYYY-MM-DD HH:MM:SS" in the platform's time zone (date_added, date_modified)."""

    def to_representation(self, value):
        return local_text(value)


@extend_schema_field(OpenApiTypes.STR)
class UtcTimestampField(serializers.Field):
    """Output "YYYY-MM-DDTHH:MM:SS.ffffffZ" (invoice_date, status_updated_at, ...)."""

    def to_representation(self, value):
        return utc_text(value)


WALL_CLOCK_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
)


@extend_schema_field(OpenApiTypes.STR)
class WallClockDateTimeField(serializers.Field):
    """Input "YYYY-MM-DD HH:MM:SS" (or ISO without offset): a date and time at the location,
    stored as order_date and order_time without a time zone."""

    default_error_messages = {
        "invalid": "Use the format YYYY-MM-DD HH:MM:SS, e.g. 2020-05-24 13:13:00.",
    }

    def to_internal_value(self, data) -> datetime:
        if isinstance(data, str):
            for fmt in WALL_CLOCK_FORMATS:
                try:
                    return datetime.strptime(data.strip(), fmt)  # noqa: DTZ007 (wall clock)
                except ValueError:
                    continue
        self.fail("invalid")

    def to_representation(self, value):
        return value.strftime(LOCAL_FORMAT) if value else None


class StrictInputSerializer(ShallowFieldsMixin, StrictJsonTypesMixin, serializers.Serializer):
    """Refuses body fields it does not declare (invalid-param naming each), so a typo never
    passes silently. `token`, `application` and the other control parameters are allowed."""

    read_only_names: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields) - CONTROL_PARAMS)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            f"{name} is read-only."
                            if name in self.read_only_names
                            else f"Unknown field {name}; see docs/orders.md for the fields."
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


# --------------------------------------------------------------------------- integrator out


class OrderTotalItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    value = serializers.FloatField()
    priority = serializers.IntegerField()


def _status(order: Order):
    try:
        return order.current_status
    except Order.current_status.RelatedObjectDoesNotExist:
        return None


NULLABLE_TEXT = serializers.CharField(allow_null=True)  # schema of a text that may be null


def _order_date_time(order: Order, zone: tzinfo) -> str | None:
    if order.order_date is None:
        return None
    return local_format(datetime.combine(order.order_date, order.order_time or time.min))


def _order_date(order: Order, zone: tzinfo) -> str | None:
    if order.order_date is None:
        return None
    return local_format(datetime.combine(order.order_date, time.min))


def _order_time(order: Order, zone: tzinfo) -> str | None:
    return order.order_time.strftime("%H:%M:%S") if order.order_time else None


def _status_id(order: Order, zone: tzinfo) -> int | None:
    status = _status(order)
    return status.stage_id if status else None


def _status_updated_at(order: Order, zone: tzinfo) -> str | None:
    status = _status(order)
    return utc_text(status.status_updated_at) if status else None


def _order_totals(order: Order, zone: tzinfo) -> list[dict]:
    return [
        {
            "code": str(total.code),
            "title": str(total.title),
            "value": float(total.value),
            "priority": int(total.priority),
        }
        for total in order.totals.all()
    ]


def _attribute(name: str, convert):
    get = attrgetter(name)

    def read(order, zone):
        value = get(order)
        # str(text), int(number), bool(flag) return the value itself: skip the call
        return value if value is None or type(value) is convert else convert(value)

    return read


# The order object's fields as plain functions of the order and the time zone that local
# times are written in: what DRF's fields return for them (tests/orders/
# test_order_object_fast.py compares both, field by field), without the per-field machinery
# that made serialising a page of 50 orders cost more than reading it.
ORDER_OBJECT_READERS = {
    "order_id": lambda order, zone: order.pk,
    "customer_id": _attribute("customer_id", int),
    "location_id": _attribute("location_id", int),
    "address_id": _attribute("address_id", int),
    "first_name": _attribute("first_name", str),
    "last_name": _attribute("last_name", str),
    "email": _attribute("email", str),
    "telephone": _attribute("telephone", str),
    "notify": _attribute("notify", bool),
    "order_type": _attribute("order_type", str),
    "order_date_time": _order_date_time,
    "order_date": _order_date,
    "order_time": _order_time,
    "processed": _attribute("processed", bool),
    "total_items": _attribute("total_items", int),
    "order_total": _attribute("order_total", float),
    "comment": _attribute("comment", str),
    "payment": _attribute("payment", str),
    "invoice_prefix": _attribute("invoice_prefix", str),
    "invoice_date": lambda order, zone: utc_text(order.invoice_date),
    "status_id": _status_id,
    "status_updated_at": _status_updated_at,
    "assignee_id": _attribute("assignee_id", int),
    "assignee_group_id": _attribute("assignee_group_id", int),
    "assignee_updated_at": lambda order, zone: utc_text(order.assignee_updated_at),
    "ip_address": _attribute("ip_address", str),
    "hash": _attribute("hash", str),
    "user_agent": _attribute("user_agent", str),
    "date_added": lambda order, zone: local_text(order.date_added, zone),
    "date_modified": lambda order, zone: local_text(order.date_modified, zone),
    "order_totals": _order_totals,
}


@cache
def _readers_of(serializer_class) -> tuple | None:
    """(name, reader) for each of Meta.fields; None when a field has no reader."""
    names = serializer_class.Meta.fields
    if any(name not in ORDER_OBJECT_READERS for name in names):
        return None
    return tuple((name, ORDER_OBJECT_READERS[name]) for name in names)


class ZonedRepresentationMixin:
    """For serializers whose items write local times: `represent(item, zone)` writes one
    item; the current time zone is looked up once per call here, not once per value (each
    look-up cost more than the formatting). `represent_many` writes a list from this one
    instance — no list serializer, whose reference cycle with its child would keep the items
    alive past the request until a garbage collection pass."""

    def to_representation(self, item) -> dict:
        return self.represent(item, timezone.get_current_timezone())

    def represent_many(self, items) -> list[dict]:
        zone = timezone.get_current_timezone()
        return [self.represent(item, zone) for item in items]


class ZonedListSerializer(serializers.ListSerializer):
    """`many=True` of a ZonedRepresentationMixin serializer: its `represent_many`."""

    def to_representation(self, data) -> list[dict]:
        items = data.all() if isinstance(data, BaseManager) else data  # as DRF's list does
        return self.child.represent_many(items)


class OrderObjectSerializer(ZonedRepresentationMixin, serializers.ModelSerializer):
    """The order object of orders-rest-api.md (list items, create response)."""

    order_id = serializers.IntegerField(source="pk")
    customer_id = serializers.IntegerField(allow_null=True)
    location_id = serializers.IntegerField(allow_null=True)
    address_id = serializers.IntegerField(allow_null=True)
    order_date_time = serializers.SerializerMethodField()
    order_total = serializers.FloatField()
    invoice_date = UtcTimestampField(allow_null=True)
    status_id = serializers.SerializerMethodField()
    status_updated_at = serializers.SerializerMethodField()
    assignee_id = serializers.IntegerField(allow_null=True)
    assignee_group_id = serializers.IntegerField(allow_null=True)
    assignee_updated_at = UtcTimestampField(allow_null=True)
    date_added = LocalDateTimeTextField()
    date_modified = LocalDateTimeTextField()
    order_totals = OrderTotalItemSerializer(source="totals", many=True)

    class Meta:
        model = Order
        fields = [
            "order_id",
            "customer_id",
            "location_id",
            "address_id",
            "first_name",
            "last_name",
            "email",
            "telephone",
            "notify",
            "order_type",
            "order_date_time",
            "processed",
            "total_items",
            "order_total",
            "comment",
            "payment",
            "invoice_prefix",
            "invoice_date",
            "status_id",
            "status_updated_at",
            "assignee_id",
            "assignee_group_id",
            "assignee_updated_at",
            "ip_address",
            "hash",
            "user_agent",
            "date_added",
            "date_modified",
            "order_totals",
        ]
        list_serializer_class = ZonedListSerializer

    @extend_schema_field(NULLABLE_TEXT)
    def get_order_date_time(self, order: Order) -> str | None:
        if order.order_date is None:
            return None
        return datetime.combine(order.order_date, order.order_time or time.min).strftime(
            LOCAL_FORMAT
        )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_status_id(self, order: Order) -> int | None:
        status = _status(order)
        return status.stage_id if status else None

    @extend_schema_field(NULLABLE_TEXT)
    def get_status_updated_at(self, order: Order) -> str | None:
        status = _status(order)
        return utc_text(status.status_updated_at) if status else None

    fast = True  # False: DRF's own field-by-field path (the tests compare both)

    def represent(self, order: Order, zone: tzinfo) -> dict:
        """Meta.fields through ORDER_OBJECT_READERS (the declared fields stay for the schema);
        DRF's path when a field has no reader."""
        readers = _readers_of(type(self)) if self.fast else None
        if readers is None:  # DRF's field-by-field path
            return serializers.ModelSerializer.to_representation(self, order)
        return {name: read(order, zone) for name, read in readers}


class OrderDetailSerializer(OrderObjectSerializer):
    """GET /api/orders/{order_id}: `order_time` and `order_date` instead of order_date_time."""

    order_time = serializers.SerializerMethodField()
    order_date = serializers.SerializerMethodField()

    class Meta(OrderObjectSerializer.Meta):
        fields = [
            *OrderObjectSerializer.Meta.fields[:10],
            "order_time",
            "order_date",
            *OrderObjectSerializer.Meta.fields[11:],
        ]

    @extend_schema_field(NULLABLE_TEXT)
    def get_order_time(self, order: Order) -> str | None:
        return order.order_time.strftime("%H:%M:%S") if order.order_time else None

    @extend_schema_field(NULLABLE_TEXT)
    def get_order_date(self, order: Order) -> str | None:
        if order.order_date is None:
            return None
        return datetime.combine(order.order_date, time.min).strftime(LOCAL_FORMAT)


class OrderPatchResultSerializer(OrderObjectSerializer):
    """The PATCH response body of the document: a subset of the order object."""

    class Meta(OrderObjectSerializer.Meta):
        fields = [
            "order_id",
            "customer_id",
            "location_id",
            "address_id",
            "first_name",
            "last_name",
            "notify",
            "order_type",
            "processed",
            "comment",
            "payment",
            "status_id",
        ]


class OrderLinksSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    prev = serializers.URLField(allow_null=True)


class OrderListMetaSerializer(serializers.Serializer):
    per_page = serializers.IntegerField()
    ordering = serializers.CharField()
    count = serializers.IntegerField(help_text="Orders on this page.")
    next_cursor = serializers.CharField(allow_null=True)
    prev_cursor = serializers.CharField(allow_null=True)


@extend_schema_serializer(many=False)  # the list action answers this page object, not an array
class OrderListSerializer(serializers.Serializer):
    data = OrderObjectSerializer(many=True)
    links = OrderLinksSerializer()
    meta = OrderListMetaSerializer()


class OrderDeletedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.CharField(default="order")
    deleted = serializers.BooleanField(default=True)


# --------------------------------------------------------------------------- integrator in


class OrderTotalInputSerializer(StrictInputSerializer):
    code = serializers.SlugField(max_length=40)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    value = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0"))
    priority = serializers.IntegerField(min_value=0, max_value=INT16_MAX, required=False, default=0)


class OrderLineInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=INT32_MAX, required=False, default=1)
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        min_value=Decimal("0"),
        required=False,
        default=Decimal("0"),
    )
    option = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _optional(field_class, **kwargs):
    return field_class(required=False, **kwargs)


def _relation(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, required=False, allow_null=True, **kwargs
    )


def _staff_users():
    return User.objects.filter(is_active=True)


def split_wall_clock(value: datetime | None) -> tuple[date | None, time | None]:
    return (value.date(), value.time()) if value else (None, None)


class OrderCreateInputSerializer(StrictInputSerializer):
    """POST /api/orders. Fields of the order object that a caller sets, plus lines and the
    order fields of the other contracts. Relations by id; unknown fields are refused."""

    read_only_names = frozenset(
        {"order_id", "status_id", "status_updated_at", "hash", "date_added", "date_modified"}
    )

    customer_id = _relation(Client.objects.all())
    location_id = _relation(Location.objects.filter(is_active=True))
    address_id = _relation(Address.objects.all())
    billing_address_id = _relation(Address.objects.all())
    shipping_address_id = _relation(Address.objects.all())
    plan_id = _relation(Plan.objects.all())
    first_name = serializers.CharField(max_length=150)
    last_name = _optional(serializers.CharField, max_length=150, allow_blank=True, default="")
    email = _optional(serializers.EmailField, allow_blank=True, default="")
    telephone = _optional(serializers.CharField, max_length=40, allow_blank=True, default="")
    comment = _optional(serializers.CharField, allow_blank=True, default="")
    notify = _optional(serializers.BooleanField, allow_null=True, default=None)
    order_type = _optional(serializers.ChoiceField, choices=OrderType.choices, default="collection")
    order_date_time = _optional(WallClockDateTimeField, allow_null=True)
    processed = _optional(serializers.BooleanField, default=False)
    total_items = _optional(
        serializers.IntegerField, min_value=0, max_value=INT32_MAX, allow_null=True
    )
    order_total = _optional(
        serializers.DecimalField,
        max_digits=12,
        decimal_places=4,
        min_value=Decimal("0"),
        allow_null=True,
    )
    payment = _optional(serializers.CharField, max_length=40, allow_blank=True, default="")
    invoice_prefix = _optional(serializers.CharField, max_length=40, allow_blank=True, default="")
    invoice_date = _optional(serializers.DateTimeField, allow_null=True, default=None)
    assignee_id = _relation(_staff_users())
    assignee_group_id = _relation(Group.objects.all())
    ip_address = _optional(serializers.IPAddressField, allow_null=True)
    user_agent = _optional(serializers.CharField, allow_blank=True)
    order_totals = OrderTotalInputSerializer(many=True, required=False, default=list)
    lines = OrderLineInputSerializer(many=True, required=False, default=list)
    external_id = _optional(serializers.CharField, max_length=120, allow_null=True, default=None)
    service_type = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=ServiceType.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    services_addons = _optional(serializers.ListField, child=serializers.CharField(), default=list)
    delivery_rush = _optional(serializers.BooleanField, default=False)
    due_date = _optional(serializers.DateField, allow_null=True, default=None)
    notes = _optional(serializers.CharField, allow_blank=True, default="")

    def draft(self, *, ip_address: str | None, user_agent: str) -> OrderDraft:
        """The validated body as an OrderDraft; ip/user agent default to the request's."""
        data: dict[str, Any] = dict(self.validated_data)
        order_date, order_time = split_wall_clock(data.pop("order_date_time", None))
        relations = {
            "customer": data.pop("customer_id", None),
            "location": data.pop("location_id", None),
            "address": data.pop("address_id", None),
            "billing_address": data.pop("billing_address_id", None),
            "shipping_address": data.pop("shipping_address_id", None),
            "plan": data.pop("plan_id", None),
            "assignee": data.pop("assignee_id", None),
            "assignee_group": data.pop("assignee_group_id", None),
        }
        lines = [LineDraft(**line) for line in data.pop("lines")]
        totals = [TotalDraft(**total) for total in data.pop("order_totals")]
        data.setdefault("ip_address", ip_address)
        data.setdefault("user_agent", user_agent)
        return OrderDraft(
            **data,
            **relations,
            order_date=order_date,
            order_time=order_time,
            lines=lines,
            totals=totals,
        )


class OrderPatchInputSerializer(StrictInputSerializer):
    """PATCH /api/orders/{order_id}: exactly the parameters of the document."""

    read_only_names = frozenset(
        set(OrderObjectSerializer.Meta.fields) | {"order_date", "order_time"}
    ) - {
        "first_name",
        "last_name",
        "email",
        "telephone",
        "notify",
        "order_type",
        "order_date_time",
        "status_id",
        "status_updated_at",
        "assignee_id",
        "assignee_group_id",
        "assignee_updated_at",
    }

    first_name = _optional(serializers.CharField, max_length=150)
    last_name = _optional(serializers.CharField, max_length=150, allow_blank=True)
    email = _optional(serializers.EmailField, allow_blank=True)
    telephone = _optional(serializers.CharField, max_length=40, allow_blank=True)
    notify = _optional(serializers.BooleanField, allow_null=True)
    order_type = _optional(serializers.ChoiceField, choices=OrderType.choices)
    order_date_time = _optional(WallClockDateTimeField, allow_null=True)
    status_id = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.filter(is_active=True), required=False
    )
    status_updated_at = _optional(serializers.DateTimeField)
    assignee_id = _relation(_staff_users())
    assignee_group_id = _relation(Group.objects.all())
    assignee_updated_at = _optional(serializers.DateTimeField, allow_null=True)

    RENAMES = {
        "status_id": "status",
        "assignee_id": "assignee",
        "assignee_group_id": "assignee_group",
    }

    def changes(self) -> dict[str, Any]:
        """The validated body as `order_update` changes."""
        changes = {}
        for name, value in self.validated_data.items():
            if name == "order_date_time":
                changes["order_date"], changes["order_time"] = split_wall_clock(value)
            else:
                changes[self.RENAMES.get(name, name)] = value
        return changes


# --------------------------------------------------------------------------- customer API


def ruby_decimal(value: Decimal | None) -> str | None:
    """5 → "5.0", 5.25 → "5.25": how the customer document writes amounts in lists."""
    if value is None:
        return None
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal)}.0"
    return format(normal, "f")


def cents_text(value: Decimal | None) -> str | None:
    """50 → "50.00": the order detail's totals."""
    return None if value is None else f"{value:.2f}"


def plain_number(value: Decimal | None) -> int | float | None:
    """50 → 50, 12.5 → 12.5: the plan price in the list."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# English month names, as strftime's %B writes them in the C locale the platform runs in
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def long_date(value: datetime | date | None, zone: tzinfo | None = None) -> str | None:
    """ "January 30, 2013"; a datetime in `zone` (default: the current time zone)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = timezone.localtime(value, zone)
    return f"{MONTH_NAMES[value.month - 1]} {value.day}, {value.year}"


def display_price(price: Decimal) -> str:
    return "Free" if not price else f"${price:,.2f}"


TOTAL_CODES = ("shipping", "discount", "subtotal", "total")
SHIPPED_STATUSES = ("shipped", "delivered")


class CustomerAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "first_name",
            "last_name",
            "address",
            "address_2",
            "city",
            "state",
            "postal_code",
            "country",
        ]


class CustomerShippingAndHandlingSerializer(serializers.Serializer):
    domestic = serializers.CharField(help_text='e.g. "5.0"')
    international = serializers.CharField(help_text='e.g. "11.0"')


class CustomerPackageSerializer(serializers.Serializer):
    """A plan's package; `{}` when the plan has none."""

    name = serializers.CharField()
    description = serializers.CharField()
    shipping_and_handling = CustomerShippingAndHandlingSerializer()
    items = serializers.ListField(child=serializers.JSONField())

    def to_representation(self, package):
        return package_body(package)


def package_body(package) -> dict:
    if package is None:
        return {}
    return {
        "name": package.name,
        "description": package.description,
        "shipping_and_handling": {
            "domestic": ruby_decimal(package.shipping_domestic),
            "international": ruby_decimal(package.shipping_international),
        },
        "items": list(package.items or []),
    }


class CustomerPlanSerializer(serializers.Serializer):
    """The plan of a customer order. `price`/`upgrade_price` are numbers in the list and
    strings ("50.0") in the detail, as the document shows them."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    online_benefits = serializers.CharField()
    annotations = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    duration = serializers.IntegerField(help_text="Months.")
    display_price = serializers.CharField(help_text='"Free" or e.g. "$50.00".')
    upgrade_price = serializers.JSONField(allow_null=True)
    price = serializers.JSONField(help_text="Number in the list, string in the detail.")
    checkout = serializers.URLField(
        help_text="{scheme}://{host}/checkout/{order id}?url={customer id}"
    )
    current = serializers.BooleanField(help_text="The plan in force for the customer.")
    upgrade = serializers.BooleanField(help_text="Current and has an upgrade price.")
    available_to_customer = serializers.BooleanField()
    package = CustomerPackageSerializer(allow_null=True)

    def to_representation(self, order):
        return plan_body(order, self.context)


CustomerPlanSerializer._declared_fields["class"] = serializers.CharField(
    help_text="The plan's CSS class."
)


# The customer document's nested bodies as plain functions of (object, context): a page of
# orders renders 25 plans and their shipments without a serializer instance for each.
def plan_body(order, context: Mapping[str, Any]) -> dict | None:
    """The plan of `order`; context: request, customer (CustomerContext), detail."""
    plan: Plan | None = order.plan
    if plan is None:
        return None
    detail = context.get("detail", False)
    money = ruby_decimal if detail else plain_number
    request = context["request"]
    current = context["customer"].current_plans.get(order.customer_id) == plan.pk
    return {
        "id": plan.pk,
        "name": plan.name,
        "class": plan.css_class,
        "description": plan.description,
        "online_benefits": plan.online_benefits,
        "annotations": plan.annotations,
        "tags": list(plan.tags or []),
        "duration": plan.duration,
        "display_price": display_price(plan.price),
        "upgrade_price": money(plan.upgrade_price),
        "price": money(plan.price),
        "checkout": request.build_absolute_uri(f"/checkout/{order.pk}?url={order.customer_id}"),
        "current": current,
        "upgrade": current and plan.upgrade_price is not None,
        "available_to_customer": plan.available_to_customer,
        "package": package_body(plan.package),
    }


class CustomerTotalsSerializer(serializers.Serializer):
    shipping = serializers.CharField(allow_null=True)
    discount = serializers.CharField(allow_null=True)
    subtotal = serializers.CharField(allow_null=True)
    total = serializers.CharField(allow_null=True)


class CustomerShipmentItemSerializer(serializers.Serializer):
    name = serializers.CharField()
    thumbnail = serializers.URLField(allow_null=True)
    option = serializers.CharField(allow_null=True)


class CustomerShipmentSerializer(serializers.Serializer):
    """A shipment: shipped ones carry ship_date, tracking_url and items (a count in the
    list, the items in the detail); the others carry their issues. The detail adds the
    shipping address."""

    status = serializers.CharField(help_text='"Shipped on January 1, 2013", "Backordered", ...')
    ship_date = serializers.DateField(required=False)
    tracking_url = serializers.URLField(required=False)
    items = serializers.JSONField(required=False)
    issues = serializers.ListField(child=serializers.CharField(), required=False)
    shipping_address = CustomerAddressSerializer(required=False, allow_null=True)

    def to_representation(self, shipment):
        return shipment_body(shipment, self.context)


def shipment_body(shipment, context: Mapping[str, Any]) -> dict:
    """A shipment of context["order"]; context: customer (CustomerContext), detail."""
    from orders.selectors import shipment_address, shipment_issues

    order = context["order"]
    detail = context.get("detail", False)
    primary = context["customer"].primary_shipping.get(order.customer_id)
    body: dict[str, Any] = {}
    if shipment.status in SHIPPED_STATUSES:
        body["status"] = shipment_status_text(shipment, [])
        body["ship_date"] = shipment.ship_date.isoformat() if shipment.ship_date else None
        body["tracking_url"] = shipment.tracking_url or None
    else:
        issues = shipment_issues(shipment, order, primary)
        body["status"] = shipment_status_text(shipment, issues)
        body["issues"] = issues
    if detail:
        address = shipment_address(shipment, order, primary)
        body["shipping_address"] = CustomerAddressSerializer(address).data if address else None
    if shipment.status in SHIPPED_STATUSES:
        items = shipment.items.all()
        body["items"] = (
            [
                {"name": item.name, "thumbnail": item.thumbnail or None, "option": item.option}
                for item in items
            ]
            if detail
            else len(items)
        )
    return body


def shipment_status_text(shipment, issues: list[str]) -> str:
    """What the customer reads: "Shipped on January 1, 2013"; a queued shipment that cannot
    go out because of an issue is "Backordered"."""
    if shipment.status in SHIPPED_STATUSES:
        verb = "Delivered" if shipment.status == "delivered" else "Shipped"
        return f"{verb} on {long_date(shipment.ship_date)}" if shipment.ship_date else verb
    if shipment.status == "backordered" or issues:
        return "Backordered"
    return "Queued"


class CustomerOrderSerializer(ZonedRepresentationMixin, serializers.Serializer):
    """A completed order as the customer document shows it (list item)."""

    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    plan = CustomerPlanSerializer(allow_null=True)
    totals = CustomerTotalsSerializer(allow_null=True)
    created_at = serializers.CharField(help_text='"January 30, 2013"')
    paid_at = serializers.CharField(allow_null=True)
    refunded_at = serializers.CharField(allow_null=True)
    shipments = CustomerShipmentSerializer(many=True, required=False)

    detail = False

    class Meta:
        list_serializer_class = ZonedListSerializer

    def represent(self, order, zone: tzinfo) -> dict:
        context = {**self.context, "order": order, "detail": self.detail}
        body: dict[str, Any] = {
            "id": order.pk,
            "customer_id": order.customer_id,
            "plan": plan_body(order, context),
            "totals": self._totals(order),
            "created_at": long_date(order.date_added, zone),
            "paid_at": long_date(order.paid_at, zone),
            "refunded_at": long_date(order.refunded_at, zone),
        }
        if self.detail:
            address = order.billing_address
            body["billing_address"] = CustomerAddressSerializer(address).data if address else None
        shipments = order.shipments.all()
        if shipments or self.detail:
            body["shipments"] = [shipment_body(shipment, context) for shipment in shipments]
        return body

    def _totals(self, order) -> dict[str, str | None] | None:
        values = {total.code: total.value for total in order.totals.all()}
        if not values:
            return None
        text = cents_text if self.detail else ruby_decimal
        return {code: text(values.get(code)) for code in TOTAL_CODES}


class CustomerOrderDetailSerializer(CustomerOrderSerializer):
    """One completed order (/orders/{id}, /orders/latest): adds billing_address; shipments
    always present, with their shipping address and items."""

    billing_address = CustomerAddressSerializer(allow_null=True)
    detail = True


class CustomerOrderListResponseSerializer(serializers.Serializer):
    status = serializers.CharField(default="ok")
    orders = CustomerOrderSerializer(many=True)


class CustomerOrderResponseSerializer(serializers.Serializer):
    status = serializers.CharField(default="ok")
    order = CustomerOrderDetailSerializer()


class CustomerErrorSerializer(serializers.Serializer):
    status = serializers.CharField(default="error")
    messages = serializers.ListField(child=serializers.CharField())

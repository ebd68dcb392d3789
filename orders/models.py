import os
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import Client


class Location(models.Model):
    """A shop or production site an order is fulfilled from."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=60, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceType(models.Model):
    """A kind of work an order asks for; job-flow rules and imports refer to its slug."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    """A postal address; a client's primary shipping address is the fallback for shipments."""

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    address = models.CharField(max_length=255)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120)
    state = models.CharField(max_length=60, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="US")
    is_primary_shipping = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(is_primary_shipping=True),
                name="one_primary_shipping_address_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.address}, {self.city}"


class Package(models.Model):
    """What a plan ships; `required_option` names an option the customer must choose."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    shipping_domestic = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    shipping_international = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    items = models.JSONField(default=list, blank=True)
    required_option = models.CharField(
        max_length=60, blank=True, help_text="e.g. 'size'; empty when no option is required"
    )

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    name = models.CharField(max_length=120)
    css_class = models.SlugField(max_length=120, help_text="The `class` of the customer API.")
    description = models.TextField(blank=True)
    online_benefits = models.TextField(blank=True)
    annotations = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    duration = models.PositiveIntegerField(default=12, help_text="Months.")
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    upgrade_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    available_to_customer = models.BooleanField(default=True)
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )

    def __str__(self) -> str:
        return self.name


class OrderType(models.TextChoices):
    DELIVERY = "delivery", "Delivery"
    COLLECTION = "collection", "Collection"


class Order(models.Model):
    """An order. Its current stage lives in stages.OrderStatus (one source of truth)."""

    # unique through Meta.constraints: a plain unique index, without the `_like` twin Django
    # adds for unique=True (nothing searches numbers or hashes by LIKE)
    number = models.CharField(max_length=32, help_text="Human order number.")
    # NULL, not "", when absent: the unique constraint then ignores orders without one
    external_id = models.CharField(max_length=120, null=True, blank=True)  # noqa: DJ001
    hash = models.CharField(max_length=32, editable=False)

    customer = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    billing_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    shipping_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    group_order = models.ForeignKey(
        "group_orders.GroupOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,
    )

    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    telephone = models.CharField(max_length=40, blank=True)
    comment = models.TextField(blank=True)
    notify = models.BooleanField(null=True, blank=True)
    order_type = models.CharField(
        max_length=16, choices=OrderType.choices, default=OrderType.COLLECTION
    )
    order_date = models.DateField(null=True, blank=True)
    order_time = models.TimeField(null=True, blank=True)
    processed = models.BooleanField(default=False)
    total_items = models.PositiveIntegerField(default=0)
    order_total = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    payment = models.CharField(max_length=40, blank=True)
    invoice_prefix = models.CharField(max_length=40, blank=True)
    invoice_date = models.DateTimeField(null=True, blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_orders",
        db_index=False,
    )
    assignee_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_orders",
        db_index=False,
    )
    assignee_updated_at = models.DateTimeField(null=True, blank=True)

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)

    service_type = models.ForeignKey(
        ServiceType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    services_addons = models.JSONField(default=list, blank=True)
    delivery_rush = models.BooleanField(default=False)
    due_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    cancel_note = models.TextField(blank=True)

    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    is_on_hold = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=255, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    is_invalid = models.BooleanField(default=False)
    invalid_reason = models.CharField(max_length=255, blank=True)

    completion_requested_at = models.DateTimeField(null=True, blank=True)
    completion_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # a default, not auto_now_add: imports and demo data carry their own creation time
    date_added = models.DateTimeField(default=timezone.now)
    date_modified = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords(excluded_fields=["date_modified"])

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("request_completion", "Can request completion of an order"),
            ("view_own_orders", "Can see own completed orders (customer API)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="unique_order_number"),
            models.UniqueConstraint(fields=["hash"], name="unique_order_hash"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="unique_order_external_id",
            ),
            models.CheckConstraint(
                condition=Q(order_total__gte=0), name="order_total_not_negative"
            ),
        ]
        # Every index is paid for by every order an import writes, so: a foreign key is
        # served by the (fk, id) index that leads with it, and a key most orders leave empty
        # by a partial index (which also serves ON DELETE: `fk = x` implies NOT NULL).
        indexes = [
            models.Index(fields=["customer", "id"], name="order_customer_idx"),
            models.Index(
                fields=["customer", "completed_at"],
                condition=Q(completed_at__isnull=False),
                name="order_customer_done_idx",
            ),
            models.Index(fields=["location", "id"], name="order_location_idx"),
            models.Index(
                fields=["assignee", "id"],
                condition=Q(assignee__isnull=False),
                name="order_assignee_idx",
            ),
            models.Index(fields=["order_type", "id"], name="order_type_idx"),
            models.Index(fields=["service_type", "id"], name="order_service_type_idx"),
            models.Index(fields=["group_order", "id"], name="order_group_order_idx"),
            # (field, id) pairs: keyset pagination for every ordering the list offers
            models.Index(fields=["date_added", "id"], name="order_date_added_idx"),
            models.Index(fields=["order_date", "id"], name="order_order_date_idx"),
            models.Index(fields=["date_modified", "id"], name="order_date_modified_idx"),
            models.Index(fields=["order_total", "id"], name="order_total_idx"),
            models.Index(fields=["telephone"], name="order_telephone_idx"),
            models.Index(fields=["id"], condition=Q(is_on_hold=True), name="order_on_hold_idx"),
            *(
                models.Index(
                    fields=[name],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"order_{short}_idx",
                )
                for name, short in [
                    ("address", "address"),
                    ("billing_address", "billing_addr"),
                    ("shipping_address", "shipping_addr"),
                    ("plan", "plan"),
                    ("assignee_group", "assignee_group"),
                    ("completion_requested_by", "completion_by"),
                ]
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    @staticmethod
    def new_hash() -> str:
        return uuid.uuid4().hex

    @staticmethod
    def new_hashes(count: int) -> list[str]:
        """`count` hashes like `new_hash` (random UUID4s as hex), from one read of the
        system's random source instead of one per hash (bulk imports)."""
        raw = os.urandom(16 * count).hex()
        variant = "89ab"
        return [
            f"{raw[i : i + 12]}4{raw[i + 13 : i + 16]}{variant[int(raw[i + 16], 16) & 3]}"
            f"{raw[i + 17 : i + 32]}"
            for i in range(0, 32 * count, 32)
        ]


class OrderNumberCounter(models.Model):
    """The last order number handed out, for databases without sequences (SQLite).

    On PostgreSQL numbers come from the sequence `order_number_seq` instead (no row lock
    held for the length of the creating transaction).
    """

    name = models.CharField(max_length=40, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    name = models.CharField(max_length=200)
    option = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    subtotal = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="order_line_price_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class OrderTotal(models.Model):
    """One row of an order's `order_totals`: subtotal, shipping, discount, tax, total…"""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="totals")
    code = models.SlugField(max_length=40)
    title = models.CharField(max_length=120)
    value = models.DecimalField(max_digits=12, decimal_places=4)
    priority = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "code"], name="unique_order_total_code")
        ]

    def __str__(self) -> str:
        return f"{self.title}: {self.value}"


class Shipment(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BACKORDERED = "backordered", "Backordered"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    ship_date = models.DateField(null=True, blank=True)
    tracking_url = models.URLField(blank=True)
    shipping_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Shipment {self.pk} of {self.order_id}"


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=200)
    thumbnail = models.URLField(blank=True)
    option = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class OrderRequest(models.Model):
    """A request that may become an order (e.g. an appointment booked before ordering)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONVERTED = "converted", "Converted to an order"
        DECLINED = "declined", "Declined"

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="order_requests"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="order_requests"
    )
    service_type = models.ForeignKey(
        ServiceType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )
    notes = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Order request {self.pk}"


class JobFlowRule(models.Model):
    """A job-flow rule: before an order may complete, `stage` must appear in its history.

    A rule applies to the orders of its service type, or to every order when the service
    type is empty. When an order is asked to complete, the active rules that apply to it are
    checked in (position, id) order; the first one unmet refuses the completion with its own
    `message` (error code 20 of the complete v2 API).
    """

    service_type = models.ForeignKey(
        ServiceType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="job_flow_rules",
        help_text="Empty: the rule applies to every order.",
    )
    stage = models.ForeignKey(
        "stages.Stage",
        on_delete=models.PROTECT,
        related_name="job_flow_rules",
        help_text="The stage that must appear in the order's stage history.",
    )
    message = models.CharField(
        max_length=255, help_text='Shown when the stage is missing, e.g. "Needs Backside Coat!"'
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Rules are checked in this order (lowest first)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_type", "stage"],
                condition=Q(service_type__isnull=False),
                name="unique_job_flow_rule_per_service_type",
            ),
            models.UniqueConstraint(
                fields=["stage"],
                condition=Q(service_type__isnull=True),
                name="unique_job_flow_rule_for_all_orders",
            ),
        ]
        indexes = [
            models.Index(fields=["service_type", "position", "id"], name="job_flow_rule_order_idx")
        ]

    def __str__(self) -> str:
        scope = self.service_type.name if self.service_type_id else "All orders"
        return f"{scope}: {self.message}"

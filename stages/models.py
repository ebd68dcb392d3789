from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a hex colour like #4caf50.")


class Stage(models.Model):
    """A step of the order lifecycle; `allowed_next` is the transition graph, as data."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    is_terminal = models.BooleanField(default=False)
    colour = models.CharField(
        max_length=7, default="#607d8b", validators=[HEX_COLOUR], help_text="Hex, e.g. #4caf50"
    )
    allowed_next = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="allowed_previous"
    )
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords(m2m_fields=[allowed_next])

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ActorKind(models.TextChoices):
    USER = "user", "User"
    APPLICATION = "application", "Application"
    SYSTEM = "system", "System"


class OrderStatus(models.Model):
    """The current status of one order or order request, with denormalised details."""

    order = models.OneToOneField(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="current_status",
    )
    order_request = models.OneToOneField(
        "orders.OrderRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="current_status",
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", db_index=False)
    stage_trigger = models.CharField(max_length=120, blank=True)
    stage_at = models.DateTimeField(help_text="When the current stage began.")
    status_updated_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    event_slug = models.CharField(max_length=120, blank=True)

    # client (from the `client` hash, or looked up from the order)
    client = models.ForeignKey(
        "accounts.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_billing_postal_code = models.CharField(max_length=20, blank=True)

    # appointment
    appt_id = models.BigIntegerField(null=True, blank=True)
    appt_confirmed = models.CharField(max_length=60, blank=True)
    appt_duration_time = models.CharField(max_length=60, blank=True)
    appt_start_at = models.DateTimeField(null=True, blank=True)
    appt_stop_at = models.DateTimeField(null=True, blank=True)
    appt_cancel_reason = models.CharField(max_length=255, blank=True)
    appt_cancel_note = models.TextField(blank=True)

    # order details
    notes = models.TextField(blank=True)
    delivery_rush = models.BooleanField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    external_id = models.CharField(max_length=120, blank=True)
    service_type = models.CharField(max_length=60, blank=True)
    services_addon_array = models.JSONField(default=list, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    cancel_note = models.TextField(blank=True)

    created_by = models.CharField(max_length=255, blank=True)
    updated_by = models.CharField(max_length=255, blank=True)
    updated_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "order_statuses"
        verbose_name_plural = "order statuses"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(order__isnull=False, order_request__isnull=True)
                    | Q(order__isnull=True, order_request__isnull=False)
                ),
                name="order_status_for_exactly_one_subject",
            )
        ]
        indexes = [models.Index(fields=["stage", "stage_at"], name="order_status_stage_idx")]

    def __str__(self) -> str:
        return f"{self.stage} since {self.stage_at:%Y-%m-%d %H:%M}"


class OrderStage(models.Model):
    """Append-only stage history of an order or order request."""

    # Every index is paid for by every stage row (an import writes one per order): the
    # subjects are served by the (subject, stage_at, id) indexes, the catalogue keys by none
    # (a handful of stages, never deleted while used), the optional actors by partial ones.
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="stages",
        db_index=False,
    )
    order_request = models.ForeignKey(
        "orders.OrderRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="stages",
        db_index=False,
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", db_index=False)
    previous_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    stage_trigger = models.CharField(max_length=120, blank=True)
    stage_at = models.DateTimeField(help_text="When the stage happened (stage_at_mt, in UTC).")
    source_created_at = models.DateTimeField(
        null=True, blank=True, help_text="created_at_mt, in UTC."
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_status = models.BooleanField(
        default=False, help_text="Whether this row moved the current status."
    )

    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_application = models.ForeignKey(
        "accounts.Application",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(
        max_length=255, blank=True, help_text="Who acted, as shown to people."
    )
    created_by = models.CharField(max_length=255, blank=True)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text="The user named by created_by_id, if any.",
    )
    updated_by = models.CharField(max_length=255, blank=True)
    updated_by_id = models.BigIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    event_slug = models.CharField(max_length=120, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "order_stages"
        ordering = ["stage_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(order__isnull=False, order_request__isnull=True)
                    | Q(order__isnull=True, order_request__isnull=False)
                ),
                name="order_stage_for_exactly_one_subject",
            )
        ]
        indexes = [
            models.Index(fields=["order", "stage_at", "id"], name="order_stage_order_idx"),
            models.Index(
                fields=["order_request", "stage_at", "id"],
                condition=Q(order_request__isnull=False),
                name="order_stage_request_idx",
            ),
            *(
                models.Index(
                    fields=[name],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"stage_{short}_idx",
                )
                for name, short in [
                    ("actor_user", "actor_user"),
                    ("actor_application", "actor_app"),
                    ("created_by_user", "created_by"),
                ]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} at {self.stage_at:%Y-%m-%d %H:%M}"

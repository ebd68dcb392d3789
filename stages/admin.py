"""Stages in the admin: the catalogue, read-only status and history, the dashboard, and the
pieces the orders admin includes (import from here):

    from stages.admin import OrderStageTimelineInline, StuckInStageFilter, advance_stage

    class OrderAdmin(admin.ModelAdmin):
        inlines = [..., OrderStageTimelineInline]
        actions = [..., advance_stage]
        list_filter = [..., StuckInStageFilter]
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Window
from django.db.models.functions import Lag
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.actors import Actor
from config.admin_history import ReadOnlyHistoryAdmin
from config.api.errors import ApiError
from stages.charts import Bar, bar_chart, human_duration
from stages.models import OrderStage, OrderStatus, Stage
from stages.mountain_time import MOUNTAIN
from stages.selectors import STUCK_HOURS, orders_stuck_in_stage, stage_dashboard
from stages.services import stage_record

# The dashboard's period choices for the median: days (None: all time)
DASHBOARD_PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365, "all": None}
DASHBOARD_DEFAULT_PERIOD = "90"
STUCK_LABELS = {24: "over 24 hours", 48: "over 48 hours", 72: "over 72 hours", 168: "over a week"}


def _mountain(value) -> str:
    return f"{value.astimezone(MOUNTAIN):%Y-%m-%d %H:%M %Z}" if value else "—"


def _swatch(stage: Stage) -> str:
    return format_html(
        '<span style="display:inline-block;width:.8em;height:.8em;border-radius:50%;'
        'background:{};margin-right:.4em;vertical-align:middle"></span>{}',
        stage.colour,
        stage.name,
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and current status change only through stage_record."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# ---------------------------------------------------------------------------- catalogue


class StageAdminForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "slug", "position", "colour", "is_terminal", "is_active", "allowed_next"]

    def clean(self):
        cleaned = super().clean()
        allowed = cleaned.get("allowed_next")
        if cleaned.get("is_terminal") and allowed:
            raise ValidationError(
                {"allowed_next": "A final stage has no next stages: an order cannot leave it."}
            )
        if self.instance.pk and allowed and self.instance in allowed:
            raise ValidationError(
                {"allowed_next": "Recording a stage again is always allowed; do not list it."}
            )
        return cleaned


@admin.register(Stage)
class StageAdmin(ReadOnlyHistoryAdmin):
    form = StageAdminForm
    list_display = ["swatch", "slug", "position", "is_terminal", "is_active", "next_stages"]
    list_filter = ["is_terminal", "is_active"]
    search_fields = ["name", "slug"]
    ordering = ["position", "id"]
    filter_horizontal = ["allowed_next"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("allowed_next")

    def get_readonly_fields(self, request, obj=None):
        # integrators post slugs: renaming one would break them
        return ["slug"] if obj is not None else []

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else {"slug": ["name"]}

    @admin.display(description="stage", ordering="name")
    def swatch(self, stage: Stage) -> str:
        return _swatch(stage)

    @admin.display(description="may move to")
    def next_stages(self, stage: Stage) -> str:
        names = sorted(stage.allowed_next.all(), key=lambda s: (s.position, s.pk))
        return ", ".join(s.name for s in names) or "—"

    def get_urls(self):
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="stages_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        """Orders per stage and the median time in each stage, as inline SVG bar charts."""
        if not (
            self.has_view_permission(request) and request.user.has_perm("stages.view_orderstatus")
        ):
            raise PermissionDenied
        period = request.GET.get("days", DASHBOARD_DEFAULT_PERIOD)
        if period not in DASHBOARD_PERIODS:
            period = DASHBOARD_DEFAULT_PERIOD
        days = DASHBOARD_PERIODS[period]
        since = timezone.now() - timedelta(days=days) if days else None
        summaries = stage_dashboard(since=since)
        statuses = reverse("admin:stages_orderstatus_changelist")
        orders_chart = bar_chart(
            "Orders in each stage now",
            [
                Bar(
                    label=s.stage.name,
                    value=s.orders,
                    text=str(s.orders),
                    colour=s.stage.colour,
                    link=f"{statuses}?stage__id__exact={s.stage.pk}",
                )
                for s in summaries
            ],
        )
        median_chart = bar_chart(
            "Median time in each stage",
            [
                Bar(
                    label=s.stage.name,
                    value=s.median_seconds,
                    text=f"{human_duration(s.median_seconds)} ({s.stays} stay{pluralize(s.stays)})"
                    if s.stays
                    else "no finished stays",
                    colour=s.stage.colour,
                )
                for s in summaries
                if not s.stage.is_terminal
            ],
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Stage dashboard",
            "opts": self.model._meta,
            "charts": [orders_chart, median_chart],
            "rows": [
                {
                    "stage": s.stage,
                    "orders": s.orders,
                    "stays": s.stays,
                    "median": human_duration(s.median_seconds),
                    "median_seconds": s.median_seconds,
                }
                for s in summaries
            ],
            "total_orders": sum(s.orders for s in summaries),
            "periods": list(DASHBOARD_PERIODS),
            "period": period,
        }
        return TemplateResponse(request, "admin/stages/dashboard.html", context)


# ------------------------------------------------------------------ status and history


@admin.register(OrderStatus)
class OrderStatusAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "stage_swatch",
        "stage_at_mt",
        "stage_trigger",
        "client",
        "status_updated_at",
    ]
    list_filter = ["stage"]
    search_fields = ["order__number", "order__external_id", "external_id", "client__name"]
    list_select_related = ["order", "order_request", "stage", "client"]
    date_hierarchy = "stage_at"

    @admin.display(description="order")
    def subject(self, status: OrderStatus) -> str:
        return str(status.order or status.order_request)

    @admin.display(description="stage", ordering="stage__position")
    def stage_swatch(self, status: OrderStatus) -> str:
        return _swatch(status.stage)

    @admin.display(description="since (Mountain Time)", ordering="stage_at")
    def stage_at_mt(self, status: OrderStatus) -> str:
        return _mountain(status.stage_at)


@admin.register(OrderStage)
class OrderStageAdmin(ReadOnlyAdmin):
    list_display = [
        "stage_at_mt",
        "subject",
        "stage_swatch",
        "previous_stage",
        "stage_trigger",
        "actor_kind",
        "actor_label",
        "created_by",
        "updated_status",
    ]
    list_filter = ["stage", "actor_kind", "updated_status"]
    search_fields = ["order__number", "stage_trigger", "event_slug", "created_by", "actor_label"]
    list_select_related = ["order", "order_request", "stage", "previous_stage"]
    date_hierarchy = "stage_at"

    @admin.display(description="order")
    def subject(self, row: OrderStage) -> str:
        return str(row.order or row.order_request)

    @admin.display(description="stage", ordering="stage__position")
    def stage_swatch(self, row: OrderStage) -> str:
        return _swatch(row.stage)

    @admin.display(description="when (Mountain Time)", ordering="stage_at")
    def stage_at_mt(self, row: OrderStage) -> str:
        return _mountain(row.stage_at)


# ------------------------------------------------- for the orders admin: inline, action, filter


class OrderStageTimelineInline(admin.TabularInline):
    """The order's stage history, oldest first, read-only (for the Order change page)."""

    model = OrderStage
    fk_name = "order"
    verbose_name = "stage"
    verbose_name_plural = "stage timeline"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    fields = [
        "stage_at_mt",
        "stage_swatch",
        "after",
        "stage_trigger",
        "acted_by",
        "created_by",
        "updated_status",
        "notes",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # the time since the row before (the window runs over this order's rows only)
        return (
            super()
            .get_queryset(request)
            .select_related("stage", "actor_user", "actor_application")
            .annotate(
                before_at=Window(
                    Lag("stage_at"),
                    partition_by=[F("order_id")],
                    order_by=[F("stage_at").asc(), F("id").asc()],
                )
            )
            .order_by("stage_at", "id")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="when (Mountain Time)")
    def stage_at_mt(self, row: OrderStage) -> str:
        return _mountain(row.stage_at)

    @admin.display(description="stage")
    def stage_swatch(self, row: OrderStage) -> str:
        return _swatch(row.stage)

    @admin.display(description="after")
    def after(self, row: OrderStage) -> str:
        before = getattr(row, "before_at", None)
        if before is None:
            return "—"
        return human_duration((row.stage_at - before).total_seconds())

    @admin.display(description="who")
    def acted_by(self, row: OrderStage) -> str:
        return f"{row.get_actor_kind_display()}: {row.actor_label or row.created_by}"


class AdvanceStageForm(forms.Form):
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.filter(is_active=True).order_by("position", "id"),
        help_text="Each order moves only if its current stage allows it.",
    )
    stage_trigger = forms.CharField(max_length=120, initial="admin", required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


@admin.action(description="Advance stage…")
def advance_stage(modeladmin, request, queryset):
    """Record a chosen stage for each selected order through stage_record, one transaction
    per order, and report per order: moved, or refused and why."""
    if not request.user.has_perm("stages.add_orderstage"):
        modeladmin.message_user(
            request, "You may not record stages (needs stages.add_orderstage).", messages.ERROR
        )
        return None
    orders = list(queryset.select_related("current_status__stage").order_by("pk"))
    form = AdvanceStageForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Advance stage",
            "intro": (
                "Each order moves only if its current stage allows the move; the others are "
                "reported with the reason."
            ),
            "submit": "Record stage",
            "opts": modeladmin.model._meta,
            "form": form,
            "orders": orders,
            "count": len(orders),
            "action": "advance_stage",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/stages/advance_stage.html", context)

    stage = form.cleaned_data["stage"]
    actor = Actor.for_user(request.user)
    moved, unchanged, refused = [], [], {}
    for order in orders:
        try:
            recorded = stage_record(
                order=order,
                stage=stage,
                actor=actor,
                stage_trigger=form.cleaned_data["stage_trigger"],
                notes=form.cleaned_data["notes"],
            )
        except ApiError as error:
            reason = next(iter(error.errors.values()), [error.message])[0]
            refused.setdefault(reason, []).append(order.number)
            continue
        (moved if recorded.moved else unchanged).append(order.number)
    if moved:
        modeladmin.message_user(
            request, f"Moved to {stage.name}: {', '.join(moved)}.", messages.SUCCESS
        )
    if unchanged:
        modeladmin.message_user(
            request,
            f"Recorded in history only (a later stage is current): {', '.join(unchanged)}.",
            messages.WARNING,
        )
    for reason, numbers in refused.items():
        modeladmin.message_user(
            request, f"Not moved ({', '.join(numbers)}): {reason}", messages.ERROR
        )
    return None


class StuckInStageFilter(admin.SimpleListFilter):
    """Orders whose current (non-final) stage was recorded more than N hours ago."""

    title = "stuck in stage"
    parameter_name = "stuck_hours"

    def lookups(self, request, model_admin):
        return [
            (str(hours), STUCK_LABELS.get(hours, f"over {hours} hours")) for hours in STUCK_HOURS
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in {str(hours) for hours in STUCK_HOURS}:
            return queryset
        return orders_stuck_in_stage(queryset, hours=int(value))

"""Orders in the admin: where staff live.

State never changes by editing a field: stage, flags, completion and version are read-only,
and every change (the form, the inlines, the actions) goes through orders.services (or
stages.services for the stage), which lock the order, record who acted and bump `version`.
Catalogue models (locations, service types, addresses, plans, packages) are reference data
without state rules and use the admin's plain saves.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from accounts.actors import Actor
from accounts.models import User
from config.admin_history import ReadOnlyHistoryAdmin
from config.api.conditional import PreconditionFailed
from config.api.errors import ApiError
from group_orders.admin_links import job_fieldsets
from group_orders.models import Job
from orders import services
from orders.exports import orders_csv_lines, orders_xlsx
from orders.filters import order_search_q
from orders.models import (
    Address,
    JobFlowRule,
    Location,
    Order,
    OrderLine,
    OrderNumberCounter,
    OrderRequest,
    OrderTotal,
    Package,
    Plan,
    ServiceType,
    Shipment,
    ShipmentItem,
)
from orders.selectors import shipment_issues
from orders.services.completion import COMPLETE_STAGE
from orders.templatetags.job_tracker import worker_status
from stages.admin import OrderStageTimelineInline, StuckInStageFilter, advance_stage
from stages.models import Stage

# ---------------------------------------------------------------------------- large tables


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to EXACT_UP_TO rows and estimates beyond (PostgreSQL's planner
    estimate), so a changelist over a million orders never runs a full COUNT(*)."""

    EXACT_UP_TO = 10_000
    IDS_FIRST_FROM = 500  # rows skipped: from here on a page reads its ids first

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        exact = queryset.order_by()[: self.EXACT_UP_TO + 1].count()
        if exact <= self.EXACT_UP_TO:
            return exact
        return max(estimated_count(queryset) or 0, exact)

    def page(self, number):
        """Deep pages read the ids of the page first (an index walk over the skipped rows
        without the joins), then the page's rows by id: page 1,000 of a million orders takes
        23 ms instead of 280."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < self.IDS_FIRST_FROM or not hasattr(self.object_list, "values_list"):
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


def estimated_count(queryset) -> int | None:
    """The planner's row estimate for a queryset: pg_class.reltuples for a whole table,
    EXPLAIN's "Plan Rows" for a filtered one. None where the database cannot say."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    if not queryset.query.where:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        if row and row[0] and row[0] > 0:
            return int(row[0])
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTableAdmin(admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


def _error_text(error: ApiError) -> str:
    return next(iter(error.errors.values()), [error.message])[0]


class ServiceSavedPartAdmin(LargeTableAdmin):
    """Lines, totals, shipments and items are saved through order_part_save/delete."""

    def save_model(self, request, obj, form, change):
        services.order_part_save(part=obj, actor=_actor(request))

    def delete_model(self, request, obj):
        services.order_part_delete(part=obj, actor=_actor(request))

    def delete_queryset(self, request, queryset):
        for part in queryset:
            services.order_part_delete(part=part, actor=_actor(request))


# ---------------------------------------------------------------------------- filters


class StageFilter(admin.SimpleListFilter):
    title = "stage"
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in Stage.objects.order_by("position", "id")] + [
            ("none", "No stage yet")
        ]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(current_status__isnull=True)
        if self.value() and self.value().isascii() and self.value().isdigit():
            return queryset.filter(current_status__stage_id=int(self.value()))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """Staff only (a plain related filter would list every user, customers included)."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        staff = User.objects.filter(employee__isnull=False, is_active=True).order_by("email")
        return [("none", "Unassigned"), *((str(u.pk), u.email) for u in staff)]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        if self.value() and self.value().isascii() and self.value().isdigit():
            return queryset.filter(assignee_id=int(self.value()))
        return queryset


class CompletedFilter(admin.SimpleListFilter):
    title = "completed"
    parameter_name = "completed"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Completed"),
            ("no", "Not completed"),
            ("requested", "Completion requested (waiting for the worker)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(completed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(completed_at__isnull=True)
        if self.value() == "requested":
            return queryset.filter(completion_requested_at__isnull=False)
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    """Soft-deleted orders are hidden unless asked for."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted only"), ("all", "All, deleted included")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Not deleted",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_deleted=True)
        if self.value() == "all":
            return queryset
        return queryset.filter(is_deleted=False)


# ---------------------------------------------------------------------------- inlines


class OrderPartInline(admin.TabularInline):
    extra = 0
    show_change_link = True


class OrderLineForm(forms.ModelForm):
    class Meta:
        model = OrderLine
        fields = ["order", "name", "option", "quantity", "price", "subtotal", "comment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subtotal"].required = False
        self.fields["subtotal"].help_text = "Price × quantity when left empty."

    def clean_subtotal(self):
        return self.cleaned_data.get("subtotal") or None


class OrderLineInline(OrderPartInline):
    model = OrderLine
    form = OrderLineForm
    fields = ["name", "option", "quantity", "price", "subtotal", "comment"]


class OrderTotalInline(OrderPartInline):
    model = OrderTotal
    fields = ["code", "title", "value", "priority"]


class ShipmentInline(OrderPartInline):
    model = Shipment
    fields = ["status", "ship_date", "tracking_url", "shipping_address", "item_count", "issues"]
    readonly_fields = ["item_count", "issues"]
    autocomplete_fields = ["shipping_address"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("shipping_address", "order__plan__package", "order__shipping_address")
            .prefetch_related("items")
        )

    @admin.display(description="items")
    def item_count(self, shipment: Shipment) -> int:
        return len(shipment.items.all()) if shipment.pk else 0

    @admin.display(description="issues")
    def issues(self, shipment: Shipment) -> str:
        if not shipment.pk:
            return "—"
        order = shipment.order
        primary = (
            Address.objects.filter(client_id=order.customer_id, is_primary_shipping=True).first()
            if order.customer_id
            else None
        )
        return ", ".join(shipment_issues(shipment, order, primary)) or "—"


# ---------------------------------------------------------------------------- actions


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 60}))


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(employee__isnull=False, is_active=True).order_by("email"),
        required=False,
        empty_label="— nobody (unassign) —",
    )


def _action_form(modeladmin, request, queryset, *, form_class, action, title, intro, submit):
    """Show `form_class` for the selected orders; the bound, valid form once submitted."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form, None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit": submit,
        "opts": modeladmin.model._meta,
        "form": form,
        "orders": list(queryset.order_by("pk")[:1000]),
        "count": queryset.count(),
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return None, TemplateResponse(request, "admin/order_action_form.html", context)


def _apply(modeladmin, request, queryset, verb: str, change) -> None:
    """Run `change(order)` per order (each its own transaction) and report the outcome."""
    done, refused = [], {}
    for order in queryset.order_by("pk"):
        try:
            change(order)
        except ApiError as error:
            refused.setdefault(_error_text(error), []).append(order.number)
            continue
        done.append(order.number)
    if done:
        modeladmin.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
    for reason, numbers in refused.items():
        modeladmin.message_user(
            request, f"Not {verb.lower()} ({', '.join(numbers)}): {reason}", messages.ERROR
        )


@admin.action(description="Put on hold…", permissions=["change"])
def hold_orders(modeladmin, request, queryset):
    form, page = _action_form(
        modeladmin,
        request,
        queryset,
        form_class=ReasonForm,
        action="hold_orders",
        title="Put orders on hold",
        intro="The orders keep their stage; the hold flag stops work on them until released.",
        submit="Put on hold",
    )
    if page:
        return page
    reason, actor = form.cleaned_data["reason"], _actor(request)
    _apply(
        modeladmin,
        request,
        queryset,
        "Put on hold",
        lambda order: services.order_hold(order=order, actor=actor, reason=reason),
    )
    return None


@admin.action(description="Release from hold", permissions=["change"])
def release_orders(modeladmin, request, queryset):
    actor = _actor(request)
    _apply(
        modeladmin,
        request,
        queryset,
        "Released",
        lambda order: services.order_release(order=order, actor=actor),
    )


@admin.action(description="Mark invalid…", permissions=["change"])
def mark_orders_invalid(modeladmin, request, queryset):
    form, page = _action_form(
        modeladmin,
        request,
        queryset,
        form_class=ReasonForm,
        action="mark_orders_invalid",
        title="Mark orders invalid",
        intro="Say why; the reason is shown on the order and kept in its history.",
        submit="Mark invalid",
    )
    if page:
        return page
    reason, actor = form.cleaned_data["reason"], _actor(request)
    _apply(
        modeladmin,
        request,
        queryset,
        "Marked invalid",
        lambda order: services.order_mark_invalid(order=order, actor=actor, reason=reason),
    )
    return None


@admin.action(description="Assign to…", permissions=["change"])
def assign_orders(modeladmin, request, queryset):
    form, page = _action_form(
        modeladmin,
        request,
        queryset,
        form_class=AssignForm,
        action="assign_orders",
        title="Assign orders",
        intro="Give the orders to a staff member, or to nobody.",
        submit="Assign",
    )
    if page:
        return page
    assignee, actor = form.cleaned_data["assignee"], _actor(request)
    _apply(
        modeladmin,
        request,
        queryset,
        "Assigned",
        lambda order: services.order_assign(order=order, actor=actor, assignee=assignee),
    )
    return None


@admin.action(description="Delete (hide) selected orders", permissions=["delete"])
def soft_delete_orders(modeladmin, request, queryset):
    actor = _actor(request)
    _apply(
        modeladmin,
        request,
        queryset,
        "Deleted",
        lambda order: services.order_soft_delete(order=order, actor=actor),
    )


@admin.action(description="Request completion", permissions=["request_completion"])
def request_completion(modeladmin, request, queryset):
    """The v2 complete endpoint's service, per order (each its own transaction); reports
    per order what happened: requested (with its job) or refused with the document's code."""
    actor = _actor(request)
    requested, refused = [], {}
    for order in queryset.order_by("pk"):
        try:
            outcome = services.order_completion_request(order_number=order.number, actor=actor)
        except services.CompletionRefused as refusal:
            refused.setdefault((refusal.code, refusal.message), []).append(order.number)
            continue
        requested.append(f"{order.number} (job #{outcome.job.pk})")
    if requested:
        modeladmin.message_user(
            request,
            f"Completion requested: {', '.join(requested)}. "
            "The job tracker completes them and records the complete stage.",
            messages.SUCCESS,
        )
        warning = worker_status().warning
        if warning:
            modeladmin.message_user(request, warning, messages.WARNING)
    for (code, message), numbers in refused.items():
        modeladmin.message_user(
            request,
            f"Not requested ({', '.join(numbers)}): Error Code {code}, {message}",
            messages.ERROR,
        )


def _export_name(extension: str) -> str:
    return f"orders-{timezone.localtime():%Y%m%d-%H%M%S}.{extension}"


@admin.action(description="Export selected to CSV", permissions=["view"])
def export_orders_csv(modeladmin, request, queryset):
    response = StreamingHttpResponse(orders_csv_lines(queryset), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@admin.action(description="Export selected to XLSX", permissions=["view"])
def export_orders_xlsx(modeladmin, request, queryset):
    return FileResponse(
        orders_xlsx(queryset),
        as_attachment=True,
        filename=_export_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ---------------------------------------------------------------------------- order


class OrderAdminForm(forms.ModelForm):
    """Runs the services' checks in clean(), so a refusal shows next to the field.

    `loaded_version` carries the version the page was opened at: a save on top of someone
    else's newer save is refused instead of silently overwriting it.
    """

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Order
        fields = [
            "external_id",
            "customer",
            "location",
            "service_type",
            "order_type",
            "order_date",
            "order_time",
            "due_date",
            "plan",
            "services_addons",
            "delivery_rush",
            "first_name",
            "last_name",
            "email",
            "telephone",
            "notify",
            "comment",
            "address",
            "billing_address",
            "shipping_address",
            "processed",
            "payment",
            "invoice_prefix",
            "invoice_date",
            "paid_at",
            "refunded_at",
            "assignee",
            "assignee_group",
            "notes",
            "cancel_reason",
            "cancel_note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get("loaded_version")
        if self.instance.pk is not None and loaded is not None:
            current = Order.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            if current and current[0] != loaded:
                raise ValidationError(STALE_ORDER_MESSAGE)
        try:
            if self.instance.pk is None:
                services.order_draft_check(draft_from_form(cleaned))
            else:
                services.order_changes_check(changes_from_form(self))
        except ApiError as error:
            raise ValidationError(
                {
                    _form_field(name): messages_
                    for name, messages_ in error.errors.items()
                    if _form_field(name) in self.fields
                }
                or error.message
            ) from None
        return cleaned


STALE_ORDER_MESSAGE = (
    "Someone else saved this order after you opened it. Your changes were not saved: "
    "reload the page to see theirs, then apply yours again."
)


def _form_field(param: str) -> str:
    return param.removesuffix("_id") if param.endswith("_id") and param != "external_id" else param


DRAFT_FIELDS = {
    name for name in services.OrderDraft.__dataclass_fields__ if name not in ("lines", "totals")
}


def draft_from_form(cleaned: dict) -> services.OrderDraft:
    values = {name: cleaned.get(name) for name in DRAFT_FIELDS if name in cleaned}
    values = {name: value for name, value in values.items() if value is not None}
    values.setdefault("first_name", "")
    for name in ("total_items", "order_total"):
        values.pop(name, None)  # follow the lines and totals
    return services.OrderDraft(**values)


def changes_from_form(form) -> dict:
    return {
        name: form.cleaned_data.get(name)
        for name in form.changed_data
        if name in services.ORDER_UPDATABLE_FIELDS
    }


ORDER_STATE_FIELDS = [
    "number",
    "hash",
    "current_stage",
    "is_on_hold",
    "hold_reason",
    "held_at",
    "is_invalid",
    "invalid_reason",
    "is_deleted",
    "deleted_at",
    "completion_requested_at",
    "completion_requested_by",
    "completed_at",
    "completion_state",
    "completion_state_text",
    "version",
    "total_items",
    "order_total",
    "assignee_updated_at",
    "group_order",
    "created_by",
    "ip_address",
    "user_agent",
    "date_added",
    "date_modified",
]


@admin.register(Order)
class OrderAdmin(ReadOnlyHistoryAdmin, LargeTableAdmin):
    form = OrderAdminForm
    list_display = [
        "number",
        "customer_name",
        "customer",
        "stage",
        "order_type",
        "location",
        "order_total",
        "date_added",
        "assignee",
        "flags",
    ]
    list_select_related = ["customer", "location", "assignee", "current_status__stage"]
    list_filter = [
        StageFilter,
        StuckInStageFilter,
        "order_type",
        "location",
        "service_type",
        AssigneeFilter,
        ("date_added", admin.DateFieldListFilter),
        ("order_date", admin.DateFieldListFilter),
        "processed",
        "is_on_hold",
        "is_invalid",
        CompletedFilter,
        DeletedFilter,
    ]
    search_fields = ["number"]  # see get_search_results: exact/prefix lookups an index serves
    search_help_text = (
        "Number, external id, e-mail or telephone (exact), or first/last name (beginning)."
    )
    date_hierarchy = "date_added"
    ordering = ["-id"]
    autocomplete_fields = [
        "customer",
        "location",
        "address",
        "billing_address",
        "shipping_address",
        "plan",
        "service_type",
        "assignee",
        "assignee_group",
    ]
    readonly_fields = ORDER_STATE_FIELDS
    fieldsets = [
        (
            "Order",
            {
                "fields": [
                    ("number", "external_id", "current_stage"),
                    ("customer", "location", "service_type"),
                    ("order_type", "order_date", "order_time", "due_date"),
                    ("plan", "services_addons", "delivery_rush"),
                ]
            },
        ),
        (
            "Contact",
            {"fields": [("first_name", "last_name"), ("email", "telephone"), "notify", "comment"]},
        ),
        (
            "Addresses",
            {"fields": ["address", "billing_address", "shipping_address"]},
        ),
        (
            "Payment",
            {
                "fields": [
                    ("processed", "payment"),
                    ("invoice_prefix", "invoice_date"),
                    ("paid_at", "refunded_at"),
                    ("total_items", "order_total"),
                ]
            },
        ),
        (
            "Work",
            {
                "fields": [
                    ("assignee", "assignee_group", "assignee_updated_at"),
                    "notes",
                    ("cancel_reason", "cancel_note"),
                ]
            },
        ),
        (
            "State (changed by actions only)",
            {
                "fields": [
                    ("is_on_hold", "hold_reason", "held_at"),
                    ("is_invalid", "invalid_reason"),
                    ("is_deleted", "deleted_at"),
                    ("completion_requested_at", "completion_requested_by", "completed_at"),
                    "completion_state",
                    ("version", "hash"),
                ]
            },
        ),
        (
            "Origin",
            {
                "classes": ["collapse"],
                "fields": [
                    ("group_order", "created_by"),
                    ("ip_address", "user_agent"),
                    ("date_added", "date_modified"),
                ],
            },
        ),
    ]
    inlines = [OrderLineInline, OrderTotalInline, ShipmentInline, OrderStageTimelineInline]
    actions = [
        hold_orders,
        release_orders,
        mark_orders_invalid,
        assign_orders,
        advance_stage,
        request_completion,
        soft_delete_orders,
        export_orders_csv,
        export_orders_xlsx,
    ]
    history_list_display = ["version", "is_on_hold", "is_invalid", "is_deleted"]

    # --- list

    @admin.display(description="name", ordering="last_name")
    def customer_name(self, order: Order) -> str:
        return f"{order.first_name} {order.last_name}".strip()

    @admin.display(description="stage", ordering="current_status__stage__position")
    def stage(self, order: Order) -> str:
        status = getattr(order, "current_status", None)
        if status is None:
            return "—"
        return format_html(
            '<span style="color:{}">●</span> {}', status.stage.colour, status.stage.name
        )

    @admin.display(description="current stage")
    def current_stage(self, order: Order) -> str:
        return self.stage(order) if order.pk else "received (once saved)"

    @admin.display(description="flags")
    def flags(self, order: Order) -> str:
        names = [
            label
            for flag, label in (
                (order.is_on_hold, "on hold"),
                (order.is_invalid, "invalid"),
                (order.is_deleted, "deleted"),
                (order.completed_at is not None, "completed"),
            )
            if flag
        ]
        return format_html_join(", ", "<strong>{}</strong>", ((name,) for name in names)) or "—"

    @admin.display(description="completion")
    def completion_state(self, order: Order) -> str:
        return self._completion_state(order, link_job=True)

    @admin.display(description="completion")
    def completion_state_text(self, order: Order) -> str:
        """`completion_state` for a user who may not open the job page (no role may): the
        job's name, not a link to a 403."""
        return self._completion_state(order, link_job=False)

    def get_fieldsets(self, request, obj=None):
        return job_fieldsets(
            self,
            request,
            super().get_fieldsets(request, obj),
            {"completion_state": "completion_state_text"},
        )

    def _completion_state(self, order: Order, *, link_job: bool) -> str:
        """Where the order's completion stands, from the order and its latest completion job."""
        if not order.pk:
            return "—"
        job = (
            Job.objects.filter(
                kind=services.COMPLETION_JOB,
                subject_type=Order._meta.label_lower,
                subject_id=str(order.pk),
            )
            .order_by("-id")
            .first()
        )
        if job is None:
            job_link = "no job"
        elif link_job:
            job_link = format_html(
                '<a href="{}">job #{}</a> ({})',
                reverse("admin:group_orders_job_change", args=[job.pk]),
                job.pk,
                job.get_status_display().lower(),
            )
        else:
            job_link = format_html("job #{} ({})", job.pk, job.get_status_display().lower())
        result = job.result if job is not None and isinstance(job.result, dict) else {}
        if order.completed_at is not None:
            email = result.get("email") if result.get("outcome") == "completed" else None
            return format_html(
                "Completed {} — {}{}",
                timezone.localtime(order.completed_at).strftime("%Y-%m-%d %H:%M %Z"),
                job_link,
                f"; customer e-mail: {email}" if email else "",
            )
        if order.completion_requested_at is not None:
            attempt = ""
            if job is not None and job.last_error:
                attempt = f"; attempt {job.attempts} of {job.max_attempts} failed, will retry"
            return format_html(
                "Requested {} by {} — waiting for the worker, {}{}",
                timezone.localtime(order.completion_requested_at).strftime("%Y-%m-%d %H:%M %Z"),
                order.completion_requested_by or (job.enqueued_by if job else "—"),
                job_link,
                attempt,
            )
        if result.get("outcome") == "failed" or (
            job is not None and job.status == Job.Status.FAILED
        ):
            reason = result.get("message") or "the job failed (see its last error)"
            return format_html("Not completed: the last request failed ({}) — {}", reason, job_link)
        return "Not requested"

    def has_request_completion_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.request_completion")

    def changelist_view(self, request, extra_context=None):
        self._warn_without_worker(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._warn_without_worker(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def _warn_without_worker(self, request) -> None:
        """Completions wait for the job tracker: say so on the order pages (GET only, so a
        POST that redirects does not carry it to the next page twice)."""
        if request.method == "GET":
            warning = worker_status().warning
            if warning:
                messages.warning(request, warning)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # hard deletes go one by one through the service
        return actions

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(order_search_q(search_term)), False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_deleted:
            return [f.name for f in Order._meta.fields] + [
                "current_stage",
                "completion_state",
                "completion_state_text",
            ]
        return super().get_readonly_fields(request, obj)

    # --- saving through the services

    def save_model(self, request, obj, form, change):
        actor = _actor(request)
        if change:
            saved = services.order_update(
                order=obj.pk,
                actor=actor,
                changes=changes_from_form(form),
                expected_version=form.cleaned_data.get("loaded_version"),
            )
        else:
            saved = services.order_create(draft=draft_from_form(form.cleaned_data), actor=actor)
        for field in Order._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_formset(self, request, form, formset, change):
        actor = _actor(request)
        parts = formset.save(commit=False)
        for part in formset.deleted_objects:
            services.order_part_delete(part=part, actor=actor)
        for part in parts:
            services.order_part_save(part=part, actor=actor)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PreconditionFailed:
            # someone saved between this form's checks and its save: nothing was written
            self.message_user(request, STALE_ORDER_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(request.path)

    def get_deleted_objects(self, objs, request):
        # the order's lines, totals, shipments and stage history go with it: deleting needs
        # orders.delete_order only (the stage history's own admin is read-only by design)
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request, obj):
        services.order_hard_delete(order=obj, actor=_actor(request))

    def delete_queryset(self, request, queryset):
        for order in queryset:
            services.order_hard_delete(order=order, actor=_actor(request))


# ---------------------------------------------------------------------------- parts


@admin.register(OrderLine)
class OrderLineAdmin(ServiceSavedPartAdmin):
    form = OrderLineForm
    list_display = ["order", "name", "option", "quantity", "price", "subtotal"]
    list_select_related = ["order"]
    search_fields = ["=order__number", "name"]
    autocomplete_fields = ["order"]


@admin.register(OrderTotal)
class OrderTotalAdmin(ServiceSavedPartAdmin):
    list_display = ["order", "code", "title", "value", "priority"]
    list_select_related = ["order"]
    list_filter = ["code"]
    search_fields = ["=order__number", "=code"]
    autocomplete_fields = ["order"]


class ShipmentItemInline(OrderPartInline):
    model = ShipmentItem
    fields = ["name", "option", "thumbnail"]


@admin.register(Shipment)
class ShipmentAdmin(ServiceSavedPartAdmin):
    list_display = ["__str__", "order", "status", "ship_date", "tracking_url"]
    list_select_related = ["order"]
    list_filter = ["status", ("ship_date", admin.DateFieldListFilter)]
    search_fields = ["=order__number", "tracking_url"]
    autocomplete_fields = ["order", "shipping_address"]
    inlines = [ShipmentItemInline]

    def save_formset(self, request, form, formset, change):
        actor = _actor(request)
        parts = formset.save(commit=False)
        for part in formset.deleted_objects:
            services.order_part_delete(part=part, actor=actor)
        for part in parts:
            services.order_part_save(part=part, actor=actor)


@admin.register(ShipmentItem)
class ShipmentItemAdmin(ServiceSavedPartAdmin):
    list_display = ["name", "option", "shipment"]
    list_select_related = ["shipment__order"]
    search_fields = ["name", "=shipment__order__number"]
    autocomplete_fields = ["shipment"]


# ---------------------------------------------------------------------------- job flow


class JobFlowRuleForm(forms.ModelForm):
    class Meta:
        model = JobFlowRule
        fields = ["service_type", "stage", "message", "position", "is_active"]

    def clean_stage(self):
        stage = self.cleaned_data["stage"]
        if stage is not None and stage.slug == COMPLETE_STAGE:
            raise ValidationError(
                "An order cannot have reached 'complete' before it completes: no order could "
                "ever satisfy this rule."
            )
        return stage


@admin.register(JobFlowRule)
class JobFlowRuleAdmin(ReadOnlyHistoryAdmin):
    """Job-flow rules are data: which stages an order must have been through before it may
    complete. The first unmet rule in (position, id) order refuses with its message (code 20
    of the v2 complete endpoint); empty service type = every order."""

    form = JobFlowRuleForm
    list_display = ["message", "scope", "stage", "position", "is_active", "updated_at"]
    list_display_links = ["message"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", ("service_type", admin.RelatedOnlyFieldListFilter), "stage"]
    list_select_related = ["service_type", "stage"]
    search_fields = ["message", "service_type__name", "service_type__slug", "stage__name"]
    autocomplete_fields = ["service_type"]
    ordering = ["position", "id"]
    fields = ["service_type", "stage", "message", "position", "is_active"]

    @admin.display(description="applies to", ordering="service_type__name")
    def scope(self, rule: JobFlowRule) -> str:
        return rule.service_type.name if rule.service_type_id else "All orders"


# ---------------------------------------------------------------------------- catalogue


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "city", "state", "country", "is_active"]
    list_filter = ["is_active", "country", "state"]
    search_fields = ["name", "code", "city"]


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]


@admin.register(Address)
class AddressAdmin(LargeTableAdmin):
    list_display = ["__str__", "first_name", "last_name", "client", "is_primary_shipping"]
    list_select_related = ["client"]
    list_filter = ["is_primary_shipping", "country"]
    search_fields = ["address", "last_name", "postal_code", "city"]
    autocomplete_fields = ["client"]


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["name", "shipping_domestic", "shipping_international", "required_option"]
    search_fields = ["name"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "css_class", "price", "duration", "package", "available_to_customer"]
    list_select_related = ["package"]
    list_filter = ["available_to_customer"]
    search_fields = ["name", "css_class"]
    autocomplete_fields = ["package"]


@admin.register(OrderRequest)
class OrderRequestAdmin(LargeTableAdmin):
    list_display = ["__str__", "client", "location", "service_type", "status", "created_at"]
    list_select_related = ["client", "location", "service_type"]
    list_filter = ["status", "location", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "client__name", "client__email"]
    autocomplete_fields = ["client", "location", "service_type"]
    readonly_fields = ["status", "order", "created_at", "updated_at"]
    date_hierarchy = "created_at"


@admin.register(OrderNumberCounter)
class OrderNumberCounterAdmin(admin.ModelAdmin):
    """Read-only: the counter moves only when numbers are handed out (SQLite; PostgreSQL
    uses the sequence order_number_seq)."""

    list_display = ["name", "last_value"]
    search_fields = ["name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

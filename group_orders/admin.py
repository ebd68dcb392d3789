from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.actors import Actor
from accounts.models import Client
from config.admin_history import ReadOnlyHistoryAdmin
from config.api.errors import ApiError, PermissionDenied
from group_orders.admin_links import job_fieldsets
from group_orders.models import GroupOrder, ImportBatch, Job, JobEvent, RejectedRow, WorkerHeartbeat
from group_orders.selectors import REPORT_FIELDS, group_orders_visible_to, report_link
from group_orders.services.columns import REQUIRED_COLUMNS
from group_orders.services.group_orders import group_order_rerun, group_order_submit
from group_orders.services.jobs import job_requeue

INLINE_REJECTED_ROWS = 100


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["worker_id", "hostname", "pid", "started_at", "last_seen_at"]
    readonly_fields = list_display
    search_fields = ["worker_id", "hostname"]


class GroupOrderUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX; the type is found from the content.")
    client = forms.ModelChoiceField(
        queryset=Client.objects.order_by("name"),
        required=False,
        help_text="The client the orders are for (optional).",
    )


class RejectedRowInline(admin.TabularInline):
    model = RejectedRow
    extra = 0
    can_delete = False
    fields = ["row_number", "reason", "external_id", "cells"]
    readonly_fields = fields
    verbose_name_plural = f"rejected rows (the first {INLINE_REJECTED_ROWS})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # the rejected rows list's rule: whoever may view the group order
        return self.admin_site.get_model_admin(RejectedRow).has_view_permission(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        group_order_id = request.resolver_match.kwargs.get("object_id")
        if not group_order_id:
            return queryset.none()
        rows = queryset.filter(group_order_id=group_order_id).order_by("row_number")
        cut = rows.values_list("row_number", flat=True)[
            INLINE_REJECTED_ROWS - 1 : INLINE_REJECTED_ROWS
        ]
        return rows.filter(row_number__lte=cut[0]) if cut else rows


@admin.register(GroupOrder)
class GroupOrderAdmin(ReadOnlyHistoryAdmin):
    """Uploads: the add page is the upload form (same service as the API); state is
    read-only; "re-run" calls the same service as everywhere."""

    list_display = [
        "public_id",
        "original_filename",
        "status",
        "progress_bar",
        "total_orders",
        "successful_orders",
        "rejected_orders",
        "uploader",
        "client",
        "created_at",
    ]
    list_filter = ["status", "file_format", "created_at"]
    search_fields = ["public_id", "original_filename", "uploader__email", "client__name"]
    list_select_related = ["uploader", "client"]
    date_hierarchy = "created_at"
    inlines = [RejectedRowInline]
    actions = ["rerun"]
    readonly_fields = [
        "public_id",
        "status",
        "progress_bar",
        "total_orders",
        "successful_orders",
        "rejected_orders",
        "processed_rows",
        "downloads",
        "original_filename",
        "file_format",
        "file_size",
        "encoding",
        "delimiter",
        "columns",
        "ignored_columns",
        "uploader",
        "application",
        "client",
        "queue_job_id",
        "job_link",
        "job_name",
        "error",
        "email_sent_at",
        "email_error",
        "timings",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "version",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "status",
                    "progress_bar",
                    ("total_orders", "successful_orders", "rejected_orders"),
                    "downloads",
                    "error",
                ]
            },
        ),
        (
            "File",
            {
                "fields": [
                    "original_filename",
                    ("file_format", "file_size", "encoding", "delimiter"),
                    "columns",
                    "ignored_columns",
                ]
            },
        ),
        ("Who", {"fields": ["uploader", "application", "client"]}),
        (
            "Job",
            {
                "fields": [
                    "queue_job_id",
                    "job_link",
                    "processed_rows",
                    "timings",
                    ("email_sent_at", "email_error"),
                    ("created_at", "started_at", "finished_at", "updated_at"),
                    "version",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        # the API's rule: who sees which upload
        return group_orders_visible_to(request.user)

    def get_fieldsets(self, request, obj=None):
        return job_fieldsets(self, request, self.fieldsets, {"job_link": "job_name"})

    def has_change_permission(self, request, obj=None):
        # the change page is shown read-only (view permission); state changes are actions
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress_bar(self, obj: GroupOrder) -> str:
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {}%',
            obj.progress,
            obj.progress,
            obj.progress,
        )

    @admin.display(description="files")
    def downloads(self, obj: GroupOrder) -> str:
        links = [(report_link(obj, "file"), "uploaded file")]
        links += [(report_link(obj, name), name.replace("_", " ")) for name in REPORT_FIELDS]
        present = [(url, label) for url, label in links if url]
        if not present:
            return "-"
        return format_html_join(" · ", '<a href="{}">{}</a>', present)

    @admin.display(description="job")
    def job_link(self, obj: GroupOrder) -> str:
        if obj.job_id is None:
            return "-"
        url = reverse("admin:group_orders_job_change", args=[obj.job_id])
        return format_html('<a href="{}">{}</a>', url, obj.job)

    @admin.display(description="job")
    def job_name(self, obj: GroupOrder) -> str:
        return "-" if obj.job_id is None else str(obj.job)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            return self.changeform_view(request, None, form_url, extra_context)
        form = GroupOrderUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                group_order = group_order_submit(
                    file=upload,
                    filename=upload.name,
                    actor=Actor.for_user(request.user),
                    client=form.cleaned_data["client"],
                )
            except PermissionDenied as exc:  # this uploader may not name this client
                form.add_error("client", exc.message)
            except ApiError as exc:
                form.add_error("file", exc.errors.get("file", [exc.message])[0])
            else:
                self.message_user(
                    request,
                    f"The file was accepted; its orders are being imported "
                    f"(job {group_order.queue_job_id}).",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:group_orders_grouporder_change", args=[group_order.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "required": REQUIRED_COLUMNS,
            "title": "Upload an order file",
        }
        return TemplateResponse(request, "admin/group_orders/grouporder/upload.html", context)

    @admin.action(
        description="Re-run the import (resumes; creates no order twice)", permissions=["add"]
    )
    def rerun(self, request, queryset):
        actor = Actor.for_user(request.user)
        queued, importing = 0, []
        for group_order in queryset:
            if group_order_rerun(group_order=group_order, actor=actor):
                queued += 1
            else:
                importing.append(str(group_order))
        if queued or not importing:
            self.message_user(
                request, f"{queued} import{pluralize(queued)} queued again.", messages.SUCCESS
            )
        if importing:
            self.message_user(
                request,
                f"{len(importing)} not queued, still being imported: {', '.join(importing)}.",
                messages.WARNING,
            )


@admin.register(RejectedRow)
class RejectedRowAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["group_order", "row_number", "external_id", "reason"]
    list_filter = [("group_order", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["external_id", "group_order__public_id"]
    list_select_related = ["group_order"]
    readonly_fields = ["group_order", "batch_index", "row_number", "external_id", "reason", "cells"]
    fields = readonly_fields

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("group_orders.view_grouporder") or super().has_view_permission(
            request, obj
        )

    def get_queryset(self, request):
        # the rows of the uploads this user may see (group_orders_visible_to)
        visible = group_orders_visible_to(request.user)
        return super().get_queryset(request).filter(group_order__in=visible)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["group_order", "index", "first_row", "last_row", "accepted", "rejected"]
    list_select_related = ["group_order"]
    search_fields = ["group_order__public_id"]
    exclude = ["order_numbers"]
    readonly_fields = [
        "group_order",
        "index",
        "first_row",
        "last_row",
        "rows",
        "accepted",
        "rejected",
    ]


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ["at", "event", "attempt", "worker_id", "actor_label", "message"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-only: the tracker owns job state; "retry" calls the same service as an operator."""

    list_display = [
        "id",
        "kind",
        "subject",
        "status",
        "attempts",
        "max_attempts",
        "run_after",
        "lease_expires_at",
        "worker_id",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["=id", "kind", "subject_id", "worker_id", "task_result_id", "last_error"]
    date_hierarchy = "created_at"
    inlines = [JobEventInline]
    actions = ["retry_jobs"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="subject")
    def subject(self, obj: Job) -> str:
        return f"{obj.subject_type} {obj.subject_id}".strip() or "-"

    @admin.action(description="Retry the selected failed or finished jobs", permissions=["change"])
    def retry_jobs(self, request, queryset):
        actor = Actor.for_user(request.user)
        requeued = 0
        for job_id in queryset.values_list("pk", flat=True):
            job = job_requeue(job_id=job_id, actor=actor)
            requeued += job.status == Job.Status.QUEUED
        self.message_user(request, f"{requeued} job(s) queued again.", messages.SUCCESS)

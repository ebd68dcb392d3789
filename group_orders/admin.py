from django.contrib import admin, messages

from accounts.actors import Actor
from group_orders.models import Job, JobEvent, WorkerHeartbeat
from group_orders.services.jobs import job_requeue


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "hostname", "pid", "started_at", "last_seen_at"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
        "subject_type",
        "subject_id",
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

    @admin.action(description="Retry the selected failed or finished jobs", permissions=["change"])
    def retry_jobs(self, request, queryset):
        actor = Actor.for_user(request.user)
        requeued = 0
        for job_id in queryset.values_list("pk", flat=True):
            job = job_requeue(job_id=job_id, actor=actor)
            requeued += job.status == Job.Status.QUEUED
        self.message_user(request, f"{requeued} job(s) queued again.", messages.SUCCESS)

from django.db import models
from simple_history.models import HistoricalRecords


class WorkerHeartbeat(models.Model):
    """One row per job worker process; `last_seen_at` moves while the worker lives."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class GroupOrder(models.Model):
    """A bulk upload of orders in one CSV or XLSX file, imported in the background."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(unique=True, editable=False, help_text="The `_id` of the API.")
    file = models.FileField(upload_to="group_orders/uploads/%Y/%m/")
    original_filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)  # csv or xlsx, sniffed from the content
    file_size = models.PositiveBigIntegerField(default=0)
    uploader = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="group_orders"
    )
    application = models.ForeignKey(
        "accounts.Application", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    client = models.ForeignKey(
        "accounts.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_orders",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    total_orders = models.PositiveIntegerField(default=0)
    successful_orders = models.PositiveIntegerField(default=0)
    rejected_orders = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    normalized_csv = models.FileField(upload_to="group_orders/reports/%Y/%m/", blank=True)
    accepted_orders_xlsx = models.FileField(upload_to="group_orders/reports/%Y/%m/", blank=True)
    rejected_orders_xlsx = models.FileField(upload_to="group_orders/reports/%Y/%m/", blank=True)
    queue_job_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    # how the upload check read the file; the import job reads it the same way
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    columns = models.JSONField(
        default=list, blank=True, help_text="Per file column: the field it holds, or null."
    )
    ignored_columns = models.JSONField(default=list, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the file read.")
    batch_size = models.PositiveIntegerField(
        default=0, help_text="Rows per committed batch (fixed at upload: a resume matches)."
    )
    timings = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey(
        "group_orders.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # set by an external processor (PATCH): where it put the files, instead of ours
    normalized_csv_url = models.URLField(max_length=700, blank=True)
    accepted_orders_xlsx_url = models.URLField(max_length=700, blank=True)
    rejected_orders_xlsx_url = models.URLField(max_length=700, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "progress", "timings"])

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="group_order_status_idx"),
            models.Index(fields=["uploader", "created_at"], name="group_order_uploader_idx"),
            models.Index(fields=["client", "created_at"], name="group_order_client_idx"),
        ]

    def __str__(self) -> str:
        return f"Group order {self.public_id}"

    def import_running(self) -> bool:
        """Its import job is queued, running or waiting to retry: the import, not a processor,
        sets the status, the counts and the files until it ends."""
        return (
            self.job_id is not None
            and Job.objects.filter(
                pk=self.job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
            ).exists()
        )

    def email_owed(self) -> list[str]:
        """A new completion is to be announced: forget the last completion e-mail (sent or
        failed), so that `group_order_completed_notify` sends one. The fields it changed."""
        self.email_sent_at = None
        self.email_error = ""
        return ["email_sent_at", "email_error"]


class ImportBatch(models.Model):
    """Checkpoint of one committed batch of an import, written in the same transaction as
    the batch's orders and rejected rows: a resumed import skips the batches it finds here."""

    group_order = models.ForeignKey(GroupOrder, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField(help_text="Row number in the file (header = 1).")
    last_row = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()
    accepted = models.PositiveIntegerField()
    rejected = models.PositiveIntegerField()
    order_numbers = models.JSONField(default=list, help_text="Of the accepted rows, in order.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group_order", "index"]
        constraints = [
            models.UniqueConstraint(fields=["group_order", "index"], name="unique_import_batch")
        ]

    def __str__(self) -> str:
        return f"batch {self.index} (rows {self.first_row}-{self.last_row})"


class RejectedRow(models.Model):
    """A row of an uploaded file that did not become an order: its original cells and why."""

    group_order = models.ForeignKey(
        GroupOrder, on_delete=models.CASCADE, related_name="rejected_rows"
    )
    batch_index = models.PositiveIntegerField()
    row_number = models.PositiveIntegerField(help_text="Row number in the file (header = 1).")
    external_id = models.CharField(max_length=120, blank=True)
    cells = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group_order", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_order", "row_number"], name="unique_rejected_row"
            )
        ]
        indexes = [
            models.Index(fields=["group_order", "batch_index"], name="rejected_row_batch_idx"),
            models.Index(fields=["group_order", "external_id"], name="rejected_row_ext_id_idx"),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}"

    @property
    def reason(self) -> str:
        return reasons_text(self.reasons)


def reasons_text(reasons: list[str]) -> str:
    """A rejected row's reasons as one text: each is a sentence with its own full stop."""
    return " ".join(reasons)


class Job(models.Model):
    """The platform's own state of one background job (django-tasks-db has no retries and
    leaves a killed task RUNNING). The queue carries only this row's id."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(
        max_length=80, help_text="Registered job kind, e.g. group_orders.import"
    )
    subject_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    subject_id = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    lease_seconds = models.PositiveIntegerField(default=60)
    run_after = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=100, blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    enqueued_by = models.CharField(max_length=255, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="job_status_lease_idx"),
            models.Index(fields=["status", "run_after"], name="job_status_run_after_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="job_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class JobEvent(models.Model):
    """Append-only history of a job: enqueued, claimed, succeeded, failed, retried, reaped."""

    class Event(models.TextChoices):
        ENQUEUED = "enqueued", "Enqueued"
        CLAIMED = "claimed", "Claimed"
        SUCCEEDED = "succeeded", "Succeeded"
        RETRY_SCHEDULED = "retry_scheduled", "Retry scheduled"
        FAILED = "failed", "Failed"
        REAPED = "reaped", "Lease expired, re-enqueued"
        REQUEUED = "requeued", "Re-enqueued"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=20, choices=Event.choices)
    attempt = models.PositiveIntegerField(default=0)
    worker_id = models.CharField(max_length=100, blank=True)
    actor_kind = models.CharField(max_length=16)
    actor_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.event} at {self.at:%Y-%m-%d %H:%M:%S}"

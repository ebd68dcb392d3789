from django.db import models


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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="group_order_status_idx")]

    def __str__(self) -> str:
        return f"Group order {self.public_id}"

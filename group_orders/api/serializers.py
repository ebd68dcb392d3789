"""Group orders V3 API: input serializers and the output field sets (`view`)."""

from typing import Any

from rest_framework import serializers

from config.api.envelope import SuccessEnvelopeSerializer
from config.api.errors import InvalidParam
from config.api.params import refuse_unknown_params
from config.api.strict_types import INT32_MAX, StrictJsonTypesMixin
from group_orders.models import GroupOrder
from group_orders.selectors import REPORT_FIELDS, report_link

# Each `view` is a deliberate field set for one kind of caller (docs/group_orders.md).
VIEWS: dict[str, tuple[str, ...]] = {
    # the uploader, right after the upload: how the file was read, and the job to follow
    "inital_upload": (
        "_id",
        "status",
        "queue_job_id",
        "original_filename",
        "file_format",
        "file_size",
        "encoding",
        "delimiter",
        "columns",
        "ignored_columns",
        "created_at",
    ),
    # the online-order status page, polled while the import runs
    "online_order_group_order_status": (
        "_id",
        "status",
        "progress",
        "total_orders",
        "successful_orders",
        "rejected_orders",
        "normalized_csv",
        "accepted_orders_xlsx",
        "rejected_orders_xlsx",
        "error",
        "started_at",
        "finished_at",
        "updated_at",
    ),
    # a processor (planoworker): the source file, how to read it, its state and version
    "planoworker_processing_view": (
        "_id",
        "status",
        "queue_job_id",
        "file",
        "file_format",
        "file_size",
        "encoding",
        "delimiter",
        "columns",
        "client",
        "uploader",
        "application",
        "total_orders",
        "successful_orders",
        "rejected_orders",
        "processed_rows",
        "progress",
        "normalized_csv",
        "accepted_orders_xlsx",
        "rejected_orders_xlsx",
        "job",
        "timings",
        "error",
        "version",
        "updated_at",
    ),
    # everything a person looking at one upload wants
    "default": (
        "_id",
        "status",
        "original_filename",
        "file_format",
        "file_size",
        "client",
        "uploader",
        "application",
        "total_orders",
        "successful_orders",
        "rejected_orders",
        "progress",
        "normalized_csv",
        "accepted_orders_xlsx",
        "rejected_orders_xlsx",
        "queue_job_id",
        "ignored_columns",
        "error",
        "email_sent_at",
        "email_error",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "version",
    ),
}
VIEW_NAMES = tuple(VIEWS)


def view_param(value: Any, default: str = "default") -> str:
    if value in (None, ""):
        return default
    if not isinstance(value, str) or value not in VIEWS:  # a JSON list is no view (nor hashable)
        raise InvalidParam("view", f"view must be one of {', '.join(VIEW_NAMES)}.")
    return value


class GroupOrderClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GroupOrderUploaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class GroupOrderJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    run_after = serializers.DateTimeField(allow_null=True)
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    worker_id = serializers.CharField()


class GroupOrderSerializer(serializers.Serializer):
    """All fields a group order can show; `view` picks the set (see VIEWS)."""

    _id = serializers.UUIDField(source="public_id", help_text="The group order's UUID.")
    status = serializers.ChoiceField(choices=GroupOrder.Status.choices)
    original_filename = serializers.CharField()
    file_format = serializers.CharField(help_text="csv or xlsx, found from the content.")
    file_size = serializers.IntegerField()
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    columns = serializers.ListField(
        child=serializers.CharField(allow_null=True),
        help_text="Per column of the file: the field it holds, or null when ignored.",
    )
    ignored_columns = serializers.ListField(child=serializers.CharField())
    file = serializers.SerializerMethodField(help_text="Signed link to the uploaded file.")
    client = serializers.SerializerMethodField()
    uploader = serializers.SerializerMethodField()
    application = serializers.SerializerMethodField()
    total_orders = serializers.IntegerField()
    successful_orders = serializers.IntegerField()
    rejected_orders = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    progress = serializers.IntegerField(help_text="Percent of the file read.")
    normalized_csv = serializers.SerializerMethodField(help_text="URL of the normalized CSV.")
    accepted_orders_xlsx = serializers.SerializerMethodField(
        help_text="URL of the accepted-orders workbook."
    )
    rejected_orders_xlsx = serializers.SerializerMethodField(
        help_text="URL of the rejected-orders workbook (original cells + reason)."
    )
    queue_job_id = serializers.CharField()
    job = serializers.SerializerMethodField()
    timings = serializers.JSONField()
    error = serializers.CharField()
    email_sent_at = serializers.DateTimeField(allow_null=True)
    email_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()

    # the fields of every view; the OpenAPI schema requires only these
    schema_required_fields = ("_id", "status")

    def __init__(self, *args, view: str | None = None, **kwargs) -> None:
        """`view` picks the field set; without one (the OpenAPI schema) every field is
        described."""
        super().__init__(*args, **kwargs)
        if view is None:
            return
        keep = set(VIEWS[view])
        for name in list(self.fields):
            if name not in keep:
                self.fields.pop(name)

    def _link(self, obj: GroupOrder, kind: str) -> str | None:
        return report_link(obj, kind, request=self.context.get("request"))

    def get_file(self, obj: GroupOrder) -> str | None:
        return self._link(obj, "file")

    def get_normalized_csv(self, obj: GroupOrder) -> str | None:
        return self._link(obj, "normalized_csv")

    def get_accepted_orders_xlsx(self, obj: GroupOrder) -> str | None:
        return self._link(obj, "accepted_orders_xlsx")

    def get_rejected_orders_xlsx(self, obj: GroupOrder) -> str | None:
        return self._link(obj, "rejected_orders_xlsx")

    def get_client(self, obj: GroupOrder) -> dict | None:
        if obj.client is None:
            return None
        return {"id": obj.client.pk, "name": obj.client.name}

    def get_uploader(self, obj: GroupOrder) -> dict | None:
        user = obj.uploader
        if user is None:
            return None
        return {
            "id": user.pk,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
        }

    def get_application(self, obj: GroupOrder) -> str | None:
        return obj.application.slug if obj.application else None

    def get_job(self, obj: GroupOrder) -> dict | None:
        job = obj.job
        if job is None:
            return None
        return {
            "id": job.pk,
            "status": job.status,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            "last_error": job.last_error.split("\n\n")[0],
            "run_after": job.run_after,
            "lease_expires_at": job.lease_expires_at,
            "worker_id": job.worker_id,
        }


class GroupOrderUploadInputSerializer(StrictJsonTypesMixin, serializers.Serializer):
    """The upload's form fields; any other is refused by name."""

    file = serializers.FileField(help_text="The CSV or XLSX order file (multipart/form-data).")
    client_id = serializers.IntegerField(
        required=False, help_text="The client the orders are for (staff and liaisons)."
    )
    view = serializers.ChoiceField(choices=VIEW_NAMES, required=False, default="inital_upload")
    application = serializers.CharField(required=False)
    session_view = serializers.CharField(required=False)
    token = serializers.CharField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_unknown_params(self.initial_data, self.fields)
        return attrs


class GroupOrderPatchInputSerializer(StrictJsonTypesMixin, serializers.Serializer):
    """What a processor may change (group_orders.change_grouporder)."""

    _id = serializers.CharField(required=False, help_text="Same as the path's _id, if sent.")
    token = serializers.CharField(required=False)
    application = serializers.CharField(required=False)
    view = serializers.ChoiceField(choices=VIEW_NAMES, required=False)
    session_view = serializers.CharField(required=False)
    status = serializers.ChoiceField(
        choices=[GroupOrder.Status.PROCESSING, GroupOrder.Status.COMPLETE], required=False
    )
    # the columns are 32-bit: a larger count is refused, not a database error
    total_orders = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
    successful_orders = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
    rejected_orders = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
    normalized_csv = serializers.CharField(max_length=700, allow_blank=True, required=False)
    accepted_orders_xlsx = serializers.CharField(max_length=700, allow_blank=True, required=False)
    rejected_orders_xlsx = serializers.CharField(max_length=700, allow_blank=True, required=False)
    queue_job_id = serializers.CharField(max_length=64, allow_blank=True, required=False)

    CHANGE_FIELDS = (
        "status",
        "total_orders",
        "successful_orders",
        "rejected_orders",
        *REPORT_FIELDS,
        "queue_job_id",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_unknown_params(self.initial_data, self.fields)
        return attrs

    def changes(self) -> dict[str, Any]:
        return {
            name: self.validated_data[name]
            for name in self.CHANGE_FIELDS
            if name in self.validated_data
        }


class GroupOrderEnvelopeSerializer(SuccessEnvelopeSerializer):
    data = GroupOrderSerializer()


class GroupOrderPageSerializer(serializers.Serializer):
    results = GroupOrderSerializer(many=True)
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class GroupOrderListEnvelopeSerializer(SuccessEnvelopeSerializer):
    data = GroupOrderPageSerializer()

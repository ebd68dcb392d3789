"""Stage API input and output.

Types are strict: a JSON body carries JSON types (a boolean is `true`/`false`, an integer
is a number without a fraction, a string is a string). A form post (urlencoded or
multipart) carries only text, so there an integer is decimal digits and a boolean is
`true`/`false` (any case); hashes are sent as `appointment[appt_id]=7` and arrays as
`order[services_addon_array][]=x`. Every error names the parameter, e.g.
`appointment.appt_id`.
"""

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Application, Client, User
from config.api.field_copies import ShallowFieldsMixin
from config.api.params import CONTROL_PARAMS
from orders.models import ServiceType
from stages.models import OrderStage
from stages.mountain_time import MountainTimeError, parse_mountain, to_mountain
from stages.services import stage_active

# How far ahead of our clock a stage_at_mt may be (clock skew); further is a mistake that
# would pin the current status (a status only moves forward in time).
STAGE_AT_FUTURE_TOLERANCE = timedelta(hours=1)

VIEWS = ("minimal", "default", "full")

_DIGITS = re.compile(r"^-?\d+$")


def _form_encoded(field: serializers.Field) -> bool:
    return bool(field.context.get("form_encoded"))


class StrictCharField(serializers.CharField):
    """Text that must arrive as a string; null and absent are the same."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be an integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        # ids and appt_id are 64-bit columns: beyond is refused here, not by the database
        kwargs.setdefault("max_value", 2**63 - 1)
        kwargs.setdefault("min_value", -(2**63))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            return super().to_internal_value(data)
        if isinstance(data, str) and _form_encoded(self) and _DIGITS.match(data.strip()):
            return super().to_internal_value(data.strip())
        self.fail("invalid")


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be a boolean: true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and _form_encoded(self):
            text = data.strip().lower()
            if text in ("true", "false"):
                return text == "true"
        self.fail("invalid")


@extend_schema_field(
    {
        "type": "string",
        "example": "2026-03-08 14:05:00",
        "description": "Mountain Time (America/Denver) wall clock, or ISO 8601 with an offset.",
    }
)
class MountainTimeField(serializers.Field):
    """A Mountain Time wall-clock timestamp → aware UTC; blank and null mean absent."""

    default_error_messages = {"invalid": "Must be a date and time string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.strip():
            return None
        try:
            return parse_mountain(data)
        except MountainTimeError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None

    def to_representation(self, value):
        return to_mountain(value)


@extend_schema_field(OpenApiTypes.DATE)
class IsoDateField(serializers.Field):
    default_error_messages = {"invalid": "Must be a date like 2026-03-31."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.strip():
            return None
        try:
            return date.fromisoformat(data.strip())
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat() if value else None


@extend_schema_field(OpenApiTypes.STR)
class PostalCodeField(serializers.Field):
    """The document says integer; a string keeps leading zeros (02134), so both are read."""

    default_error_messages = {"invalid": "Must be a postal code (an integer or a string)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        text = str(data).strip()
        if len(text) > 20:
            raise serializers.ValidationError("At most 20 characters.")
        return text

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.STR)
class AddonField(serializers.Field):
    default_error_messages = {"invalid": "Each add-on must be a string or an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class StrictHashSerializer(ShallowFieldsMixin, serializers.Serializer):
    """A hash parameter: a JSON object whose keys are all known; null means absent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                ["Must be a hash (an object of key: value pairs)."], code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {key: [f"Unknown key. Known: {', '.join(self.fields)}."] for key in unknown},
                code="invalid",
            )
        return super().to_internal_value(data)


class StageAppointmentInputSerializer(StrictHashSerializer):
    appt_id = StrictIntegerField()
    appt_confirmed = StrictCharField(max_length=60)
    appt_duration_time = StrictCharField(max_length=60)
    appt_start_at = MountainTimeField()
    appt_stop_at = MountainTimeField()
    cancel_reason = StrictCharField(max_length=255)
    cancel_note = StrictCharField()

    def validate(self, attrs):
        start, stop = attrs.get("appt_start_at"), attrs.get("appt_stop_at")
        if start and stop and stop < start:
            raise serializers.ValidationError({"appt_stop_at": ["Is before appt_start_at."]})
        return attrs


class StageClientInputSerializer(StrictHashSerializer):
    client_id = StrictIntegerField()
    client_billing_postal_code = PostalCodeField()

    def validate_client_id(self, value):
        if value is None:
            return None
        client = Client.objects.filter(pk=value).first()
        if client is None:
            raise serializers.ValidationError(f"There is no client {value}.")
        return client


class StageOrderInputSerializer(StrictHashSerializer):
    notes = StrictCharField()
    delivery_rush = StrictBooleanField(required=False, allow_null=True)
    due_date = IsoDateField()
    external_id = StrictCharField(max_length=120)
    service_type = StrictCharField(max_length=60)
    services_addon_array = serializers.ListField(
        child=AddonField(), required=False, allow_null=True, allow_empty=True
    )
    cancel_reason = StrictCharField(max_length=255)
    cancel_note = StrictCharField()

    def validate_service_type(self, value):
        if value and not ServiceType.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"Unknown service type '{value}'.")
        return value


class StageRecordInputSerializer(ShallowFieldsMixin, serializers.Serializer):
    """The parameters of POST /api/v1/order_stages (specs/order-stages-create-api.txt)."""

    order_id = StrictIntegerField(min_value=1, help_text="Required unless order_request_id.")
    order_request_id = StrictIntegerField(min_value=1, help_text="Required unless order_id.")
    update_status = StrictBooleanField(help_text="true: also move the current status.")
    stage = StrictCharField(
        required=True, allow_null=False, allow_blank=False, max_length=60, help_text="Stage slug."
    )
    stage_trigger = StrictCharField(max_length=120)
    stage_at_mt = MountainTimeField(help_text="When the stage happened; default now.")
    created_at_mt = MountainTimeField()
    notified_at_mt = MountainTimeField()
    created_by_id = StrictIntegerField(help_text="A user id: created_by becomes their name.")
    created_by = StrictCharField(max_length=255, help_text="Overrides created_by_id.")
    appointment = StageAppointmentInputSerializer()
    client = StageClientInputSerializer()
    order = StageOrderInputSerializer()
    notes = StrictCharField()
    updated_by = StrictCharField(max_length=255)
    updated_by_id = StrictIntegerField(help_text="A user id: updated_by defaults to their name.")
    event_slug = StrictCharField(max_length=120)
    token = StrictCharField()
    application = StrictCharField(max_length=50)
    application_view = StrictCharField(help_text="minimal, default or full: adds data.application.")
    session_view = StrictCharField(help_text="minimal, default or full.")

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields) - CONTROL_PARAMS)
        if unknown:
            raise serializers.ValidationError(
                {key: ["Not a parameter of this API."] for key in unknown}, code="invalid"
            )
        return super().to_internal_value(data)

    def _user(self, value):
        if value is None:
            return None
        user = User.objects.filter(pk=value).first()
        if user is None:
            raise serializers.ValidationError(f"There is no user {value}.")
        return user

    def validate_created_by_id(self, value):
        return self._user(value)

    def validate_updated_by_id(self, value):
        return self._user(value)

    def _view(self, value):
        if value and value not in VIEWS:
            raise serializers.ValidationError(f"Must be one of {', '.join(VIEWS)}.")
        return value or None

    def validate_application_view(self, value):
        return self._view(value)

    def validate_session_view(self, value):
        return self._view(value)

    def validate_stage(self, value):
        stage = stage_active(value)
        if stage is None:
            raise serializers.ValidationError(f"Unknown stage '{value}'.")
        return stage

    def validate_stage_at_mt(self, value):
        if value is not None and value > timezone.now() + STAGE_AT_FUTURE_TOLERANCE:
            raise serializers.ValidationError(
                "Is in the future; a stage is recorded when it has happened."
            )
        return value

    def validate(self, attrs):
        has_order = attrs.get("order_id") is not None
        has_request = attrs.get("order_request_id") is not None
        if has_order == has_request:
            message = (
                "Give only one of order_id and order_request_id."
                if has_order
                else "Give order_id or order_request_id."
            )
            raise serializers.ValidationError(
                {"order_id": [message], "order_request_id": [message]},
                code="invalid" if has_order else "required",
            )
        return attrs


def form_params(data) -> dict[str, Any]:
    """A form post (QueryDict) as the nested dict a JSON body would be.

    `appointment[appt_id]=7` → {"appointment": {"appt_id": "7"}}; `order[x][]=a&order[x][]=b`
    → {"order": {"x": ["a", "b"]}}; a plain key keeps its last value.
    """
    params: dict[str, Any] = {}
    for key in data:
        match = re.fullmatch(r"(\w+)\[(\w+)\](\[\])?", key)
        if match is None:
            params[key] = data.get(key)
            continue
        name, inner, is_list = match.groups()
        target = params.setdefault(name, {})
        if not isinstance(target, dict):  # `client=x` and `client[k]=y` together
            target = params[name] = {}
        target[inner] = data.getlist(key) if is_list else data.get(key)
    return params


# ----------------------------------------------------------------------------- output


class StageBriefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    is_terminal = serializers.BooleanField()
    colour = serializers.CharField()


class StageActorSerializer(serializers.Serializer):
    """Who acted: a user, an application (an integration token), or the system."""

    kind = serializers.CharField(source="actor_kind")
    user_id = serializers.IntegerField(source="actor_user_id", allow_null=True)
    user = serializers.SerializerMethodField()
    application = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()

    def get_user(self, row: OrderStage) -> str | None:
        user = row.actor_user
        return (user.full_name or user.email) if user is not None else None

    def get_application(self, row: OrderStage) -> str | None:
        return row.actor_application.slug if row.actor_application_id else None

    def get_label(self, row: OrderStage) -> str:
        return row.actor_label or row.created_by


class StageHistoryRowSerializer(serializers.Serializer):
    """One order_stages row."""

    id = serializers.IntegerField()
    order_id = serializers.IntegerField(allow_null=True)
    order_request_id = serializers.IntegerField(allow_null=True)
    stage = serializers.CharField(source="stage.slug")
    stage_name = serializers.CharField(source="stage.name")
    previous_stage = serializers.CharField(source="previous_stage.slug", allow_null=True)
    stage_trigger = serializers.CharField()
    stage_at = serializers.DateTimeField()
    stage_at_mt = MountainTimeField(source="stage_at")
    created_at_mt = MountainTimeField(source="source_created_at")
    notified_at_mt = MountainTimeField(source="notified_at")
    recorded_at = serializers.DateTimeField()
    updated_status = serializers.BooleanField()
    acted_by = StageActorSerializer(source="*")
    created_by = serializers.CharField()
    created_by_id = serializers.IntegerField(source="created_by_user_id", allow_null=True)
    updated_by = serializers.CharField()
    updated_by_id = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField()
    event_slug = serializers.CharField()
    payload = serializers.JSONField()


class StageTimelineRowSerializer(StageHistoryRowSerializer):
    """A history row in the order's timeline: the stage before it in time, and how long the
    order stayed in that stage (seconds; null for the first row and for a repeated stage)."""

    previous_stage = serializers.SerializerMethodField()
    seconds_in_previous_stage = serializers.IntegerField(allow_null=True)

    def get_previous_stage(self, row: OrderStage) -> str | None:
        return row.chronological_previous.slug if row.chronological_previous else None


class StageStatusClientSerializer(serializers.Serializer):
    client_id = serializers.IntegerField(allow_null=True)
    client_billing_postal_code = serializers.CharField()


class StageStatusAppointmentSerializer(serializers.Serializer):
    appt_id = serializers.IntegerField(allow_null=True)
    appt_confirmed = serializers.CharField()
    appt_duration_time = serializers.CharField()
    appt_start_at = MountainTimeField()
    appt_stop_at = MountainTimeField()
    cancel_reason = serializers.CharField(source="appt_cancel_reason")
    cancel_note = serializers.CharField(source="appt_cancel_note")


class StageStatusOrderSerializer(serializers.Serializer):
    notes = serializers.CharField()
    delivery_rush = serializers.BooleanField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    external_id = serializers.CharField()
    service_type = serializers.CharField()
    services_addon_array = serializers.ListField(child=AddonField())
    cancel_reason = serializers.CharField()
    cancel_note = serializers.CharField()


class StageStatusRowSerializer(serializers.Serializer):
    """One order_statuses row: the current status, with the hashes it was given."""

    id = serializers.IntegerField()
    order_id = serializers.IntegerField(allow_null=True)
    order_request_id = serializers.IntegerField(allow_null=True)
    stage = serializers.CharField(source="stage.slug")
    stage_name = serializers.CharField(source="stage.name")
    stage_trigger = serializers.CharField()
    stage_at = serializers.DateTimeField()
    stage_at_mt = MountainTimeField(source="stage_at")
    status_updated_at = serializers.DateTimeField()
    notified_at_mt = MountainTimeField(source="notified_at")
    event_slug = serializers.CharField()
    client = StageStatusClientSerializer(source="*")
    appointment = StageStatusAppointmentSerializer(source="*")
    order = StageStatusOrderSerializer(source="*")
    created_by = serializers.CharField()
    updated_by = serializers.CharField()
    updated_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class StageApplicationSerializer(serializers.Serializer):
    """The application the request acted under, in the requested `application_view`."""

    slug = serializers.CharField()
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    is_active = serializers.BooleanField(required=False)


def application_payload(application: Application, view: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"slug": application.slug}
    if view in ("default", "full"):
        payload["name"] = application.name
    if view == "full":
        payload["description"] = application.description
        payload["is_active"] = application.is_active
    return payload


class StageRecordDataSerializer(serializers.Serializer):
    order_stage = StageHistoryRowSerializer()
    order_status = StageStatusRowSerializer(
        allow_null=True, help_text="The current status after the call (null: none yet)."
    )
    status_updated = serializers.BooleanField(help_text="Whether this call moved the status.")
    application = StageApplicationSerializer(
        required=False, help_text="Only when application_view is given."
    )


class StageRecordEnvelopeSerializer(serializers.Serializer):
    status = serializers.CharField(default="action-successful")
    message = serializers.CharField()
    data = StageRecordDataSerializer()
    session = serializers.DictField(allow_null=True)


class StageCurrentSerializer(serializers.Serializer):
    stage = StageBriefSerializer()
    since = serializers.DateTimeField(source="stage_at")
    since_mt = MountainTimeField(source="stage_at")


class StageRefusedSerializer(serializers.Serializer):
    slug = serializers.CharField(source="stage.slug")
    name = serializers.CharField(source="stage.name")
    reason = serializers.CharField()


class StageTransitionsSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(source="order.pk")
    current = StageCurrentSerializer(source="status", allow_null=True)
    allowed = StageBriefSerializer(many=True)
    refused = StageRefusedSerializer(many=True)


class StageTransitionsEnvelopeSerializer(serializers.Serializer):
    status = serializers.CharField(default="action-successful")
    message = serializers.CharField()
    data = StageTransitionsSerializer()
    session = serializers.DictField(allow_null=True)


class StageTimelineSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    current = StageCurrentSerializer(allow_null=True)
    stages = StageTimelineRowSerializer(many=True)


class StageTimelineEnvelopeSerializer(serializers.Serializer):
    status = serializers.CharField(default="action-successful")
    message = serializers.CharField()
    data = StageTimelineSerializer()
    session = serializers.DictField(allow_null=True)

"""Stage APIs: record a stage (Plano contract), an order's transitions and its timeline."""

from typing import Any

from django.http import QueryDict
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.views import APIView

from accounts import abilities as ab
from accounts.actors import Actor
from accounts.selectors import session_payload
from config.api.compiled import CompiledRepresentation
from config.api.envelope import envelope_response
from config.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentPostMixin
from config.api.params import body_params
from config.api.permissions import Access, session_view_param
from stages import selectors
from stages.api.serializers import (
    StageHistoryRowSerializer,
    StageRecordEnvelopeSerializer,
    StageRecordInputSerializer,
    StageStatusRowSerializer,
    StageTimelineEnvelopeSerializer,
    StageTimelineSerializer,
    StageTransitionsEnvelopeSerializer,
    StageTransitionsSerializer,
    application_payload,
    form_params,
)
from stages.services import StageRecorded, stage_record

SESSION_VIEW_PARAM = OpenApiParameter(
    "session_view", str, enum=["default", "minimal", "full"], required=False
)

_APPOINTMENT_FIELDS = {
    "appt_id": "appt_id",
    "appt_confirmed": "appt_confirmed",
    "appt_duration_time": "appt_duration_time",
    "appt_start_at": "appt_start_at",
    "appt_stop_at": "appt_stop_at",
    "cancel_reason": "appt_cancel_reason",
    "cancel_note": "appt_cancel_note",
}
_NULLABLE_STATUS_FIELDS = {"appt_id", "appt_start_at", "appt_stop_at", "client"}

RECORD_EXAMPLE = {
    "token": "od_Xb3k9QeR1aZt…",
    "application": "planoorder",
    "order_id": 1042,
    "update_status": True,
    "stage": "in-production",
    "stage_trigger": "printer-queue",
    "stage_at_mt": "2026-03-08 14:05:00",
    "created_by_id": 7,
    "appointment": {"appt_id": 991, "appt_confirmed": "yes", "appt_start_at": "2026-03-09 09:00"},
    "order": {"due_date": "2026-03-20", "delivery_rush": True, "services_addon_array": ["gloss"]},
    "notes": "Queued on press 2",
    "event_slug": "press-queued",
}


def _status_details(data: dict[str, Any]) -> dict[str, Any]:
    """The appointment and client hashes as OrderStatus fields (only the keys sent)."""
    details: dict[str, Any] = {}
    for key, value in (data.get("appointment") or {}).items():
        field = _APPOINTMENT_FIELDS[key]
        details[field] = value if value is not None or field in _NULLABLE_STATUS_FIELDS else ""
    client = data.get("client") or {}
    if "client_id" in client:
        details["client"] = client["client_id"]  # a Client (validated) or None
    if "client_billing_postal_code" in client:
        details["client_billing_postal_code"] = client["client_billing_postal_code"] or ""
    return details


# Read-only renderers, compiled once per process (config/api/compiled.py): neither reads
# the request's context, and DRF would otherwise deep-copy the ~50 declared fields of these
# two (and their nested hashes) on every stage post and read each through get_attribute.
_HISTORY_ROW = CompiledRepresentation(StageHistoryRowSerializer())
_STATUS_ROW = CompiledRepresentation(StageStatusRowSerializer())


def _message(recorded: StageRecorded, update_status: bool) -> str:
    name = recorded.history.stage.name
    if recorded.moved:
        return f"Stage '{name}' recorded; it is now the current stage."
    if not update_status:
        return f"Stage '{name}' recorded in history; the current status was not changed."
    return (
        f"Stage '{name}' recorded in history only: the current status has a later stage_at "
        f"('{recorded.status.stage.name}')."
    )


class OrderStageCreateView(IdempotentPostMixin, APIView):
    """POST /api/v1/order_stages — specs/order-stages-create-api.txt. Honours Idempotency-Key."""

    accepts_token_param = True
    required_access = {"post": Access(ab.STAGES_WRITE, "stages.add_orderstage")}

    @extend_schema(
        operation_id="order_stages_create",
        summary="Record a stage (order_stages row; order_statuses when update_status)",
        request=StageRecordInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: StageRecordEnvelopeSerializer},
        examples=[OpenApiExample("in production", value=RECORD_EXAMPLE, request_only=True)],
    )
    def post(self, request):
        raw = body_params(request)
        form_encoded = isinstance(request.data, QueryDict)
        if form_encoded:
            raw = form_params(request.data)
        params = StageRecordInputSerializer(data=raw, context={"form_encoded": form_encoded})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        subject: dict[str, Any] = {}
        if data.get("order_id") is not None:
            subject["order"] = selectors.order_for_stage_post(
                order_id=data["order_id"], user=request.user
            )
        else:
            subject["order_request"] = selectors.order_request_for_stage_post(
                order_request_id=data["order_request_id"], user=request.user
            )
        order_hash = data.get("order") or {}
        recorded = stage_record(
            **subject,
            stage=data["stage"],
            actor=Actor.for_request(request),
            update_status=data["update_status"],
            stage_at=data.get("stage_at_mt"),
            stage_trigger=data.get("stage_trigger") or "",
            source_created_at=data.get("created_at_mt"),
            notified_at=data.get("notified_at_mt"),
            created_by=data.get("created_by") or None,
            created_by_user=data.get("created_by_id"),
            updated_by=data.get("updated_by") or "",
            updated_by_user=data.get("updated_by_id"),
            notes=data.get("notes") or "",
            event_slug=data.get("event_slug") or "",
            status_details=_status_details(data),
            order_details=order_hash,
            payload={key: raw[key] for key in ("appointment", "client", "order") if raw.get(key)},
        )
        body: dict[str, Any] = {
            "order_stage": _HISTORY_ROW(recorded.history),
            "order_status": _STATUS_ROW(recorded.status) if recorded.status else None,
            "status_updated": recorded.moved,
        }
        if data.get("application_view"):
            body["application"] = application_payload(request.application, data["application_view"])
        return envelope_response(
            body,
            message=_message(recorded, data["update_status"]),
            session=session_payload(request.auth, view=data.get("session_view")),
        )


class OrderTransitionsView(APIView):
    """GET /api/orders/{order_id}/transitions — where the order may go now, and why not."""

    required_access = {"get": Access(ab.ORDERS_READ, "stages.view_orderstage")}

    @extend_schema(
        operation_id="order_transitions",
        summary="The stages an order may move to now; for each refused one, why",
        parameters=[SESSION_VIEW_PARAM],
        responses={200: StageTransitionsEnvelopeSerializer},
    )
    def get(self, request, order_id: int):
        order = selectors.order_get_for_stages(order_id=order_id, user=request.user)
        transitions = selectors.order_transitions(order=order)
        return envelope_response(
            StageTransitionsSerializer(transitions).data,
            message=f"{len(transitions.allowed)} stage(s) allowed, "
            f"{len(transitions.refused)} refused.",
            session=session_payload(request.auth, view=session_view_param(request)),
        )


class OrderStageHistoryView(APIView):
    """GET /api/orders/{order_id}/stages — the order's stage timeline, oldest first."""

    required_access = {"get": Access(ab.STAGES_READ, "stages.view_orderstage")}

    @extend_schema(
        operation_id="order_stage_history",
        summary="An order's stage history: who acted, trigger, times, time in previous stage",
        parameters=[SESSION_VIEW_PARAM],
        responses={200: StageTimelineEnvelopeSerializer},
    )
    def get(self, request, order_id: int):
        order = selectors.order_get_for_stages(order_id=order_id, user=request.user)
        rows = selectors.order_stage_history(order=order)
        timeline = {
            "order_id": order.pk,
            "current": getattr(order, "current_status", None),
            "stages": rows,
        }
        return envelope_response(
            StageTimelineSerializer(timeline).data,
            message=f"{len(rows)} stage row(s).",
            session=session_payload(request.auth, view=session_view_param(request)),
        )

"""POST /api/v2/orders/{order_number}/complete (order-complete-api-v2.txt).

The document has its own bodies: `{"orderNumber", "message"}` on success and
`{"error": "Could not complete order", "details": ["Error Code: NN", "Error Message: ..."]}`
for the order's refusals (codes 01–05 and 20). Authentication, permission and parameter
errors keep the platform envelope. The order is only flagged here; the job tracker
completes it (orders.services.completion).
"""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import abilities as ab
from accounts.actors import Actor
from config.api.envelope import ErrorEnvelopeSerializer
from config.api.errors import InvalidParam
from config.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentPostMixin
from config.api.params import CONTROL_PARAMS, body_params
from config.api.permissions import Access
from orders import services
from orders.services.completion import (
    ALREADY_REQUESTED,
    COMPLETED,
    DELETED,
    FLOW_CODE,
    INVALID,
    NOT_FOUND,
    ON_HOLD,
    Refusal,
)

COULD_NOT_COMPLETE = "Could not complete order"
SUCCESSFUL = "Successful"
NO_PARAMETERS = "This endpoint takes no parameters: the order number in the path is all it needs."


class OrderCompleteSuccessSerializer(serializers.Serializer):
    orderNumber = serializers.CharField(help_text="The order number of the path.")
    message = serializers.CharField(default=SUCCESSFUL)


class OrderCompleteErrorSerializer(serializers.Serializer):
    error = serializers.CharField(default=COULD_NOT_COMPLETE)
    details = serializers.ListField(
        child=serializers.CharField(),
        help_text='Two strings: "Error Code: NN" and "Error Message: ...".',
    )


def completion_error_body(refusal: Refusal) -> dict:
    return {
        "error": COULD_NOT_COMPLETE,
        "details": [f"Error Code: {refusal.code}", f"Error Message: {refusal.message}"],
    }


def _example(name: str, refusal: Refusal, summary: str) -> OpenApiExample:
    return OpenApiExample(name, value=completion_error_body(refusal), summary=summary)


REFUSAL_EXAMPLES = [
    _example("02", DELETED, "The order is flagged for deletion."),
    _example("03", INVALID, "The order is marked invalid (the document's wording)."),
    _example("04", COMPLETED, "The order is already complete."),
    _example(
        "04 (requested)",
        ALREADY_REQUESTED,
        "A completion is already requested and not yet done; nothing more to do.",
    ),
    _example("05", ON_HOLD, "The order is on hold (hold flag or stage on-hold)."),
    _example(
        "20",
        Refusal(FLOW_CODE, "Needs Backside Coat!"),
        "The first unmet job-flow rule, with its own message; also the stage catalogue's "
        "reason when the current stage cannot move to complete.",
    ),
]


def _refuse_parameters(request) -> None:
    """Nothing is expected besides the path: a parameter the caller thinks counts is refused
    rather than silently ignored (the steering parameters of every endpoint are allowed)."""
    given = set(body_params(request, required=False)) | set(request.query_params)
    unexpected = sorted(given - CONTROL_PARAMS)
    if unexpected:
        raise InvalidParam(unexpected[0], NO_PARAMETERS)


class OrderCompleteView(IdempotentPostMixin, APIView):
    """Flag an order for completion; the job tracker completes it."""

    own_error_bodies = True
    required_access = {"post": Access(ab.ORDERS_WRITE, "orders.request_completion")}

    @extend_schema(
        operation_id="orders_complete_v2",
        summary="Request completion of an order",
        description=(
            "Flags the order for completion and enqueues one completion job; the order is "
            "completed when the job tracker (`manage.py db_worker`) runs it, which re-checks "
            "everything and records the `complete` stage (or a `completion-failed` event). "
            "A second request while one is pending answers code 04 `Order completion already "
            "requested`. The request takes no body and no query parameters (a `{}` body is "
            "fine); any other parameter is refused with `invalid-param` in the platform "
            "envelope. Authentication and permission failures use the platform envelope too. "
            "Needs the `orders:write` ability and the `orders.request_completion` permission."
        ),
        parameters=[
            OpenApiParameter(
                "order_number",
                str,
                OpenApiParameter.PATH,
                description="The order number (not the id). Anything that is not one: 01.",
            ),
            IDEMPOTENCY_KEY_PARAMETER,
        ],
        request=None,
        responses={
            201: OpenApiResponse(
                OrderCompleteSuccessSerializer,
                description="Flagged for completion.",
                examples=[
                    OpenApiExample(
                        "Successful", value={"orderNumber": "33719", "message": SUCCESSFUL}
                    )
                ],
            ),
            400: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="OrderCompleteBadRequest",
                    serializers=[OrderCompleteErrorSerializer, ErrorEnvelopeSerializer],
                    resource_type_field_name=None,
                ),
                description=(
                    "Codes 02, 03, 04, 05, 20 in the document's body. A parameter where none "
                    "is expected, or a body that is not a JSON object: the platform envelope "
                    "(invalid-param, invalid-encoded-params)."
                ),
                examples=REFUSAL_EXAMPLES,
            ),
            401: OpenApiResponse(
                ErrorEnvelopeSerializer, description="invalid-token, session-expired (envelope)"
            ),
            403: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="permission-denied: needs orders:write and orders.request_completion",
            ),
            404: OpenApiResponse(
                OrderCompleteErrorSerializer,
                description="Code 01: no order has this number.",
                examples=[_example("01", NOT_FOUND, "No order has this number.")],
            ),
            409: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="idempotency-key-in-progress: the first request with this key runs",
            ),
            422: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="idempotency-key-reused: this key came with another request",
            ),
            500: OpenApiResponse(
                ErrorEnvelopeSerializer, description="application-crash (carries request_id)"
            ),
        },
    )
    def post(self, request, order_number: str):
        _refuse_parameters(request)
        try:
            services.order_completion_request(
                order_number=order_number, actor=Actor.for_request(request)
            )
        except services.CompletionRefused as refused:
            return Response(completion_error_body(refused.refusal), status=refused.http_status)
        return Response(
            {"orderNumber": order_number, "message": SUCCESSFUL}, status=status.HTTP_201_CREATED
        )

"""The platform envelope: `{status, message, data, session}` on success, `{status, message,
errors}` on failure."""

from typing import Any

from rest_framework import serializers, status
from rest_framework.response import Response

SUCCESS = "action-successful"


def envelope_response(
    data: Any,
    *,
    message: str = "The request was successful.",
    session: dict[str, Any] | None = None,
    http_status: int = status.HTTP_200_OK,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"status": SUCCESS, "message": message, "data": data, "session": session}
    return Response(body, status=http_status, headers=headers)


def error_body(
    slug: str, message: str, errors: dict[str, list[str]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": slug, "message": message, "errors": errors or {}}
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


class ErrorEnvelopeSerializer(serializers.Serializer):
    """The error body every endpoint answers with, unless its own contract shows another."""

    status = serializers.CharField(help_text="The status slug, e.g. invalid-param.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per parameter name.",
    )
    session = serializers.DictField(
        required=False, help_text="The caller's session (client-required only)."
    )
    request_id = serializers.CharField(
        required=False, help_text="Quote it when reporting an application-crash."
    )


class SuccessEnvelopeSerializer(serializers.Serializer):
    status = serializers.CharField(default=SUCCESS)
    message = serializers.CharField()
    data = serializers.JSONField()
    session = serializers.DictField(allow_null=True)

"""One exception handler: every error of every API endpoint becomes the platform envelope."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.response import Response

from config.api import errors
from config.api.envelope import error_body
from config.api.request_id import current_request_id

logger = logging.getLogger("orderdesk.api")


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF error detail (nested dicts/lists) → {"param" or "hash.key": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "params" if key == "non_field_errors" else str(key)
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "params": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "params": [str(detail)]}


def _has_required_code(codes) -> bool:
    if isinstance(codes, dict):
        return any(_has_required_code(value) for value in codes.values())
    if isinstance(codes, list):
        return any(_has_required_code(value) for value in codes)
    return codes in ("required", "missing")


def _from_validation_error(exc: drf.ValidationError) -> errors.ApiError:
    fields = _flatten(exc.detail)
    names = ", ".join(fields)
    # one parameter with one reason reads as the platform's own refusals do ("Invalid
    # parameter: email. Enter a valid email address."); several are listed by name
    only, reason = None, None
    if len(fields) == 1:
        ((only, reasons),) = fields.items()
        reason = reasons[0] if len(reasons) == 1 else None
    if _has_required_code(exc.get_codes()):
        if reason is not None:
            return errors.MissingParam(only, reason, errors=fields)
        missing = errors.MissingParam("params", errors=fields)
        missing.message = f"Missing or invalid parameters: {names}."
        return missing
    if reason is not None:
        return errors.InvalidParam(only, reason, errors=fields)
    return errors.InvalidParam(None, f"Invalid parameters: {names}.", errors=fields)


def as_api_error(exc: Exception) -> errors.ApiError | None:
    """Map any exception the API can meet to a slugged ApiError; None for a crash."""
    if isinstance(exc, errors.ApiError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return _from_validation_error(exc)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"params": exc.messages}
        return _from_validation_error(drf.ValidationError(detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return errors.InvalidContentType(
            f"{exc.detail} Send application/json (or multipart/form-data for file uploads)."
        )
    if isinstance(exc, drf.ParseError):
        return errors.InvalidEncodedParams(f"The request body could not be decoded: {exc.detail}")
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return errors.InvalidToken(
            "No authentication token was given. Send 'Authorization: Bearer <token>'."
            if isinstance(exc, drf.NotAuthenticated)
            else str(exc.detail)
        )
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return errors.PermissionDenied()
    if isinstance(exc, (Http404, drf.NotFound)):
        return errors.NotFound(None, "No such object, or you cannot see it.")
    if isinstance(exc, drf.MethodNotAllowed):
        error = errors.ApiError(str(exc.detail), http_status=status.HTTP_405_METHOD_NOT_ALLOWED)
        error.slug = "method-not-allowed"
        return error
    if isinstance(exc, drf.NotAcceptable):
        error = errors.ApiError(str(exc.detail), http_status=status.HTTP_406_NOT_ACCEPTABLE)
        error.slug = "not-acceptable"
        return error
    if isinstance(exc, drf.Throttled):
        error = errors.ApiError(str(exc.detail), http_status=status.HTTP_429_TOO_MANY_REQUESTS)
        error.slug = "rate-limited"
        return error
    return None


def crash_body() -> dict:
    return error_body(
        errors.ApiError.slug,
        errors.ApiError.default_message,
        request_id=current_request_id(),
    )


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: never a traceback, always the envelope."""
    error = as_api_error(exc)
    if error is None:
        view = context.get("view")
        logger.exception("application-crash in %s", type(view).__name__ if view else "?")
        return Response(crash_body(), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    body = error_body(error.slug, error.message, error.errors, session=error.session)
    headers = {}
    if error.http_status == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return Response(body, status=error.http_status, headers=headers)


@csrf_exempt
def api_route_not_found(request, exception=None):
    """handler404 for /api/: route-non-existent, 404, in the envelope."""
    error = errors.RouteNonExistent(f"There is no API route {request.method} {request.path}.")
    return JsonResponse(error_body(error.slug, error.message), status=error.http_status)


def api_crash(request):
    return JsonResponse(crash_body(), status=status.HTTP_500_INTERNAL_SERVER_ERROR)

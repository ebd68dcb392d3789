"""Domain errors carrying the platform's status slugs; the exception handler renders them."""

from typing import Any

from rest_framework import status


class ApiError(Exception):
    slug = "application-crash"
    http_status = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message = "Something went wrong on our side. Please try again later."

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        http_status: int | None = None,
        session: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors or {}
        self.session = session
        if http_status is not None:
            self.http_status = http_status
        super().__init__(self.message)


class InvalidToken(ApiError):
    slug = "invalid-token"
    http_status = status.HTTP_401_UNAUTHORIZED
    default_message = "The authentication token is invalid."


class SessionExpired(ApiError):
    slug = "session-expired"
    http_status = status.HTTP_401_UNAUTHORIZED
    default_message = (
        "Your session has expired (older than 7 days or unused for 72 hours). Please log in again."
    )


class ClientRequired(ApiError):
    slug = "client-required"
    http_status = status.HTTP_401_UNAUTHORIZED
    default_message = (
        "Your user has no client, employee or liaison record. "
        "Register as a client with /api/v1/users/client_register."
    )


class PermissionDenied(ApiError):
    slug = "permission-denied"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "You do not have permission to perform this action."


class MissingParam(ApiError):
    slug = "missing-param"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "A required parameter is missing."

    def __init__(self, param: str, message: str | None = None, **kwargs: Any) -> None:
        text = message or f"{param} is required."
        kwargs.setdefault("errors", {param: [text]})
        super().__init__(f"Missing parameter: {param}. {text}", **kwargs)


class InvalidParam(ApiError):
    slug = "invalid-param"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "A parameter is invalid."

    def __init__(self, param: str | None = None, message: str | None = None, **kwargs: Any) -> None:
        text = message or f"{param} is invalid."
        if param is not None:
            kwargs.setdefault("errors", {param: [text]})
            summary = f"Invalid parameter: {param}. {text}"
        else:
            summary = text
        super().__init__(summary, **kwargs)


class NotFound(InvalidParam):
    """An id that names nothing the caller can see: invalid-param, 400, as the slug table
    says ("passing an id that doesn't exist"); the same answer for another client's object, so
    that an id does not tell whether it exists."""


class InvalidContentType(ApiError):
    slug = "invalid-content-type"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "The request's Content-Type cannot be read by this endpoint."


class NoParamsDecoded(ApiError):
    slug = "no-params-decoded"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "The request body was decoded, but it holds no parameters."


class InvalidEncodedParams(ApiError):
    slug = "invalid-encoded-params"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = "The request body could not be decoded."


class RouteNonExistent(ApiError):
    slug = "route-non-existent"
    http_status = status.HTTP_404_NOT_FOUND
    default_message = "This API route does not exist."


class EmailFailed(ApiError):
    slug = "mandrill-email-failed"
    http_status = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message = "The e-mail could not be sent. The team has been notified."


class StorageUnavailable(ApiError):
    """The file storage refused a write (full, read-only, unreachable): not a bug, and nothing
    was created; the caller may retry later."""

    slug = "storage-unavailable"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = (
        "The file storage cannot take the file now (it is full or read-only); nothing was "
        "created. Please try again later."
    )


class Conflict(ApiError):
    slug = "conflict"
    http_status = status.HTTP_409_CONFLICT
    default_message = "The request conflicts with the current state of the resource."

"""Reading the request's parameters the same way on every endpoint."""

from typing import Any

from django.http import QueryDict

from config.api.errors import InvalidEncodedParams, NoParamsDecoded

# Parameters that steer the request rather than describe the change.
CONTROL_PARAMS = frozenset({"token", "application", "application_view", "session_view", "view"})


class FormParams(dict):
    """The parameters of a form post (urlencoded or multipart): text only, as typed."""


def body_params(request, *, required: bool = True) -> dict[str, Any]:
    """The body as a dict; no-params-decoded when empty, invalid-encoded-params when not a map."""
    data = request.data
    if isinstance(data, QueryDict):
        params: dict[str, Any] = FormParams((key, data.get(key)) for key in data)
        params.update({key: request.FILES[key] for key in getattr(request, "FILES", {})})
    elif isinstance(data, dict):
        params = dict(data)
    else:
        raise InvalidEncodedParams("The request body must be a JSON object (key: value pairs).")
    if required and not (set(params) - CONTROL_PARAMS):
        raise NoParamsDecoded()
    return params

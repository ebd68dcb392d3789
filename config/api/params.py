"""Reading the request's parameters the same way on every endpoint."""

from collections.abc import Iterable
from typing import Any

from django.http import QueryDict

from config.api.errors import InvalidEncodedParams, InvalidParam, NoParamsDecoded

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


def _given(value: Any) -> bool:
    return value is not None and value != ""


def request_param(request, name: str) -> Any:
    """`name` from the query string or the body (when the body is a mapping); blank is not
    given (None). Given in both with different values it is invalid-param naming it — the
    platform's rule for one parameter sent twice (docs/api.md: the token in the header and as
    a parameter), never a silent pick of one."""
    query = request.query_params.get(name)
    data = request.data
    body = data.get(name) if hasattr(data, "get") else None
    if _given(query) and _given(body) and query != body:
        raise InvalidParam(
            name, f"{name} is given in the query string and in the body with different values."
        )
    if _given(query):
        return query
    return body if _given(body) else None


def refuse_unknown_params(names: Iterable[str], accepted: Iterable[str]) -> None:
    """invalid-param naming the first parameter this API does not take (none is ignored)."""
    unknown = sorted(set(names) - set(accepted))
    if unknown:
        raise InvalidParam(unknown[0], f"{unknown[0]} is not a parameter of this API.")


def refuse_body_params_in_query(request, *, body_only: Iterable[str], accepted: Iterable[str]):
    """The query string of a write carries only the steering parameters: a field of the body
    sent there is refused by name (it would otherwise change nothing, silently), and so is
    any other parameter the endpoint does not take."""
    given = set(request.query_params)
    misplaced = sorted(given & set(body_only))
    if misplaced:
        raise InvalidParam(
            misplaced[0], f"{misplaced[0]} goes in the request body, not in the query string."
        )
    refuse_unknown_params(given, accepted)

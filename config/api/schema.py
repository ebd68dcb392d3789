"""OpenAPI: every operation documents the error envelope next to its own responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from config.api.envelope import ErrorEnvelopeSerializer

ERROR_RESPONSES = {
    "400": "missing-param, invalid-param (also an id that names nothing you can see), "
    "invalid-content-type, no-params-decoded, invalid-encoded-params",
    "401": "invalid-token, session-expired, client-required (carries `session`)",
    "403": "permission-denied: the role lacks the permission or the token the ability",
    "404": "route-non-existent: no such path (an id in the path that is not a number, say)",
    "500": "application-crash (carries `request_id`)",
}


# A contract with its own error bodies still answers authentication and permission failures
# in the envelope (the authentication and permission classes raise before the view runs).
AUTH_RESPONSES = {code: ERROR_RESPONSES[code] for code in ("401", "403")}
# Answers that only operations taking these headers give.
HEADER_RESPONSES = {
    "If-Match": {"412": "precondition-failed: the resource changed since the ETag you sent"},
    "Idempotency-Key": {
        "409": "idempotency-key-in-progress: the first request with this key still runs",
        "422": "idempotency-key-reused: the key was used for a different request",
    },
}


class EnvelopeAutoSchema(AutoSchema):
    # set on a view whose contract has its own error bodies (customer API, complete v2)
    own_error_bodies_attr = "own_error_bodies"

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        # Every endpoint reads an optional query parameter sent empty (`?per_page=`) as not
        # given, as forms send it; say so, so that clients and fuzzers know.
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return operation

    def _map_basic_serializer(self, serializer, direction):
        # a serializer whose field set varies (e.g. by a `view` parameter) names the fields
        # every answer has; the others are documented but not required
        result = super()._map_basic_serializer(serializer, direction)
        always = getattr(serializer, "schema_required_fields", None)
        if always is not None and "required" in result:
            result["required"] = [name for name in result["required"] if name in always]
        return result

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if getattr(self.view, self.own_error_bodies_attr, False):
            documented = dict(AUTH_RESPONSES)
        else:
            documented = dict(ERROR_RESPONSES)
        headers = {getattr(p, "name", None) for p in self.get_override_parameters()}
        for name, extra in HEADER_RESPONSES.items():
            if name in headers:
                documented.update(extra)
        for code, description in documented.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorEnvelopeSerializer, code)
                response["description"] = description
                responses[code] = response
        return responses


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An application token or a session token (`od_...`). The Plano "
            "endpoints also accept it as a `token` parameter in the body or query string.",
        }

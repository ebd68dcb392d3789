"""OpenAPI: every operation documents the error envelope next to its own responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from config.api.envelope import ErrorEnvelopeSerializer

ERROR_RESPONSES = {
    "400": "missing-param, invalid-param, invalid-content-type, no-params-decoded, "
    "invalid-encoded-params",
    "401": "invalid-token, session-expired, client-required (carries `session`)",
    "403": "permission-denied: the role lacks the permission or the token the ability",
    "404": "invalid-param: no such object, or not yours",
    "500": "application-crash (carries `request_id`)",
}


class EnvelopeAutoSchema(AutoSchema):
    # set on a view whose contract has its own error bodies (customer API, complete v2)
    own_error_bodies_attr = "own_error_bodies"

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if getattr(self.view, self.own_error_bodies_attr, False):
            return responses
        for code, description in ERROR_RESPONSES.items():
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

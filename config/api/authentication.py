"""Bearer tokens (and, on the Plano endpoints, a `token` parameter) → user and ApiToken."""

from rest_framework.authentication import BaseAuthentication

from accounts.services import token_authenticate
from config.api.errors import InvalidParam, InvalidToken
from config.api.params import request_param


def token_param(request) -> str | None:
    """The `token` of the query string or body, when the body is a mapping (the two
    disagreeing: invalid-param, as for any parameter sent twice)."""
    value = request_param(request, "token")
    if value is not None and not isinstance(value, str):
        raise InvalidParam("token", "token must be a string.")
    return value


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header_token = None
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != self.keyword.lower() or not value.strip():
                raise InvalidToken("The Authorization header must be 'Bearer <token>'.")
            header_token = value.strip()
        view = request.parser_context.get("view") if request.parser_context else None
        param_token = token_param(request) if getattr(view, "accepts_token_param", False) else None
        if header_token and param_token and header_token != param_token:
            raise InvalidParam(
                "token", "The Authorization header and the token parameter name different tokens."
            )
        raw = header_token or param_token
        if not raw:
            return None
        token = token_authenticate(raw=raw)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'

"""Who may call what: the role in effect must hold the permission AND the token the ability.

A view declares `required_access = {"<action or method>": Access(ability, permission)}`;
an action or method it does not declare is refused.
"""

from dataclasses import dataclass

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission

from accounts.selectors import role_permissions, session_payload, user_has_role_record
from accounts.services import application_get
from config.api import errors


@dataclass(frozen=True)
class Access:
    ability: str | None
    permission: str | None


def requested_application_slug(request) -> str | None:
    value = request.query_params.get("application")
    if value is None and hasattr(request.data, "get"):
        value = request.data.get("application")
    if value is not None and not isinstance(value, str):
        raise errors.InvalidParam("application", "application must be a string.")
    return value


SESSION_VIEW_NAMES = ("default", "minimal", "full")


def session_view_param(request) -> str | None:
    """`session_view` of the query or body; blank is not given, anything else unknown is
    invalid-param (as on every endpoint that validates its parameters: no silent typo)."""
    value = request.query_params.get("session_view")
    if value is None and hasattr(request.data, "get"):
        value = request.data.get("session_view")
    if value is None or value == "":
        return None
    if value not in SESSION_VIEW_NAMES:
        raise errors.InvalidParam("session_view", "session_view must be minimal, default or full.")
    return value


class HasRoleAndAbility(BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None:
            raise errors.InvalidToken(
                "No authentication token was given. Send 'Authorization: Bearer <token>'."
            )
        if getattr(view, "requires_role_record", True) and not user_has_role_record(request.user):
            raise errors.ClientRequired(
                session=session_payload(token, view=session_view_param(request))
            )
        if getattr(view, request.method.lower(), None) is None:
            # the path exists, the method does not: 405 (with Allow), not "not open to tokens"
            raise MethodNotAllowed(request.method)
        key = getattr(view, "action", None) or request.method.lower()
        access = getattr(view, "required_access", {}).get(key)
        if access is None:
            access = getattr(view, "required_access", {}).get(request.method.lower())
        if access is None:
            raise errors.PermissionDenied("This action is not open to API tokens.")
        slug = requested_application_slug(request)
        application = token.application
        if slug and not (slug == application.slug and application.is_active):
            application = application_get(slug=slug)
        request.application = application
        if access.ability and not token.has_ability(access.ability):
            raise errors.PermissionDenied(f"This token lacks the '{access.ability}' ability.")
        if access.permission:
            granted = role_permissions(user=request.user, application=application)
            if "*" not in granted and access.permission not in granted:
                raise errors.PermissionDenied(
                    f"Your role in '{application.slug}' does not allow this "
                    f"(needs {access.permission})."
                )
        return True


class AuthenticatedSession(BasePermission):
    """Any live token; no role record needed (session endpoints, client registration)."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            raise errors.InvalidToken(
                "No authentication token was given. Send 'Authorization: Bearer <token>'."
            )
        return True

"""Who may call what: the role in effect must hold the permission AND the token the ability.

A view declares `required_access = {"<action or method>": Access(ability, permission)}`;
an action or method it does not declare is refused. HEAD needs what GET needs (it is GET
without the body); OPTIONS needs what at least one method of the view needs (it reads no
object and tells the caller which methods the path has).
"""

from dataclasses import dataclass

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.exceptions import PermissionDenied as MetadataProbeRefused
from rest_framework.permissions import BasePermission

from accounts.selectors import role_permissions, session_payload, user_has_role_record
from accounts.services import application_get
from config.api import errors
from config.api.params import request_param


@dataclass(frozen=True)
class Access:
    ability: str | None
    permission: str | None


def requested_application_slug(request) -> str | None:
    value = request_param(request, "application")
    if value is not None and not isinstance(value, str):
        raise errors.InvalidParam("application", "application must be a string.")
    return value


SESSION_VIEW_NAMES = ("default", "minimal", "full")


def session_view_param(request) -> str | None:
    """`session_view` of the query or body; blank is not given, anything else unknown is
    invalid-param (as on every endpoint that validates its parameters: no silent typo)."""
    value = request_param(request, "session_view")
    if value is None:
        return None
    if value not in SESSION_VIEW_NAMES:
        raise errors.InvalidParam("session_view", "session_view must be minimal, default or full.")
    return value


NOT_OPEN = "This action is not open to API tokens."


def _declared_access(view, method: str) -> Access | None:
    """What `method` (lower case) needs on this view: the entry of its viewset action, else of
    the method; HEAD is GET's."""
    if method == "head":
        method = "get"
    required = getattr(view, "required_access", {})
    action = (getattr(view, "action_map", None) or {}).get(method)
    access = required.get(action) if action else None
    return access if access is not None else required.get(method)


def _refusal(request, access: Access | None, application) -> errors.ApiError | None:
    """Why the caller may not use `access`, or None when they may."""
    if access is None:
        return errors.PermissionDenied(NOT_OPEN)
    if access.ability and not request.auth.has_ability(access.ability):
        return errors.PermissionDenied(f"This token lacks the '{access.ability}' ability.")
    if access.permission:
        granted = role_permissions(user=request.user, application=application)
        if "*" not in granted and access.permission not in granted:
            return errors.PermissionDenied(
                f"Your role in '{application.slug}' does not allow this "
                f"(needs {access.permission})."
            )
    return None


def _methods(view) -> list[str]:
    """The view's methods that do something (not HEAD, which is GET, nor OPTIONS)."""
    return [m.lower() for m in view.allowed_methods if m not in ("HEAD", "OPTIONS")]


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
        method = request.method.lower()
        if getattr(view, method, None) is None:
            # the path exists, the method does not: 405 (with Allow), not "not open to tokens"
            raise MethodNotAllowed(request.method)
        slug = requested_application_slug(request)
        application = token.application
        if slug and not (slug == application.slug and application.is_active):
            application = application_get(slug=slug)
        request.application = application
        if method == "options":
            refusals = [
                _refusal(request, _declared_access(view, name), application)
                for name in _methods(view)
            ]
            if refusals and all(refusals):
                raise refusals[0]
            return True
        refusal = _refusal(request, _declared_access(view, method), application)
        if refusal is None:
            return True
        if request._request.method == "OPTIONS":
            # DRF's OPTIONS metadata probes POST/PUT with a copy of the request: a method the
            # caller may not use is left out of the answer (DRF catches its own exception)
            raise MetadataProbeRefused(refusal.message)
        raise refusal


class AuthenticatedSession(BasePermission):
    """Any live token; no role record needed (session endpoints, client registration)."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            raise errors.InvalidToken(
                "No authentication token was given. Send 'Authorization: Bearer <token>'."
            )
        return True

"""Reads for accounts: the role in effect, role records, the session object."""

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q

from accounts.models import ApiToken, Application, ApplicationRole, Client, User


def user_has_role_record(user: User) -> bool:
    """True when the user has a client, employee or liaison record (one query)."""
    return (
        User.objects.filter(pk=user.pk)
        .filter(Q(client__isnull=False) | Q(employee__isnull=False) | Q(liaison__isnull=False))
        .exists()
    )


def role_permissions(*, user: User, application: Application) -> set[str]:
    """`app_label.codename` of every permission the user's roles give in this application."""
    if not user.is_active:
        return set()
    if user.is_superuser:
        return {"*"}
    rows = Permission.objects.filter(
        group__application_roles__user=user,
        group__application_roles__application=application,
    ).values_list("content_type__app_label", "codename")
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def role_names(*, user: User, application: Application) -> list[str]:
    return sorted(
        ApplicationRole.objects.filter(user=user, application=application).values_list(
            "role__name", flat=True
        )
    )


SESSION_VIEWS = ("default", "minimal", "full")


def session_payload(
    token: ApiToken | None, *, view: str | None = None, raw: str | None = None
) -> dict[str, Any] | None:
    """The `session` object of the envelope; None for application tokens.

    Views: `minimal` (token prefix and expiry), `default` (+ user and application),
    `full` (+ roles and abilities). `raw` is included only when the session is created.
    """
    if token is None or token.kind != ApiToken.Kind.SESSION:
        return None
    view = view if view in SESSION_VIEWS else "default"
    payload: dict[str, Any] = {
        "id": token.pk,
        "token_prefix": token.prefix,
        "remember_me": token.remember_me,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
    }
    if raw is not None:
        payload["token"] = raw
    if view == "minimal":
        return payload
    user = token.user
    payload["application"] = token.application.slug
    payload["user"] = {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_client": Client.objects.filter(user_id=user.pk).exists(),
    }
    if view == "full":
        payload["roles"] = role_names(user=user, application=token.application)
        payload["abilities"] = list(token.abilities)
    return payload

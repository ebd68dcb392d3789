"""Reads for accounts: the role in effect, role records, the session object."""

from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission
from django.db import router
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Cast, Concat

from accounts.models import ApiToken, Application, ApplicationRole, Client, Employee, Liaison, User
from config.statements import Placeholders, Statement, model_from_row


def user_has_role_record(user: User) -> bool:
    """True when the user has a client, employee or liaison record (one query, none when
    the user came with its token's Principal)."""
    principal = principal_of(user)
    if principal is not None:
        return principal.has_role_record
    return (
        User.objects.filter(pk=user.pk)
        .filter(Q(client__isnull=False) | Q(employee__isnull=False) | Q(liaison__isnull=False))
        .exists()
    )


def user_is_employee(user: User) -> bool:
    principal = principal_of(user)
    if principal is not None:
        return principal.is_employee
    return Employee.objects.filter(user_id=user.pk).exists()


def user_client_ids(user: User) -> list[int]:
    """The clients whose orders this user may see: their own client, and a liaison's clients."""
    principal = principal_of(user)
    if principal is not None:
        ids = set(principal.liaison_client_ids)
        if principal.client_id is not None:
            ids.add(principal.client_id)
        return sorted(ids)
    ids = list(Client.objects.filter(user_id=user.pk).values_list("pk", flat=True))
    ids += Liaison.clients.through.objects.filter(liaison__user_id=user.pk).values_list(
        "client_id", flat=True
    )
    return sorted(set(ids))


def role_permissions(*, user: User, application: Application) -> Set[str]:
    """`app_label.codename` of every permission the user's roles give in this application."""
    if not user.is_active:
        return set()
    if user.is_superuser:
        return {"*"}
    principal = principal_of(user)
    if principal is not None:
        return principal.permissions.get(application.pk, frozenset())
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


# --------------------------------------------------------------------------- the principal
# Every API request authenticates and authorizes with one statement: the token row, its user
# and application, the user's role records (client, employee, liaison and a liaison's clients)
# and the permissions of every role the user holds, per application. The statement is built
# with the ORM and compiled once per database alias (its SQL depends only on the models and
# the backend); each request executes it with its token prefix. Nothing about the token's
# validity is cached: the row is read from the database every time.


@dataclass(frozen=True, slots=True)
class Principal:
    """What authorization needs to know about a token's user, read with the token."""

    client_id: int | None
    is_employee: bool
    is_liaison: bool
    liaison_client_ids: tuple[int, ...]
    permissions: dict[int, frozenset[str]]  # application id → {"app_label.codename", ...}

    @property
    def has_role_record(self) -> bool:
        return self.client_id is not None or self.is_employee or self.is_liaison


_PRINCIPAL_ATTRIBUTE = "_principal"  # on the request's User, like Django's _perm_cache
_TOKEN_FIELDS = tuple(f.attname for f in ApiToken._meta.concrete_fields)
_USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields)
_APPLICATION_FIELDS = tuple(f.attname for f in Application._meta.concrete_fields)
_EXTRA_COLUMNS = ("p_client_id", "p_is_employee", "p_is_liaison", "p_liaison_clients", "p_perms")


def _principal_queryset(p: Placeholders) -> QuerySet[ApiToken]:
    user = OuterRef("user_id")
    liaison_clients = (
        Liaison.clients.through.objects.filter(liaison__user_id=user)
        .order_by()
        .values("liaison__user_id")
        .annotate(ids=StringAgg(Cast("client_id", CharField()), Value(",")))
        .values("ids")
    )
    permissions = (
        Permission.objects.filter(group__application_roles__user_id=user)
        .order_by()
        .values("group__application_roles__user_id")
        .annotate(
            names=StringAgg(
                Concat(
                    Cast("group__application_roles__application_id", CharField()),
                    Value(":"),
                    "content_type__app_label",
                    Value("."),
                    "codename",
                    output_field=CharField(),
                ),
                Value(","),
            )
        )
        .values("names")
    )
    return (
        ApiToken.objects.filter(prefix=p.text("prefix"))
        .order_by()
        .annotate(
            p_client_id=Subquery(Client.objects.filter(user_id=user).order_by().values("pk")[:1]),
            p_is_employee=Exists(Employee.objects.filter(user_id=user)),
            p_is_liaison=Exists(Liaison.objects.filter(user_id=user)),
            p_liaison_clients=Subquery(liaison_clients),
            p_perms=Subquery(permissions),
        )
        .values_list(
            *_TOKEN_FIELDS,
            *(f"user__{name}" for name in _USER_FIELDS),
            *(f"application__{name}" for name in _APPLICATION_FIELDS),
            *_EXTRA_COLUMNS,
        )
    )


# compiled once per database alias: no query building per request (config/statements.py)
_PRINCIPAL = Statement(ApiToken, _principal_queryset)


def _split_ids(text: str | None) -> tuple[int, ...]:
    return tuple(sorted({int(part) for part in text.split(",")})) if text else ()


def _permissions_by_application(text: str | None) -> dict[int, frozenset[str]]:
    by_application: dict[int, set[str]] = {}
    for entry in text.split(",") if text else ():
        application_id, _, name = entry.partition(":")
        by_application.setdefault(int(application_id), set()).add(name)
    return {key: frozenset(names) for key, names in by_application.items()}


def token_with_principal(*, prefix: str) -> ApiToken | None:
    """The token with this prefix, its `user` (carrying its Principal) and `application`,
    in one query; None when no token has the prefix."""
    rows = _PRINCIPAL.rows(prefix=prefix)
    if not rows:
        return None
    row = rows[0]
    alias = router.db_for_read(ApiToken)
    end_token = len(_TOKEN_FIELDS)
    end_user = end_token + len(_USER_FIELDS)
    end_application = end_user + len(_APPLICATION_FIELDS)
    token = model_from_row(ApiToken, alias, _TOKEN_FIELDS, row[:end_token])
    user = model_from_row(User, alias, _USER_FIELDS, row[end_token:end_user])
    application = model_from_row(
        Application, alias, _APPLICATION_FIELDS, row[end_user:end_application]
    )
    client_id, is_employee, is_liaison, liaison_clients, perms = row[end_application:]
    setattr(
        user,
        _PRINCIPAL_ATTRIBUTE,
        Principal(
            client_id=client_id,
            is_employee=bool(is_employee),
            is_liaison=bool(is_liaison),
            liaison_client_ids=_split_ids(liaison_clients),
            permissions=_permissions_by_application(perms),
        ),
    )
    ApiToken.user.field.set_cached_value(token, user)
    ApiToken.application.field.set_cached_value(token, application)
    return token


def principal_of(user: User | None) -> Principal | None:
    """The Principal read with the request's token, when this user came from one."""
    return getattr(user, _PRINCIPAL_ATTRIBUTE, None)

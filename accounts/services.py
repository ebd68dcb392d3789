"""Every write to accounts: users, role records, roles, tokens and sessions."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import abilities, roles, tokens
from accounts.models import ApiToken, Application, ApplicationRole, Client, User
from accounts.selectors import token_with_principal
from config.api.errors import InvalidParam, InvalidToken, SessionExpired

DEFAULT_APPLICATION = "planoauth"


@dataclass(frozen=True)
class IssuedToken:
    """A token and its raw secret, which exists only here and is never stored."""

    token: ApiToken
    raw: str


def application_get(*, slug: str | None) -> Application:
    """The active application with this slug; invalid-param naming `application` otherwise."""
    if slug and "\x00" in slug:  # PostgreSQL text cannot hold NUL: it names nothing
        raise InvalidParam(
            "application", "Unknown application. Use planoauth, planoorder or planox2."
        )
    try:
        return Application.objects.get(slug=slug or DEFAULT_APPLICATION, is_active=True)
    except Application.DoesNotExist:
        raise InvalidParam(
            "application", f"Unknown application '{slug}'. Use planoauth, planoorder or planox2."
        ) from None


def token_issue(
    *,
    user: User,
    application: Application,
    kind: str = ApiToken.Kind.APPLICATION,
    token_abilities: list[str] | tuple[str, ...] = (),
    name: str = "",
    remember_me: bool = False,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Create a token; the raw secret is returned once and only its hash is saved."""
    unknown = sorted(set(token_abilities) - set(abilities.ALL_ABILITIES))
    if unknown:
        raise InvalidParam("abilities", f"Unknown abilities: {', '.join(unknown)}.")
    raw, prefix = tokens.generate_raw_token()
    token = ApiToken.objects.create(
        kind=kind,
        user=user,
        application=application,
        name=name,
        prefix=prefix,
        key_hash=tokens.hash_token(raw),
        abilities=sorted(set(token_abilities)),
        remember_me=remember_me,
        expires_at=expires_at,
        created_at=timezone.now(),
    )
    return IssuedToken(token=token, raw=raw)


def session_expired(token: ApiToken, *, now: datetime) -> bool:
    """A session ends 7 days after login or 72 hours after last use, unless remember_me."""
    if token.expires_at is not None and token.expires_at <= now:
        return True
    if token.kind != ApiToken.Kind.SESSION or token.remember_me:
        return False
    max_age = timedelta(hours=settings.ORDERDESK_SESSION_MAX_AGE_HOURS)
    idle = timedelta(hours=settings.ORDERDESK_SESSION_IDLE_HOURS)
    last_seen = token.last_used_at or token.created_at
    return token.created_at + max_age <= now or last_seen + idle <= now


def token_authenticate(*, raw: str) -> ApiToken:
    """The live token for a raw secret; raises invalid-token or session-expired.

    Records the use (last_used_at), at most once a minute per token.
    """
    prefix = tokens.prefix_of(raw)
    # one query: the token, its user with the user's role records and permissions, its app
    token = token_with_principal(prefix=prefix) if prefix else None
    if token is None or not tokens.matches(raw, token.key_hash):
        raise InvalidToken("The authentication token is not recognised.")
    if token.revoked_at is not None:
        raise InvalidToken("This token has been revoked.")
    if not token.user.is_active:
        raise InvalidToken("The account this token belongs to is disabled.")
    now = timezone.now()
    if session_expired(token, now=now):
        if token.kind == ApiToken.Kind.SESSION:
            raise SessionExpired()
        raise InvalidToken("This token has expired.")
    touch_after = timedelta(seconds=settings.ORDERDESK_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or token.last_used_at + touch_after <= now:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token (idempotent): it is refused from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def session_login(
    *, email: str, password: str, remember_me: bool = False, application_slug: str | None = None
) -> IssuedToken:
    """Check the credentials and open a session token for the application."""
    application = application_get(slug=application_slug)
    user = authenticate(email=email.strip().lower(), password=password)
    if user is None:
        raise InvalidParam("password", "The e-mail address or password is incorrect.")
    return token_issue(
        user=user,
        application=application,
        kind=ApiToken.Kind.SESSION,
        token_abilities=abilities.ALL_ABILITIES,
        name="login",
        remember_me=remember_me,
    )


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    remember_me: bool = False,
    application_slug: str | None = None,
) -> IssuedToken:
    """Create a user (no role record yet) and log them in."""
    application = application_get(slug=application_slug)
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise InvalidParam("email", "A user with this e-mail address already exists.")
    candidate = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidParam("password", " ".join(exc.messages)) from None
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:
        raise InvalidParam("email", "A user with this e-mail address already exists.") from None
    return token_issue(
        user=candidate,
        application=application,
        kind=ApiToken.Kind.SESSION,
        token_abilities=abilities.ALL_ABILITIES,
        name="registration",
        remember_me=remember_me,
    )


@transaction.atomic
def client_register(
    *,
    user: User,
    name: str = "",
    telephone: str = "",
    billing_postal_code: str = "",
    application: Application | None = None,
) -> Client:
    """Give a user a client record and the customer role (in the application, if given)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if Client.objects.filter(user=user).exists():
        raise InvalidParam("user", "This user is already registered as a client.")
    client = Client.objects.create(
        user=user,
        name=name.strip() or user.full_name or user.email,
        email=user.email,
        telephone=telephone.strip(),
        billing_postal_code=billing_postal_code.strip(),
    )
    for app in [application] if application else Application.objects.all():
        role_grant(user=user, application=app, role_name=roles.CUSTOMER)
    return client


def role_grant(
    *, user: User, application: Application, role_name: str, granted_by: User | None = None
) -> ApplicationRole:
    """Grant a role within one application (idempotent)."""
    try:
        role = Group.objects.get(name=role_name)
    except Group.DoesNotExist:
        raise InvalidParam("role", f"Unknown role '{role_name}'.") from None
    grant, _ = ApplicationRole.objects.get_or_create(
        user=user, application=application, role=role, defaults={"granted_by": granted_by}
    )
    return grant


def sessions_expire(*, now: datetime | None = None) -> int:
    """Delete expired and revoked sessions; returns how many were deleted."""
    now = now or timezone.now()
    max_age = timedelta(hours=settings.ORDERDESK_SESSION_MAX_AGE_HOURS)
    idle = timedelta(hours=settings.ORDERDESK_SESSION_IDLE_HOURS)
    sessions = ApiToken.objects.filter(kind=ApiToken.Kind.SESSION).annotate(
        seen=Coalesce("last_used_at", "created_at")
    )
    expired = sessions.filter(
        Q(revoked_at__isnull=False)
        | Q(expires_at__lte=now)
        | Q(remember_me=False, created_at__lte=now - max_age)
        | Q(remember_me=False, seen__lte=now - idle)
    )
    deleted, _ = ApiToken.objects.filter(pk__in=expired.values("pk")).delete()
    return deleted

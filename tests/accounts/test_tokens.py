"""Tokens: hashed at rest, constant-time compare, expiry rules, remember_me, revocation."""

from datetime import timedelta

import pytest
from django.db import connection

from accounts.models import ApiToken
from accounts.services import session_expired, token_authenticate, token_revoke
from config.api.errors import InvalidToken, SessionExpired
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return EmployeeFactory().user


def test_the_database_never_holds_a_raw_token(user, make_token):
    issued = make_token(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert issued.raw not in stored
    secret = issued.raw[len("od_") + 12 :]
    assert secret not in stored
    assert issued.token.prefix in stored
    assert len(issued.token.key_hash) == 64


def test_a_token_authenticates_and_records_its_use(user, make_token):
    issued = make_token(user)
    token = token_authenticate(raw=issued.raw)
    assert token.pk == issued.token.pk
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_token_with_the_right_prefix_but_wrong_secret_is_refused(user, make_token):
    issued = make_token(user)
    forged = issued.raw[:-4] + ("AAAA" if not issued.raw.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidToken):
        token_authenticate(raw=forged)


def test_a_revoked_token_is_refused(user, make_token):
    issued = make_token(user)
    token_revoke(token=issued.token)
    with pytest.raises(InvalidToken, match="revoked"):
        token_authenticate(raw=issued.raw)


def test_an_application_token_past_its_expiry_is_invalid(user, make_token, clock):
    issued = make_token(user, expires_at=clock.now + timedelta(days=1))
    clock.advance(days=1, seconds=1)
    with pytest.raises(InvalidToken, match="expired"):
        token_authenticate(raw=issued.raw)


def test_session_expires_after_72_hours_unused(user, make_token, clock):
    issued = make_token(user, kind=ApiToken.Kind.SESSION)
    clock.advance(hours=71, minutes=59)
    token_authenticate(raw=issued.raw)  # used: the idle timer restarts
    clock.advance(hours=71, minutes=59)
    token_authenticate(raw=issued.raw)
    clock.advance(hours=72)
    with pytest.raises(SessionExpired):
        token_authenticate(raw=issued.raw)


def test_session_expires_after_seven_days_even_when_used(user, make_token, clock):
    issued = make_token(user, kind=ApiToken.Kind.SESSION)
    for _ in range(6):
        clock.advance(hours=24)
        token_authenticate(raw=issued.raw)
    clock.advance(hours=23, minutes=59)
    token_authenticate(raw=issued.raw)
    clock.advance(minutes=1)
    with pytest.raises(SessionExpired):
        token_authenticate(raw=issued.raw)


def test_remember_me_sessions_do_not_expire(user, make_token, clock):
    issued = make_token(user, kind=ApiToken.Kind.SESSION, remember_me=True)
    clock.advance(days=30)
    assert token_authenticate(raw=issued.raw).pk == issued.token.pk
    assert not session_expired(issued.token, now=clock.now + timedelta(days=365))


def test_expired_session_over_the_api_is_session_expired(api, user, make_token, clock):
    issued = make_token(user, kind=ApiToken.Kind.SESSION)
    clock.advance(hours=73)
    response = api.get("/api/v1/sessions/current", HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    assert response.status_code == 401
    assert response.json()["status"] == "session-expired"


def test_last_used_is_written_at_most_once_a_minute(
    user, make_token, clock, django_assert_num_queries
):
    issued = make_token(user)
    token_authenticate(raw=issued.raw)
    clock.advance(seconds=30)
    with django_assert_num_queries(1):  # the lookup only, no write
        token_authenticate(raw=issued.raw)
    clock.advance(seconds=31)
    with django_assert_num_queries(2):
        token_authenticate(raw=issued.raw)

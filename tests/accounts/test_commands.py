from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken
from accounts.services import token_authenticate
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_issue_token_prints_only_the_raw_token():
    user = EmployeeFactory().user
    out = StringIO()
    call_command(
        "issue_token",
        user.email,
        "--abilities",
        "orders:read,orders:write",
        "--application",
        "planoorder",
        "--name",
        "erp",
        "--expires-in-days",
        "30",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    token = token_authenticate(raw=lines[0])
    assert token.abilities == ["orders:read", "orders:write"]
    assert (token.application.slug, token.name) == ("planoorder", "erp")
    assert token.expires_at is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody@example.com", "--abilities", "orders:read"], "No user"),
        (["{email}", "--abilities", "orders:fly"], "Unknown abilities"),
        (["{email}", "--abilities", "orders:read", "--application", "nope"], "Unknown application"),
        (["{email}", "--abilities", "orders:read", "--expires-in-days", "0"], "positive"),
    ],
)
def test_issue_token_refuses_bad_input(args, message):
    user = EmployeeFactory().user
    with pytest.raises(CommandError, match=message):
        call_command("issue_token", *[a.format(email=user.email) for a in args])
    assert not ApiToken.objects.exists()


def test_expire_sessions_deletes_only_expired_sessions(make_token, clock):
    user = EmployeeFactory().user
    old = make_token(user, kind="session")
    remembered = make_token(user, kind="session", remember_me=True)
    app_token = make_token(user)
    clock.advance(hours=73)
    fresh = make_token(user, kind="session")
    out = StringIO()
    call_command("expire_sessions", stdout=out)
    assert "Deleted 1" in out.getvalue()
    remaining = set(ApiToken.objects.values_list("pk", flat=True))
    assert remaining == {remembered.token.pk, app_token.token.pk, fresh.token.pk}
    assert old.token.pk not in remaining


def test_grant_role_command():
    user = EmployeeFactory().user
    call_command("grant_role", user.email, "viewer", "--application", "planox2", stdout=StringIO())
    assert user.application_roles.get().role.name == "viewer"
    with pytest.raises(CommandError, match="Unknown role"):
        call_command("grant_role", user.email, "wizard")

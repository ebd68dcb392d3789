"""Users and sessions: register, log in, current session, log out, client registration."""

import pytest

from accounts.models import ApiToken, Client, User
from tests.factories import ClientFactory, UserFactory
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def login(api, email, password=PASSWORD, **extra):
    return api.post(
        "/api/v1/sessions", {"email": email, "password": password, **extra}, format="json"
    )


def test_register_creates_a_user_and_a_session(api):
    response = api.post(
        "/api/v1/users/register",
        {"email": "New@Example.com", "password": PASSWORD, "first_name": "Nia"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "action-successful"
    assert body["session"]["token"].startswith("od_")
    assert body["session"]["user"]["email"] == "new@example.com"
    assert User.objects.get(email="new@example.com").first_name == "Nia"


def test_register_refuses_a_taken_email_and_a_weak_password(api):
    UserFactory(email="taken@example.com")
    taken = api.post(
        "/api/v1/users/register",
        {"email": "taken@example.com", "password": PASSWORD},
        format="json",
    )
    assert taken.status_code == 400
    assert taken.json()["errors"] == {"email": [taken.json()["errors"]["email"][0]]}
    weak = api.post(
        "/api/v1/users/register", {"email": "w@example.com", "password": "123"}, format="json"
    )
    assert weak.status_code == 400 and "password" in weak.json()["errors"]
    assert not User.objects.filter(email="w@example.com").exists()


def test_register_with_an_invalid_email_names_the_parameter(api):
    response = api.post(
        "/api/v1/users/register", {"email": "nope", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["status"] == "invalid-param"
    assert list(response.json()["errors"]) == ["email"]


def test_login_returns_a_session_for_the_application(api):
    user = ClientFactory().user
    response = login(api, user.email, application="planox2", remember_me=True)
    assert response.status_code == 201
    session = response.json()["session"]
    token = ApiToken.objects.get(prefix=session["token_prefix"])
    assert (token.kind, token.application.slug, token.remember_me) == ("session", "planox2", True)


def test_login_with_a_wrong_password_is_invalid_param(api):
    user = UserFactory()
    response = login(api, user.email, password="wrong password")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid-param"
    assert not ApiToken.objects.exists()


def test_login_missing_password_is_missing_param(api):
    response = api.post("/api/v1/sessions", {"email": "a@example.com"}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "missing-param"
    assert "password" in response.json()["errors"]


def test_login_with_an_unknown_application_is_invalid_param(api):
    user = UserFactory()
    response = login(api, user.email, application="nope")
    assert response.json()["errors"] == {
        "application": [response.json()["errors"]["application"][0]]
    }


def test_current_session_views(api):
    user = ClientFactory().user
    raw = login(api, user.email).json()["session"]["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    minimal = api.get("/api/v1/sessions/current?session_view=minimal").json()["data"]
    assert "user" not in minimal and "token" not in minimal
    full = api.get("/api/v1/sessions/current?session_view=full").json()["data"]
    assert full["roles"] == [] and "orders:read" in full["abilities"]
    assert full["user"]["is_client"] is True


def test_current_session_with_the_token_in_the_query_string(api):
    user = ClientFactory().user
    raw = login(api, user.email).json()["session"]["token"]
    assert api.get(f"/api/v1/sessions/current?token={raw}").status_code == 200


def test_logout_revokes_the_session(api):
    user = ClientFactory().user
    raw = login(api, user.email).json()["session"]["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.delete("/api/v1/sessions/current").status_code == 200
    again = api.get("/api/v1/sessions/current")
    assert again.status_code == 401 and again.json()["status"] == "invalid-token"


def test_client_register_gives_a_client_record_and_the_customer_role(api):
    user = UserFactory()
    raw = login(api, user.email).json()["session"]["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.post(
        "/api/v1/users/client_register",
        {"telephone": "+1 555 0100", "application": "planoorder"},
        format="json",
    )
    assert response.status_code == 201
    client = Client.objects.get(user=user)
    assert client.telephone == "+1 555 0100"
    assert list(user.application_roles.values_list("role__name", "application__slug")) == [
        ("customer", "planoorder")
    ]
    twice = api.post("/api/v1/users/client_register", {}, format="json")
    assert twice.status_code == 400 and Client.objects.filter(user=user).count() == 1

"""Admin smoke tests for accounts, and the token's one-time display."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken, Application, ApplicationRole
from accounts.services import role_grant
from tests.factories import ClientFactory, EmployeeFactory, LiaisonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.fixture
def objects(make_token):
    user = EmployeeFactory().user
    role_grant(user=user, application=Application.objects.get(slug="planoauth"), role_name="viewer")
    return {
        "user": user,
        "client": ClientFactory(),
        "employee": user.employee,
        "liaison": LiaisonFactory(),
        "application": Application.objects.get(slug="planoauth"),
        "applicationrole": ApplicationRole.objects.first(),
        "apitoken": make_token(user).token,
    }


@pytest.mark.parametrize(
    "model", ["user", "client", "employee", "liaison", "application", "applicationrole", "apitoken"]
)
def test_changelist_search_add_and_change_pages(admin_client, objects, model):
    base = f"admin:accounts_{model}"
    assert admin_client.get(reverse(f"{base}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"{base}_changelist"), {"q": "a"}).status_code == 200
    assert admin_client.get(reverse(f"{base}_add")).status_code == 200
    change = admin_client.get(reverse(f"{base}_change", args=[objects[model].pk]))
    assert change.status_code == 200


def test_creating_a_token_shows_it_once_then_only_the_prefix(admin_client, objects):
    user = objects["user"]
    response = admin_client.post(
        reverse("admin:accounts_apitoken_add"),
        {
            "user": user.pk,
            "application": objects["application"].pk,
            "name": "warehouse",
            "abilities": ["orders:read", "stages:write"],
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="warehouse")
    page = response.content.decode()
    raw = page.split('id="raw-token"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert raw.startswith("od_" + token.prefix)
    assert token.abilities == ["orders:read", "stages:write"]
    later = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert raw not in later.content.decode()
    assert token.prefix in later.content.decode()
    listing = admin_client.get(reverse("admin:accounts_apitoken_changelist"))
    assert raw not in listing.content.decode()


def test_revoke_action(admin_client, objects):
    token = objects["apitoken"]
    response = admin_client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None

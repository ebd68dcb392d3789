"""Authentication and authorization read the token, its user, the user's role records and
permissions in one query per request, and nothing of it is cached between requests."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken, Application, ApplicationRole, Client
from accounts.selectors import (
    principal_of,
    role_permissions,
    token_with_principal,
    user_client_ids,
    user_has_role_record,
    user_is_employee,
)
from accounts.services import role_grant, token_authenticate
from tests.factories import ClientFactory, EmployeeFactory, LiaisonFactory, UserFactory
from tests.factories.orders import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.probe_urls")]


def _fresh(user):
    """The same user as a plain model instance, without a Principal: the selectors query."""
    return type(user).objects.get(pk=user.pk)


def _sql(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def test_one_query_reads_the_token_its_user_application_roles_and_permissions(make_token):
    user = EmployeeFactory().user
    planox2 = Application.objects.get(slug="planox2")
    role_grant(user=user, application=planox2, role_name="stage operator")
    role_grant(user=user, application=planox2, role_name="viewer")
    issued = make_token(user)
    token_authenticate(raw=issued.raw)  # the first use writes last_used_at
    with CaptureQueriesContext(connection) as captured:
        token = token_with_principal(prefix=issued.token.prefix)
    assert len(captured) == 1
    assert token.pk == issued.token.pk and token.key_hash == issued.token.key_hash
    assert token.abilities == issued.token.abilities
    assert token.last_used_at is not None and token.created_at == issued.token.created_at
    with CaptureQueriesContext(connection) as captured:
        assert token.user.email == user.email and token.user.is_active
        assert token.application.slug == "planoauth"
        principal = principal_of(token.user)
        assert principal.has_role_record and principal.is_employee
        assert not principal.is_liaison and principal.client_id is None
        # none in planoauth; both roles' permissions in planox2
        assert role_permissions(user=token.user, application=token.application) == frozenset()
        granted = role_permissions(user=token.user, application=planox2)
    assert len(captured) == 0
    assert "stages.add_orderstage" in granted
    assert granted == role_permissions(user=_fresh(user), application=planox2)


def test_the_principal_agrees_with_the_selectors_for_every_kind_of_user(make_token):
    client = ClientFactory()
    liaison = LiaisonFactory()
    served = [ClientFactory(user=None), ClientFactory(user=None)]
    liaison.clients.set(served)
    nobody = UserFactory()
    for user in (client.user, liaison.user, nobody, EmployeeFactory().user):
        for application in Application.objects.all():
            role_grant(user=user, application=application, role_name="customer")
        token = token_with_principal(prefix=make_token(user).token.prefix)
        assert principal_of(token.user) is not None
        for application in Application.objects.all():
            assert role_permissions(user=token.user, application=application) == set(
                role_permissions(user=_fresh(user), application=application)
            )
        assert user_has_role_record(token.user) == user_has_role_record(_fresh(user))
        assert user_is_employee(token.user) == user_is_employee(_fresh(user))
        assert user_client_ids(token.user) == user_client_ids(_fresh(user))
    assert user_client_ids(token_with_principal(prefix=make_token(liaison.user).token.prefix).user)
    assert user_client_ids(_fresh(liaison.user)) == sorted(c.pk for c in served)


def test_an_unknown_prefix_is_no_token():
    assert token_with_principal(prefix="A" * 12) is None


def test_an_api_request_authenticates_and_authorizes_in_one_query(api, staff_member, make_token):
    raw = make_token(staff_member).raw
    api.get("/api/probe", HTTP_AUTHORIZATION=f"Bearer {raw}")  # writes last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/probe", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert len(captured) == 1, _sql(captured)
    assert '"accounts_apitoken"' in captured.captured_queries[0]["sql"]


def test_an_order_detail_takes_the_token_query_and_its_own_two(api, make_token):
    order = OrderFactory()
    user = EmployeeFactory().user
    role_grant(user=user, application=Application.objects.get(slug="planoauth"), role_name="viewer")
    raw = make_token(user).raw
    api.get(f"/api/orders/{order.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/orders/{order.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    # the token (with role record, employee flag and permissions), the order, its totals
    assert len(captured) == 3, _sql(captured)


def test_a_refused_role_costs_one_query(api, make_token):
    customer = ClientFactory()
    role_grant(
        user=customer.user,
        application=Application.objects.get(slug="planoauth"),
        role_name="customer",
    )
    raw = make_token(customer.user).raw
    api.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {raw}")
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert response.json()["status"] == "permission-denied"
    assert len(captured) == 1, _sql(captured)


def test_naming_the_tokens_own_application_costs_nothing_another_one_query(
    api, staff_member, make_token
):
    raw = make_token(staff_member).raw
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    api.get("/api/probe", **headers)
    with CaptureQueriesContext(connection) as own:
        assert api.get("/api/probe?application=planoauth", **headers).status_code == 200
    with CaptureQueriesContext(connection) as other:
        response = api.get("/api/probe?application=planox2", **headers)
    assert response.json() == {"application": "planox2"}
    assert (len(own), len(other)) == (1, 2)


def test_the_tokens_own_application_when_deactivated_is_refused_by_name(
    api, staff_member, make_token
):
    raw = make_token(staff_member).raw
    Application.objects.filter(slug="planoauth").update(is_active=False)
    response = api.get("/api/probe?application=planoauth", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "application": ["Unknown application 'planoauth'. Use planoauth, planoorder or planox2."]
    }


def test_every_request_reads_the_database_again(api, make_token):
    """Roles, role records and the token's state are never remembered between requests."""
    user = UserFactory()
    raw = make_token(user).raw
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api.get("/api/probe", **headers).json()["status"] == "client-required"
    Client.objects.create(user=user, name="New client")
    assert api.get("/api/probe", **headers).json()["status"] == "permission-denied"
    role_grant(user=user, application=Application.objects.get(slug="planoauth"), role_name="viewer")
    assert api.get("/api/probe", **headers).status_code == 200
    ApplicationRole.objects.filter(user=user).delete()
    assert api.get("/api/probe", **headers).status_code == 403
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())
    response = api.get("/api/probe", **headers)
    assert response.status_code == 401
    assert response.json()["message"] == "This token has been revoked."

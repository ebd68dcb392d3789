"""One parameter sent in the query string and in the body: the same value is fine, different
values are invalid-param naming it (config.api.params.request_param), on every endpoint."""

import pytest

from accounts.models import ApiToken
from tests.factories import ClientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.probe_urls")]


@pytest.fixture
def bearer(staff_member, make_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(staff_member).raw}"}


def test_application_from_the_query_string_or_the_body(api, bearer):
    assert api.get("/api/probe?application=planoorder", **bearer).json() == {
        "application": "planoorder"
    }
    response = api.post("/api/probe", {"application": "planox2", "x": 1}, format="json", **bearer)
    assert response.status_code == 200


def test_application_in_the_query_string_and_the_body_must_agree(api, bearer):
    response = api.post(
        "/api/probe?application=planoauth",
        {"application": "planoorder", "x": 1},
        format="json",
        **bearer,
    )
    assert response.status_code == 400
    assert response.json()["status"] == "invalid-param"
    assert list(response.json()["errors"]) == ["application"]
    same = api.post(
        "/api/probe?application=planoorder",
        {"application": "planoorder", "x": 1},
        format="json",
        **bearer,
    )
    assert same.status_code == 200, same.json()


def test_a_blank_value_is_not_given(api, bearer):
    response = api.generic(
        "GET",
        "/api/probe?application=",
        '{"application": "planoorder"}',
        content_type="application/json",
        **bearer,
    )
    assert response.json() == {"application": "planoorder"}


def test_session_view_in_the_query_string_and_the_body_must_agree(api, make_token):
    raw = make_token(ClientFactory().user, kind=ApiToken.Kind.SESSION).raw
    response = api.generic(
        "GET",
        "/api/v1/sessions/current?session_view=full",
        '{"session_view": "minimal"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["session_view"]

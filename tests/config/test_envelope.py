"""Every slug of the platform envelope, through a probe endpoint guarded like a real one."""

import pytest
from rest_framework import serializers

from accounts import abilities as ab
from accounts.models import Application
from accounts.services import role_grant
from config.api.exceptions import as_api_error
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.probe_urls")]


def assert_envelope(response, status_code, slug):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["status"] == slug
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


@pytest.fixture
def bearer(staff_member, make_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(staff_member).raw}"}


def test_success_passes_through(api, bearer):
    response = api.get("/api/probe", **bearer)
    assert response.status_code == 200
    assert response.json() == {"application": "planoauth"}


def test_missing_token_is_invalid_token(api):
    body = assert_envelope(api.get("/api/probe"), 401, "invalid-token")
    assert "Bearer" in body["message"]


def test_garbage_token_is_invalid_token(api):
    assert_envelope(
        api.get("/api/probe", HTTP_AUTHORIZATION="Bearer od_nonsense"), 401, "invalid-token"
    )


def test_wrong_scheme_is_invalid_token(api):
    assert_envelope(api.get("/api/probe", HTTP_AUTHORIZATION="Basic abc"), 401, "invalid-token")


def test_token_in_query_string_is_accepted(api, staff_member, make_token):
    raw = make_token(staff_member).raw
    assert api.get(f"/api/probe?token={raw}").status_code == 200


def test_token_in_header_and_body_that_disagree(api, staff_member, make_token, bearer):
    other = make_token(staff_member).raw
    body = assert_envelope(
        api.post("/api/probe", {"token": other, "x": 1}, format="json", **bearer),
        400,
        "invalid-param",
    )
    assert "token" in body["errors"]


def test_token_in_query_and_body_that_disagree(api, staff_member, make_token):
    first, second = make_token(staff_member).raw, make_token(staff_member).raw
    body = assert_envelope(
        api.post(f"/api/probe?token={first}", {"token": second, "x": 1}, format="json"),
        400,
        "invalid-param",
    )
    assert "different values" in body["errors"]["token"][0]
    agreeing = api.post(f"/api/probe?token={first}", {"token": first, "x": 1}, format="json")
    assert agreeing.status_code == 200, agreeing.content


def test_invalid_content_type(api, bearer):
    response = api.post("/api/probe", data="x=1", content_type="text/plain", **bearer)
    assert_envelope(response, 400, "invalid-content-type")


def test_malformed_json_is_invalid_encoded_params(api, bearer):
    response = api.post("/api/probe", data="{not json", content_type="application/json", **bearer)
    assert_envelope(response, 400, "invalid-encoded-params")


def test_json_that_is_not_an_object_is_invalid_encoded_params(api, bearer):
    response = api.post("/api/probe", data="[1, 2]", content_type="application/json", **bearer)
    assert_envelope(response, 400, "invalid-encoded-params")


@pytest.mark.parametrize("payload", ["{}", ""])
def test_empty_body_is_no_params_decoded(api, bearer, payload):
    response = api.post("/api/probe", data=payload, content_type="application/json", **bearer)
    assert_envelope(response, 400, "no-params-decoded")


def test_unknown_application_is_invalid_param(api, bearer):
    body = assert_envelope(api.get("/api/probe?application=nope", **bearer), 400, "invalid-param")
    assert "application" in body["errors"]


def test_application_param_picks_the_role(api, make_token, role):
    user = ClientFactory().user
    role_grant(
        user=user,
        application=Application.objects.get(slug="planox2"),
        role_name="viewer",
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(user).raw}"}
    assert_envelope(api.get("/api/probe", **headers), 403, "permission-denied")
    response = api.get("/api/probe?application=planox2", **headers)
    assert response.status_code == 200
    assert response.json() == {"application": "planox2"}


def test_missing_ability_is_permission_denied(api, staff_member, make_token):
    raw = make_token(staff_member, token_abilities=[ab.ORDERS_WRITE]).raw
    body = assert_envelope(
        api.get("/api/probe", HTTP_AUTHORIZATION=f"Bearer {raw}"), 403, "permission-denied"
    )
    assert "orders:read" in body["message"]


def test_missing_role_is_permission_denied(api, make_token):
    user = ClientFactory().user  # a role record, but no role in any application
    raw = make_token(user).raw
    body = assert_envelope(
        api.get("/api/probe", HTTP_AUTHORIZATION=f"Bearer {raw}"), 403, "permission-denied"
    )
    assert "accounts.view_client" in body["message"]


def test_client_required_carries_the_session(api, make_token):
    user = UserFactory()
    issued = make_token(user, kind="session")
    body = assert_envelope(
        api.get("/api/probe", HTTP_AUTHORIZATION=f"Bearer {issued.raw}"), 401, "client-required"
    )
    assert body["session"]["token_prefix"] == issued.token.prefix
    assert body["session"]["user"]["email"] == user.email
    assert "token" not in body["session"]


class _EmailParams(serializers.Serializer):
    email = serializers.EmailField()


def _validation_error(data) -> serializers.ValidationError:
    with pytest.raises(serializers.ValidationError) as caught:
        _EmailParams(data=data).is_valid(raise_exception=True)
    return caught.value


def test_a_required_parameter_missing_is_missing_param():
    error = as_api_error(_validation_error({}))
    assert error.slug == "missing-param"
    assert error.http_status == 400
    assert list(error.errors) == ["email"]


def test_a_mistyped_parameter_is_invalid_param_naming_it():
    error = as_api_error(_validation_error({"email": "not-an-email"}))
    assert error.slug == "invalid-param"
    assert list(error.errors) == ["email"]
    assert "email" in error.message


def test_application_crash_hides_the_traceback(api, bearer, caplog):
    api.raise_request_exception = False
    response = api.get("/api/crash", **bearer, HTTP_X_REQUEST_ID="req-12345678")
    body = assert_envelope(response, 500, "application-crash")
    assert "secret internals" not in response.content.decode()
    assert body["request_id"] == "req-12345678"
    assert response["X-Request-ID"] == "req-12345678"
    assert any("req-12345678" == getattr(r, "request_id", None) for r in caplog.records)


def test_unknown_api_route_is_route_non_existent(api):
    body = assert_envelope(api.get("/api/no/such/thing"), 404, "route-non-existent")
    assert "/api/no/such/thing" in body["message"]


def test_unknown_api_route_with_post_is_route_non_existent(api):
    assert_envelope(api.post("/api/nope", {"a": 1}, format="json"), 404, "route-non-existent")


def test_unknown_api_route_under_debug_is_still_the_envelope(api, settings):
    settings.DEBUG = True
    assert_envelope(api.get("/api/v9/missing"), 404, "route-non-existent")


def test_unknown_non_api_route_is_a_normal_404(api):
    response = api.get("/nowhere")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

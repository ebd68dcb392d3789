"""What schemathesis found, pinned: each fix of a gate finding has a test that fails without it
(the fuzzer is random; these are not)."""

import pytest
from rest_framework.test import APIClient

from tests.factories.group_orders import GroupOrderFactory
from tests.factories.orders import OrderFactory
from tests.quality.world import Caller, build_world, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema?format=json").json()


def bearer(caller: Caller) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {caller.raw}")
    return api


# ----------------------------------------------------------------------------- the schema


def test_routes_with_their_own_error_bodies_document_the_auth_envelopes(schema):
    for path in ("/orders", "/orders/latest", "/orders/{order_id}"):
        responses = schema["paths"][path]["get"]["responses"]
        assert {"401", "403"} <= set(responses), path
    complete = schema["paths"]["/api/v2/orders/{order_number}/complete"]["post"]["responses"]
    assert {"401", "403"} <= set(complete)


def test_conditional_and_idempotent_operations_document_their_answers(schema):
    assert "412" in schema["paths"]["/api/orders/{order_id}"]["patch"]["responses"]
    assert "412" in schema["paths"]["/api/v3/group_orders/{public_id}"]["patch"]["responses"]
    create = schema["paths"]["/api/orders"]["post"]["responses"]
    assert {"409", "422"} <= set(create)
    assert "412" not in create


def test_optional_query_parameters_may_be_sent_empty(schema):
    for parameter in schema["paths"]["/api/orders"]["get"]["parameters"]:
        assert parameter.get("allowEmptyValue") is True, parameter["name"]


def test_the_order_list_is_a_page_object_and_null_dates_are_documented(schema):
    ok = schema["paths"]["/api/orders"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderList"}
    detail = schema["components"]["schemas"]["OrderDetail"]["properties"]
    for name in ("invoice_date", "assignee_updated_at", "order_date", "order_time", "status_id"):
        assert detail[name].get("nullable") is True, name
    processed = next(
        p for p in schema["paths"]["/api/orders"]["get"]["parameters"] if p["name"] == "processed"
    )
    assert processed["schema"]["type"] == "string"


def test_a_group_order_requires_only_the_fields_of_every_view(schema):
    component = schema["components"]["schemas"]["GroupOrder"]
    assert component["required"] == ["_id", "status"]
    assert {"file", "job", "encoding", "timings"} <= set(component["properties"])


def test_downloads_document_their_file_types(schema):
    ok = schema["paths"]["/api/v3/group_orders/{public_id}/files/{kind}"]["get"]["responses"]
    assert set(ok["200"]["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def test_log_out_documents_null_data_and_session(schema):
    ref = schema["paths"]["/api/v1/sessions/current"]["delete"]["responses"]["200"]["content"]
    name = ref["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][name]["properties"]
    assert properties["session"].get("nullable") is True


# ----------------------------------------------------------------------------- behaviour


@pytest.fixture
def world():
    return build_world(group_orders=False)


def test_group_order_filters_refuse_what_is_not_an_id_or_a_boolean(world):
    api = bearer(world.staff)
    for query in ({"uploader": "0.5"}, {"client": "1e3"}, {"has_rejections": "-58800"}):
        response = api.get("/api/v3/group_orders", query)
        assert response.status_code == 400, query
        assert list(response.json()["errors"]) == list(query)
    assert api.get("/api/v3/group_orders", {"has_rejections": "true"}).status_code == 200


def test_an_empty_signature_is_no_link(world):
    group_order = GroupOrderFactory()
    response = APIClient().get(
        f"/api/v3/group_orders/{group_order.public_id}/files/file?signature="
    )
    assert response.status_code == 401
    assert response.json()["status"] == "invalid-token"


def test_a_download_is_typed_by_its_content_not_its_name(world):
    group_order = GroupOrderFactory(original_filename="orders.txt")
    response = bearer(world.staff).get(f"/api/v3/group_orders/{group_order.public_id}/files/file")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_an_unknown_session_view_is_refused_and_blank_is_not_given(world):
    from accounts.models import ApiToken

    raw = token_for(world.staff.user, kind=ApiToken.Kind.SESSION)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.get("/api/v1/sessions/current", {"session_view": "huge"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["session_view"]
    assert api.get("/api/v1/sessions/current", {"session_view": ""}).status_code == 200
    response = APIClient().post(
        "/api/v1/sessions",
        {"email": "x@example.com", "password": "x", "session_view": "huge"},
        format="json",
    )
    assert list(response.json()["errors"]) == ["session_view"]


def test_json_bodies_keep_their_types_and_forms_their_text(world):
    from accounts.models import ApiToken
    from tests.factories import UserFactory
    from tests.factories.accounts import PASSWORD

    newcomer = UserFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(newcomer, kind=ApiToken.Kind.SESSION)}")
    response = api.post(
        "/api/v1/users/client_register", {"billing_postal_code": 94612}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"billing_postal_code": ["Must be a string."]}
    order = OrderFactory(stage="received")
    response = bearer(world.staff).patch(
        f"/api/orders/{order.pk}", {"first_name": 7}, format="json"
    )
    assert response.json()["errors"] == {"first_name": ["Must be a string."]}
    # a form post carries text only: `true` and digits stay fine there
    response = APIClient().post(
        "/api/v1/sessions",
        {"email": newcomer.email, "password": PASSWORD, "remember_me": "true"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["remember_me"] is True


def test_nul_characters_do_not_crash_idempotent_requests(world):
    """Found on PostgreSQL (jsonb and text hold no U+0000): an error body quoting a NUL key,
    recorded for an Idempotency-Key replay, crashed the request with a 500."""
    api = bearer(world.staff)
    body = {"bad\x00key": 1, "update_status": True, "stage": "received", "order_id": 1}
    first = api.post(
        "/api/v1/order_stages?x=%00", body, format="json", HTTP_IDEMPOTENCY_KEY="nul-key-1"
    )
    assert first.status_code == 400, first.content
    again = api.post(
        "/api/v1/order_stages?x=%00", body, format="json", HTTP_IDEMPOTENCY_KEY="nul-key-1"
    )
    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert list(again.json()["errors"]) == ["bad\ufffdkey"]


def test_a_method_the_path_does_not_have_is_405_for_a_caller_with_a_token(world):
    """docs/api.md: `method-not-allowed` 405 when the path exists and the method does not (a
    valid token got `permission-denied` 403 "not open to API tokens")."""
    api = bearer(world.staff)
    order = world.orders[0]
    for method, url in (
        ("PUT", f"/api/orders/{order.pk}"),
        ("TRACE", "/api/orders"),
        ("DELETE", "/api/v3/group_orders"),
        ("PUT", f"/orders/{world.customer_orders[0].pk}"),
    ):
        response = api.generic(method, url)
        assert response.status_code == 405, (method, url, response.content)
        assert response.json()["status"] == "method-not-allowed"
        assert "GET" in response["Allow"]
    assert APIClient().put(f"/api/orders/{order.pk}").status_code == 401  # no token: 401 first


def test_a_page_number_beyond_any_list_is_refused_not_a_crash(world):
    """Found by schemathesis on PostgreSQL: page=125829459952289543342106693683118080 made an
    OFFSET beyond bigint (500)."""
    api = bearer(world.staff)
    response = api.get("/api/v3/group_orders", {"page": "125829459952289543342106693683118080"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page"]
    response = api.get("/api/v3/group_orders", {"page": "1000000"})
    assert response.status_code == 200 and response.json()["data"]["results"] == []


def test_numbers_and_moments_beyond_the_database_are_refused_not_a_crash(world):
    """Found by schemathesis on PostgreSQL: total_orders 2454800648595730205769728 (integer
    out of range) and created_after with a -16:33 offset (PostgreSQL allows ±15:59) were 500s;
    the other integer inputs that reach a column are bounded the same way."""
    api = bearer(world.staff)
    response = api.get("/api/v3/group_orders", {"created_after": "0268-04-03T17:59:07-16:33"})
    assert response.status_code == 200  # a real moment, compared in UTC
    response = api.get("/api/v3/group_orders", {"created_after": "0001-01-01T00:00:00+01:00"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["created_after"]
    group_order = GroupOrderFactory()
    response = bearer(world.processor).patch(
        f"/api/v3/group_orders/{group_order.public_id}",
        {"total_orders": 2454800648595730205769728},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["total_orders"]
    response = api.post(
        "/api/orders",
        {"first_name": "X", "total_items": 2**40, "lines": [{"name": "a", "quantity": 2**40}]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"total_items", "lines.0.quantity"}
    order = world.orders[0]
    response = api.post(
        "/api/v1/order_stages",
        {
            "order_id": order.pk,
            "update_status": True,
            "stage": "received",
            "appointment": {"appt_id": 2**70},
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["appointment.appt_id"]


def test_a_mountain_time_at_the_end_of_the_calendar_is_refused_not_a_crash(world):
    """0001-01-01T00:30:00+01:00 has no UTC (year 0): the stage API answered 500."""
    order = world.orders[0]
    for moment in ("0001-01-01T00:30:00+01:00", "9999-12-31 23:30:00"):
        response = bearer(world.staff).post(
            "/api/v1/order_stages",
            {
                "order_id": order.pk,
                "update_status": True,
                "stage": "received",
                "stage_at_mt": moment,
            },
            format="json",
        )
        assert response.status_code == 400, (moment, response.content)
        assert list(response.json()["errors"]) == ["stage_at_mt"]


def test_nul_in_an_application_or_a_token_parameter_is_refused_not_a_crash(world):
    """Found by schemathesis on PostgreSQL (text holds no U+0000): `application` with a NUL
    reached the applications query (500); a `token` parameter could reach the token lookup."""
    api = bearer(world.staff)
    response = api.get("/api/orders", {"application": "plano\x00auth"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["application"]
    forged = "od_" + "\x00" * 12 + "x" * 40
    response = APIClient().get("/api/v3/group_orders", {"token": forged})
    assert response.status_code == 401 and response.json()["status"] == "invalid-token"


def test_text_is_measured_as_sent(world):
    """Found by schemathesis (1000 examples): a 42-character telephone whose ends were
    whitespace passed the documented maxLength of 40 (DRF measures after trimming)."""
    from accounts.models import ApiToken
    from tests.factories import UserFactory

    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token_for(UserFactory(), kind=ApiToken.Kind.SESSION)}"
    )
    telephone = "\u00a0\t" + "4" * 40
    for fmt in ("json", "multipart"):
        response = api.post("/api/v1/users/client_register", {"telephone": telephone}, format=fmt)
        assert response.status_code == 400, (fmt, response.content)
        assert list(response.json()["errors"]) == ["telephone"]


def test_digits_that_are_not_ascii_are_refused_not_a_crash(world, admin_client):
    """Found by schemathesis at 1000 examples: assignee=¹ was a 500 ("¹".isdigit() is true,
    int("¹") raises). The same test guarded ids, per_page, page and the admin's filters."""
    api = bearer(world.staff)
    assert api.get("/api/orders", {"assignee": "\u00b9"}).status_code == 200  # matches nobody
    assert api.get("/api/orders", {"status": "\u00b2"}).status_code == 200
    assert api.get("/api/orders", {"service_type": "\u00b3,portrait"}).status_code == 200
    assert api.get("/api/orders/\u00b9").status_code == 400
    assert api.get("/api/orders", {"per_page": "\u00b9"}).status_code == 400
    assert api.get("/api/v3/group_orders", {"page": "\u00b9"}).status_code == 400
    assert bearer(world.customer).get("/orders/\u00b9").status_code == 404
    assert admin_client.get("/admin/orders/order/", {"stage": "\u00b9"}).status_code == 200
    assert admin_client.get("/admin/orders/order/", {"assignee": "\u00b9"}).status_code == 200

"""GET /api/orders/{order_id}/transitions: where an order may go now, and why not."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Application
from accounts.services import role_grant
from orders.models import Order
from stages.models import Stage
from tests.factories import EmployeeFactory
from tests.factories.orders import OrderFactory
from tests.stages.conftest import error_of

pytestmark = pytest.mark.django_db


def transitions(client, order):
    response = client.get(f"/api/orders/{order.pk}/transitions")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_a_received_order_lists_allowed_and_refused_stages_with_reasons(staff_api, order):
    data = transitions(staff_api, order)

    assert data["order_id"] == order.pk
    assert data["current"]["stage"]["slug"] == "received"
    assert [s["slug"] for s in data["allowed"]] == ["in-production", "on-hold", "cancelled"]
    assert {s["slug"]: s["reason"] for s in data["refused"]} == {
        "quality-check": "An order in 'Received' cannot move to 'Quality check'.",
        "shipped": "An order in 'Received' cannot move to 'Shipped'.",
        "complete": "An order in 'Received' cannot move to 'Complete'.",
    }


def test_a_final_stage_refuses_everything_with_its_reason(staff_api, order, post):
    assert (
        post({"order_id": order.pk, "update_status": True, "stage": "cancelled"}).status_code == 200
    )

    data = transitions(staff_api, order)

    assert data["current"]["stage"]["slug"] == "cancelled"
    assert data["allowed"] == []
    reasons = {s["reason"] for s in data["refused"]}
    assert reasons == {"'Cancelled' is a final stage; an order cannot leave it."}
    assert len(data["refused"]) == Stage.objects.filter(is_active=True).count() - 1


def test_an_order_without_a_status_may_take_any_active_stage(staff_api):
    order = OrderFactory()
    Stage.objects.filter(slug="on-hold").update(is_active=False)

    data = transitions(staff_api, order)

    assert data["current"] is None
    assert data["refused"] == []
    assert "on-hold" not in [s["slug"] for s in data["allowed"]]
    assert len(data["allowed"]) == Stage.objects.filter(is_active=True).count()


@pytest.mark.parametrize("target", ["quality-check", "shipped", "complete"])
def test_the_api_refuses_a_listed_refusal_with_the_same_reason(staff_api, order, post, target):
    refused = {s["slug"]: s["reason"] for s in transitions(staff_api, order)["refused"]}

    response = post({"order_id": order.pk, "update_status": True, "stage": target})

    assert error_of(response, "invalid-param")["stage"] == [refused[target]]


def test_transitions_follow_the_catalogue_data(staff_api, order):
    received = Stage.objects.get(slug="received")
    received.allowed_next.add(Stage.objects.get(slug="shipped"))

    data = transitions(staff_api, order)

    assert "shipped" in [s["slug"] for s in data["allowed"]]
    assert "shipped" not in [s["slug"] for s in data["refused"]]


def test_an_unknown_order_is_400_invalid_param(staff_api):
    errors = error_of(staff_api.get("/api/orders/987654/transitions"), "invalid-param", 400)
    assert "order_id" in errors


def test_a_deleted_order_is_invalid_param(staff_api, order):
    Order.objects.filter(pk=order.pk).update(is_deleted=True)
    assert staff_api.get(f"/api/orders/{order.pk}/transitions").status_code == 400


def test_the_query_count_does_not_grow_with_the_catalogue(
    staff_api, order, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as few:
        transitions(staff_api, order)
    for index in range(15):
        Stage.objects.create(slug=f"extra-{index}", name=f"Extra {index}", position=100 + index)
    with django_assert_max_num_queries(len(few)):
        data = transitions(staff_api, order)
    assert len(data["refused"]) == 3 + 15


def test_a_token_without_orders_read_is_refused(api, order, staff_member, make_token):
    raw = make_token(staff_member, token_abilities=["stages:read", "stages:write"]).raw
    response = api.get(f"/api/orders/{order.pk}/transitions", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert "orders:read" in response.json()["message"]


@pytest.mark.parametrize(("role_name", "code"), [("customer", 403), ("viewer", 200)])
def test_the_role_needs_view_orderstage(api, order, make_token, role_name, code):
    user = EmployeeFactory().user
    role_grant(
        user=user, application=Application.objects.get(slug="planoauth"), role_name=role_name
    )
    raw = make_token(user).raw
    response = api.get(f"/api/orders/{order.pk}/transitions", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == code, response.content
    if code == 403:
        assert "stages.view_orderstage" in response.json()["message"]

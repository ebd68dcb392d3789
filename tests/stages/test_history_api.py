"""GET /api/orders/{order_id}/stages: the timeline, who acted, time in the previous stage."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import ApiToken, Application
from accounts.services import role_grant
from stages.services import stage_record
from tests.factories import EmployeeFactory
from tests.factories.orders import OrderFactory
from tests.stages.conftest import error_of

pytestmark = pytest.mark.django_db


def history(client, order):
    response = client.get(f"/api/orders/{order.pk}/stages")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_every_row_says_who_acted_the_trigger_and_times(
    api, staff_api, staff_member, make_token, application
):
    order = OrderFactory()
    start = timezone.now() - timedelta(hours=5)
    stage_record(
        order=order,
        stage="received",
        actor=Actor.system("import"),
        stage_at=start,
        stage_trigger="import",
    )
    app_token = make_token(staff_member).token
    stage_record(
        order=order,
        stage="in-production",
        actor=Actor.for_token(app_token),
        stage_at=start + timedelta(hours=1),
        stage_trigger="press",
    )
    stage_record(
        order=order,
        stage="quality-check",
        actor=Actor.for_user(staff_member, application),
        stage_at=start + timedelta(hours=3, minutes=30),
        stage_trigger="inspection",
    )

    data = history(staff_api, order)

    assert data["order_id"] == order.pk
    assert data["current"]["stage"]["slug"] == "quality-check"
    rows = data["stages"]
    assert [r["stage"] for r in rows] == ["received", "in-production", "quality-check"]
    assert [r["stage_trigger"] for r in rows] == ["import", "press", "inspection"]
    assert [r["acted_by"]["kind"] for r in rows] == ["system", "application", "user"]
    assert rows[0]["acted_by"] == {
        "kind": "system",
        "user_id": None,
        "user": None,
        "application": None,
        "label": "system: import",
    }
    assert rows[1]["acted_by"]["application"] == "planoauth"
    assert rows[1]["acted_by"]["user_id"] == staff_member.pk
    assert rows[2]["acted_by"]["user"] == staff_member.full_name
    assert [r["previous_stage"] for r in rows] == [None, "received", "in-production"]
    assert [r["seconds_in_previous_stage"] for r in rows] == [None, 3600, 9000]
    assert rows[0]["stage_at_mt"].endswith(("-06:00", "-07:00"))
    assert rows[0]["recorded_at"]


def test_a_repeated_stage_is_one_stay(staff_api):
    order = OrderFactory()
    start = timezone.now() - timedelta(days=1)
    system = Actor.system("test")
    for slug, minutes in [("received", 0), ("in-production", 60), ("in-production", 90)]:
        stage_record(
            order=order, stage=slug, actor=system, stage_at=start + timedelta(minutes=minutes)
        )
    stage_record(
        order=order, stage="quality-check", actor=system, stage_at=start + timedelta(minutes=180)
    )

    rows = history(staff_api, order)["stages"]

    assert [r["seconds_in_previous_stage"] for r in rows] == [None, 3600, None, 7200]


def test_a_late_arrival_takes_its_place_in_time(staff_api, order, post):
    earlier = (timezone.now() - timedelta(hours=3)).isoformat()
    post({"order_id": order.pk, "update_status": True, "stage": "on-hold", "stage_at_mt": earlier})

    rows = history(staff_api, order)["stages"]

    assert [r["stage"] for r in rows] == ["on-hold", "received"]
    assert [r["updated_status"] for r in rows] == [False, True]
    assert rows[1]["previous_stage"] == "on-hold"
    assert rows[1]["seconds_in_previous_stage"] == 3600


def test_an_order_without_history(staff_api):
    data = history(staff_api, OrderFactory())
    assert (data["current"], data["stages"]) == (None, [])


def test_query_count_is_the_same_for_one_row_and_many(
    staff_api, staff_member, make_token, django_assert_max_num_queries
):
    one = OrderFactory(stage="received")
    many = OrderFactory(stage="received")
    token = make_token(staff_member).token
    start = timezone.now() - timedelta(days=2)
    cycle = ["in-production", "on-hold"]
    for index in range(24):
        actor = Actor.for_token(token) if index % 3 == 0 else Actor.for_user(EmployeeFactory().user)
        stage_record(
            order=many,
            stage=cycle[index % 2],
            actor=actor,
            stage_at=start + timedelta(minutes=index),
            created_by_user=EmployeeFactory().user,
        )

    with CaptureQueriesContext(connection) as single:
        assert len(history(staff_api, one)["stages"]) == 1
    with django_assert_max_num_queries(len(single)):
        assert len(history(staff_api, many)["stages"]) == 25


def test_an_unknown_order_is_400_invalid_param(staff_api):
    assert "order_id" in error_of(staff_api.get("/api/orders/424242/stages"), "invalid-param", 400)


def test_a_session_token_gets_its_session(api, order, staff_member, make_token):
    raw = make_token(staff_member, kind=ApiToken.Kind.SESSION).raw
    response = api.get(
        f"/api/orders/{order.pk}/stages?session_view=minimal", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200
    session = response.json()["session"]
    assert session["token_prefix"] and "user" not in session


def test_a_token_without_stages_read_is_refused(api, order, staff_member, make_token):
    raw = make_token(staff_member, token_abilities=["orders:read", "stages:write"]).raw
    response = api.get(f"/api/orders/{order.pk}/stages", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert "stages:read" in response.json()["message"]


@pytest.mark.parametrize(("role_name", "code"), [("customer", 403), ("stage operator", 200)])
def test_the_role_needs_view_orderstage(api, order, make_token, role_name, code):
    user = EmployeeFactory().user
    role_grant(
        user=user, application=Application.objects.get(slug="planoauth"), role_name=role_name
    )
    raw = make_token(user).raw
    response = api.get(f"/api/orders/{order.pk}/stages", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == code, response.content

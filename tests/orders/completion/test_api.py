"""POST /api/v2/orders/{order_number}/complete: the document's bodies, codes and statuses."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import abilities as ab
from accounts.actors import Actor
from group_orders.models import Job, JobEvent
from orders import services
from orders.models import Order
from stages.models import OrderStage
from tests.factories import EmployeeFactory
from tests.factories.orders import OrderFactory, ServiceTypeFactory
from tests.orders.completion.conftest import complete_url, completion_error, order_state

pytestmark = pytest.mark.django_db

STAFF = Actor.system("test")


def completion_jobs(order: Order):
    return Job.objects.filter(
        kind="orders.completion", subject_type="orders.order", subject_id=str(order.pk)
    )


# --------------------------------------------------------------------------- success


def test_success_flags_the_order_and_enqueues_one_job(staff_api, staff_member, ready_order):
    order = ready_order()
    version = order.version

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 201
    assert response.json() == {"orderNumber": order.number, "message": "Successful"}
    order.refresh_from_db()
    assert order.completion_requested_at is not None
    assert order.completion_requested_by == staff_member
    assert order.completed_at is None  # nothing is completed until the worker runs the job
    assert order.current_status.stage.slug == "quality-check"
    assert order.version == version + 1
    latest = order.history.first()
    assert latest.history_user == staff_member
    assert latest.history_change_reason.startswith("Completion requested by ")
    job = completion_jobs(order).get()
    assert job.status == Job.Status.QUEUED
    assert job.params["requested_by"].startswith("planoauth (")  # an application token
    assert job.events.get().event == JobEvent.Event.ENQUEUED
    assert not OrderStage.objects.filter(order=order, stage__slug="complete").exists()


def test_the_job_is_dispatched_only_when_the_request_commits(
    staff_api, ready_order, django_capture_on_commit_callbacks
):
    order = ready_order(notify=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_api.post(complete_url(order.number))
    assert response.status_code == 201
    order.refresh_from_db()
    assert order.completed_at is None and len(callbacks) == 1

    for callback in callbacks:  # the commit: the ImmediateBackend runs the job at once
        callback()

    order.refresh_from_db()
    assert order.completed_at is not None
    assert order.completion_requested_at is None
    assert completion_jobs(order).get().status == Job.Status.SUCCEEDED


def test_an_empty_json_object_and_the_application_parameter_are_accepted(staff_api, ready_order):
    first, second = ready_order(), ready_order()
    assert staff_api.post(complete_url(first.number), {}, format="json").status_code == 201
    response = staff_api.post(
        complete_url(second.number), {"application": "planoauth"}, format="json"
    )
    assert response.status_code == 201


# --------------------------------------------------------------------------- error codes


def test_01_order_not_found(staff_api, ready_order):
    bystander = ready_order()
    before = order_state(bystander)

    response = staff_api.post(complete_url("99999999"))

    assert response.status_code == 404
    assert response.json() == completion_error("01", "Order not found")
    assert order_state(bystander) == before
    assert not Job.objects.exists()


def test_02_order_deleted(staff_api, ready_order):
    order = ready_order()
    services.order_soft_delete(order=order, actor=STAFF)
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error("02", "Order deleted")
    assert order_state(order) == before


def test_03_order_unvalid(staff_api, ready_order):
    order = ready_order()
    services.order_mark_invalid(order=order, actor=STAFF, reason="Duplicate of 30001")
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error("03", "Order unvalid")
    assert order_state(order) == before


def test_04_order_already_completed(staff_api):
    order = OrderFactory(stage="complete", completed_at=timezone.now())
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error("04", "Order already completed")
    assert order_state(order) == before


def test_04_an_order_in_the_complete_stage_counts_as_completed(staff_api):
    order = OrderFactory(stage="complete")  # moved there by a stage post; completed_at unset
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.json() == completion_error("04", "Order already completed")
    assert order_state(order) == before


def test_04_a_second_request_while_one_is_pending(staff_api, ready_order):
    order = ready_order()
    assert staff_api.post(complete_url(order.number)).status_code == 201
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error("04", "Order completion already requested")
    assert order_state(order) == before
    assert completion_jobs(order).count() == 1


def test_05_order_on_hold(staff_api, ready_order):
    order = ready_order()
    services.order_hold(order=order, actor=STAFF, reason="Waiting for the customer")
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error("05", "Order on hold")
    assert order_state(order) == before


def test_05_an_order_in_the_on_hold_stage_is_on_hold(staff_api):
    order = OrderFactory(stage="on-hold")
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.json() == completion_error("05", "Order on hold")
    assert order_state(order) == before


def test_20_the_first_unmet_job_flow_rule_gives_its_message(staff_api, ready_order, rule):
    coating = ServiceTypeFactory(slug="coating", name="Coating")
    order = ready_order(service_type=coating)
    rule("shipped", "Needs Backside Coat!", service_type=coating, position=10)
    rule("shipped", "Needs shipping!", position=20)
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error("20", "Needs Backside Coat!")
    assert order_state(order) == before


def test_20_when_the_stage_catalogue_does_not_let_the_order_move_to_complete(staff_api):
    order = OrderFactory(stage="received")
    before = order_state(order)

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 400
    assert response.json() == completion_error(
        "20", "An order in 'Received' cannot move to 'Complete'."
    )
    assert order_state(order) == before


def test_the_codes_come_in_the_documents_order(staff_api, ready_order, rule):
    order = ready_order()
    rule("shipped", "Needs shipping!")
    services.order_hold(order=order, actor=STAFF)
    services.order_mark_invalid(order=order, actor=STAFF, reason="Bad address")
    assert staff_api.post(complete_url(order.number)).json()["details"][0] == "Error Code: 03"
    services.order_soft_delete(order=order, actor=STAFF)
    assert staff_api.post(complete_url(order.number)).json()["details"][0] == "Error Code: 02"


# --------------------------------------------------------------------------- bad input


def order_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if '"orders_order"' in q["sql"]]


def writes(captured) -> list[str]:
    tables = ('"orders_order"', '"order_stages"', '"order_statuses"', '"group_orders_job')
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
        and any(table in q["sql"] for table in tables)
    ]


@pytest.mark.parametrize(
    "number",
    [
        "';DROP/**/TABLE/**/x;--",
        "<script>alert(1)</script>",
        "٣٣٧١٩",  # Arabic-Indic digits
        "33719/../1",
        "%",
        "30000*",
    ],
)
def test_odd_characters_answer_01_after_one_lookup(staff_api, ready_order, number):
    order = ready_order()
    before = order_state(order)

    with CaptureQueriesContext(connection) as captured:
        response = staff_api.post(complete_url(number))

    assert response.status_code == 404
    assert response.json() == completion_error("01", "Order not found")
    assert len(order_queries(captured)) == 1
    assert writes(captured) == []
    assert order_state(order) == before


@pytest.mark.parametrize(
    "number", ["3" * 500, "x" * 33, "\x00", "30001\x00", " 30001", "300 01", "\u2028", "\t"]
)
def test_impossible_numbers_answer_01_without_a_lookup(staff_api, ready_order, number):
    order = ready_order()
    before = order_state(order)

    with CaptureQueriesContext(connection) as captured:
        response = staff_api.post(complete_url(number))

    assert response.status_code == 404
    assert response.json() == completion_error("01", "Order not found")
    assert order_queries(captured) == []
    assert order_state(order) == before


def test_a_number_with_a_space_around_a_real_one_is_not_that_order(staff_api, ready_order):
    order = ready_order()
    response = staff_api.post(complete_url(f"{order.number} "))
    assert response.json() == completion_error("01", "Order not found")
    assert Order.objects.get(pk=order.pk).completion_requested_at is None


@pytest.mark.parametrize(
    "body", [{"status": "complete"}, {"orderNumber": "1"}, {"notify": False, "token": "x"}]
)
def test_a_body_with_parameters_is_refused_and_changes_nothing(staff_api, ready_order, body):
    order = ready_order()
    before = order_state(order)

    response = staff_api.post(complete_url(order.number), body, format="json")

    assert response.status_code == 400
    refused = sorted(set(body) - {"token"})[0]
    assert response.json() == {
        "status": "invalid-param",
        "message": f"Invalid parameter: {refused}. This endpoint takes no parameters: the "
        "order number in the path is all it needs.",
        "errors": {
            refused: [
                "This endpoint takes no parameters: the order number in the path is all it needs."
            ]
        },
    }
    assert order_state(order) == before


def test_a_query_parameter_is_refused_too(staff_api, ready_order):
    order = ready_order()
    before = order_state(order)
    response = staff_api.post(f"{complete_url(order.number)}?force=1")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid-param"
    assert list(response.json()["errors"]) == ["force"]
    assert order_state(order) == before


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [("[1, 2]", "application/json"), ('"complete"', "application/json"), ("{", "application/json")],
)
def test_a_body_that_is_not_a_json_object_is_refused(staff_api, ready_order, raw, content_type):
    order = ready_order()
    before = order_state(order)
    response = staff_api.post(complete_url(order.number), raw, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid-encoded-params"
    assert order_state(order) == before


# --------------------------------------------------------------------------- access


def test_without_a_token_the_platform_envelope_answers_401(api, ready_order):
    order = ready_order()
    before = order_state(order)
    response = api.post(complete_url(order.number))
    assert response.status_code == 401
    assert response.json()["status"] == "invalid-token"
    assert order_state(order) == before


def test_a_token_without_orders_write_is_refused(api, make_token, staff_member, ready_order):
    order = ready_order()
    before = order_state(order)
    token = make_token(staff_member, token_abilities=[ab.ORDERS_READ])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw}")

    response = api.post(complete_url(order.number))

    assert response.status_code == 403
    assert response.json()["status"] == "permission-denied"
    assert "orders:write" in response.json()["message"]
    assert order_state(order) == before


def test_a_role_without_the_permission_is_refused(person_api, ready_order):
    order = ready_order()
    before = order_state(order)
    response = person_api("stage operator").post(complete_url(order.number))
    assert response.status_code == 403
    assert response.json()["status"] == "permission-denied"
    assert "orders.request_completion" in response.json()["message"]
    assert order_state(order) == before


def test_an_application_token_acts_as_its_application(api, make_token, ready_order):
    user = EmployeeFactory().user
    from accounts.models import Application
    from accounts.services import role_grant

    for application in Application.objects.all():
        role_grant(user=user, application=application, role_name="order manager")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, name='press').raw}")
    order = ready_order()

    assert api.post(complete_url(order.number)).status_code == 201

    job = completion_jobs(order).get()
    assert job.enqueued_by == "planoauth (press)"
    assert Order.objects.get(pk=order.pk).completion_requested_by == user


# --------------------------------------------------------------------------- idempotency


def test_a_retry_with_the_same_idempotency_key_replays_the_201(staff_api, ready_order):
    order = ready_order()
    headers = {"Idempotency-Key": "complete-30001-a"}

    first = staff_api.post(complete_url(order.number), headers=headers)
    again = staff_api.post(complete_url(order.number), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"orderNumber": order.number, "message": "Successful"}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert completion_jobs(order).count() == 1


def test_a_refusal_under_a_key_is_replayed_as_it_was(staff_api, ready_order):
    order = ready_order()
    services.order_hold(order=order, actor=STAFF)
    headers = {"Idempotency-Key": "complete-held"}
    first = staff_api.post(complete_url(order.number), headers=headers)
    services.order_release(order=order, actor=STAFF)

    again = staff_api.post(complete_url(order.number), headers=headers)

    assert again.status_code == 400
    assert again.json() == first.json() == completion_error("05", "Order on hold")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert not completion_jobs(order).exists()


# --------------------------------------------------------------------------- schema


def test_the_schema_documents_the_endpoint_with_its_own_error_bodies(api):
    schema = api.get("/api/schema?format=json").json()
    operation = schema["paths"]["/api/v2/orders/{order_number}/complete"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "422", "500"} == set(operation["responses"])
    assert "requestBody" not in operation
    names = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert {("path", "order_number"), ("header", "Idempotency-Key")} <= names
    examples = operation["responses"]["400"]["content"]["application/json"]["examples"]
    assert examples["20"]["value"] == completion_error("20", "Needs Backside Coat!")
    not_found = operation["responses"]["404"]["content"]["application/json"]
    assert not_found["schema"]["$ref"].endswith("/OrderCompleteError")
    bad_request = schema["components"]["schemas"]["OrderCompleteBadRequest"]["oneOf"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in bad_request} == {
        "OrderCompleteError",
        "ErrorEnvelope",
    }

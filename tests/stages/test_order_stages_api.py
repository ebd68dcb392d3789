"""POST /api/v1/order_stages: one test (or more) per parameter of the document."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken, Application
from accounts.services import role_grant
from orders.models import Order
from stages.models import OrderStage, OrderStatus, Stage
from stages.services import stage_record
from tests.factories import ClientFactory, EmployeeFactory, LiaisonFactory, UserFactory
from tests.factories.orders import OrderFactory, OrderRequestFactory, ServiceTypeFactory
from tests.stages.conftest import ORDER_STAGES_URL, SYSTEM, error_of

pytestmark = pytest.mark.django_db


def payload(subject, **params):
    return {"order_id": subject.pk, "update_status": True, "stage": "in-production", **params}


def latest_row(order) -> OrderStage:
    return OrderStage.objects.filter(order=order).latest("id")


# ------------------------------------------------------------------- order_id / request id


def test_order_id_records_history_and_moves_the_status(post, order):
    response = post(payload(order, stage_trigger="press"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "action-successful"
    assert body["session"] is None  # an application token has no session
    data = body["data"]
    assert data["status_updated"] is True
    assert data["order_stage"]["order_id"] == order.pk
    assert data["order_stage"]["stage"] == "in-production"
    assert data["order_stage"]["previous_stage"] == "received"
    assert data["order_stage"]["acted_by"]["kind"] == "application"
    assert data["order_stage"]["acted_by"]["application"] == "planoauth"
    assert data["order_status"]["stage"] == "in-production"
    assert set(data["order_status"]) >= {"client", "appointment", "order", "stage_at_mt"}
    status = OrderStatus.objects.get(order=order)
    assert status.stage.slug == "in-production"
    assert status.stage_trigger == "press"
    assert OrderStage.objects.filter(order=order).count() == 2
    row = latest_row(order)
    assert (row.updated_status, row.actor_kind) == (True, "application")
    assert row.actor_label.startswith("planoauth (")


def test_order_request_id_records_for_the_request_with_its_client(post):
    request = OrderRequestFactory()
    response = post({"order_request_id": request.pk, "update_status": True, "stage": "received"})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["order_stage"]["order_request_id"] == request.pk
    assert data["order_stage"]["order_id"] is None
    status = OrderStatus.objects.get(order_request=request)
    assert status.stage.slug == "received"
    assert status.client == request.client  # looked up: no client hash


@pytest.mark.parametrize(
    ("ids", "slug"),
    [({"order_id": "both", "order_request_id": "both"}, "invalid-param"), ({}, "missing-param")],
)
def test_both_or_neither_id_is_refused_naming_them(post, order, snapshot, ids, slug):
    request = OrderRequestFactory()
    values = {"order_id": order.pk, "order_request_id": request.pk}
    before = snapshot()
    response = post(
        {"update_status": True, "stage": "in-production", **{k: values[k] for k in ids}}
    )

    errors = error_of(response, slug)
    assert set(errors) == {"order_id", "order_request_id"}
    assert snapshot() == before


def test_unknown_order_is_invalid_param(post, snapshot):
    before = snapshot()
    errors = error_of(
        post({"order_id": 999999, "update_status": True, "stage": "received"}), "invalid-param"
    )
    assert "order_id" in errors
    assert snapshot() == before


def test_deleted_order_is_invalid_param(post, order, snapshot):
    Order.objects.filter(pk=order.pk).update(is_deleted=True)
    before = snapshot()
    assert "order_id" in error_of(post(payload(order)), "invalid-param")
    assert snapshot() == before


def test_unknown_order_request_is_invalid_param(post, snapshot):
    before = snapshot()
    response = post({"order_request_id": 424242, "update_status": True, "stage": "received"})
    assert "order_request_id" in error_of(response, "invalid-param")
    assert snapshot() == before


@pytest.mark.parametrize("value", ["12", 1.5, True])
def test_order_id_must_be_an_integer_in_json(post, value, snapshot):
    before = snapshot()
    response = post({"order_id": value, "update_status": True, "stage": "received"})
    assert "order_id" in error_of(response, "invalid-param")
    assert snapshot() == before


# ---------------------------------------------------------------------------- update_status


def test_update_status_false_writes_history_only(post, order):
    response = post(payload(order, update_status=False))

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status_updated"] is False
    assert data["order_status"]["stage"] == "received"
    assert data["order_stage"]["updated_status"] is False
    assert OrderStatus.objects.get(order=order).stage.slug == "received"
    assert OrderStage.objects.filter(order=order).count() == 2


@pytest.mark.parametrize("value", ["yes", "maybe", 1.5, 1, 0, "true", "false", None, [], {}])
def test_update_status_must_be_a_json_boolean(post, order, snapshot, value):
    before = snapshot()
    errors = error_of(post(payload(order, update_status=value)), "invalid-param")
    assert "update_status" in errors
    assert snapshot() == before


def test_update_status_is_required(post, order, snapshot):
    before = snapshot()
    body = payload(order)
    del body["update_status"]
    assert "update_status" in error_of(post(body), "missing-param")
    assert snapshot() == before


@pytest.mark.parametrize(("text", "moves"), [("true", True), ("FALSE", False), ("True", True)])
def test_form_posts_read_true_and_false_text(post, order, text, moves):
    body = {"order_id": str(order.pk), "update_status": text, "stage": "in-production"}
    response = post(body, format="multipart")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status_updated"] is moves


@pytest.mark.parametrize("text", ["yes", "1", "on", ""])
def test_form_posts_refuse_other_boolean_text(post, order, snapshot, text):
    before = snapshot()
    body = {"order_id": str(order.pk), "update_status": text, "stage": "in-production"}
    assert "update_status" in error_of(post(body, format="multipart"), "invalid-param")
    assert snapshot() == before


# ------------------------------------------------------------------------------------ stage


def test_stage_is_required(post, order, snapshot):
    before = snapshot()
    body = payload(order)
    del body["stage"]
    assert "stage" in error_of(post(body), "missing-param")
    assert snapshot() == before


@pytest.mark.parametrize("slug", ["nonsense", "In production", ""])
def test_unknown_stage_slug_is_invalid_param(post, order, snapshot, slug):
    before = snapshot()
    assert "stage" in error_of(post(payload(order, stage=slug)), "invalid-param")
    assert snapshot() == before


def test_inactive_stage_is_unknown(post, order, snapshot):
    Stage.objects.filter(slug="in-production").update(is_active=False)
    before = snapshot()
    assert "stage" in error_of(post(payload(order)), "invalid-param")
    assert snapshot() == before


def test_disallowed_transition_answers_invalid_param_with_the_reason(post, order, snapshot):
    before = snapshot()
    errors = error_of(post(payload(order, stage="shipped")), "invalid-param")
    assert errors["stage"] == ["An order in 'Received' cannot move to 'Shipped'."]
    assert snapshot() == before


def test_leaving_a_final_stage_is_refused_with_the_reason(post, order):
    assert post(payload(order, stage="cancelled")).status_code == 200
    errors = error_of(post(payload(order, stage="received")), "invalid-param")
    assert errors["stage"] == ["'Cancelled' is a final stage; an order cannot leave it."]


def test_a_late_stage_is_not_checked_against_the_catalogue_and_stays_history(post, order):
    """A stage older than the current one only records what happened: no transition rule."""
    earlier = (timezone.now() - timedelta(hours=3)).astimezone(UTC)
    response = post(payload(order, stage="shipped", stage_at_mt=earlier.isoformat()))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status_updated"] is False
    assert "later stage_at" in response.json()["message"]
    assert OrderStatus.objects.get(order=order).stage.slug == "received"


# ----------------------------------------------------------------------------- stage_trigger


def test_stage_trigger_is_stored_on_history_and_status(post, order):
    post(payload(order, stage_trigger="barcode-scan"))
    assert latest_row(order).stage_trigger == "barcode-scan"
    assert OrderStatus.objects.get(order=order).stage_trigger == "barcode-scan"


def test_stage_trigger_must_be_a_string(post, order, snapshot):
    before = snapshot()
    assert "stage_trigger" in error_of(post(payload(order, stage_trigger=5)), "invalid-param")
    assert snapshot() == before


# ------------------------------------------------------------------ Mountain Time timestamps


@pytest.mark.parametrize(
    ("wall_clock", "utc"),
    [
        ("2026-01-15 09:00:00", datetime(2026, 1, 15, 16, 0, tzinfo=UTC)),  # MST, -07:00
        ("2026-07-15T09:00", datetime(2026, 7, 15, 15, 0, tzinfo=UTC)),  # MDT, -06:00
        ("2026-03-08 03:00", datetime(2026, 3, 8, 9, 0, tzinfo=UTC)),  # first minute of MDT
        ("2026-03-08 01:59:59", datetime(2026, 3, 8, 8, 59, 59, tzinfo=UTC)),  # last of MST
    ],
)
def test_stage_at_mt_is_mountain_wall_clock_stored_as_utc(post, order, wall_clock, utc):
    response = post(payload(order, stage_at_mt=wall_clock, update_status=False))

    assert response.status_code == 200, response.content
    assert latest_row(order).stage_at == utc
    echoed = datetime.fromisoformat(response.json()["data"]["order_stage"]["stage_at_mt"])
    assert echoed == utc
    assert echoed.replace(tzinfo=None) == datetime.fromisoformat(wall_clock)


def test_stage_at_mt_in_the_spring_forward_gap_is_invalid(post, order, snapshot):
    before = snapshot()
    errors = error_of(post(payload(order, stage_at_mt="2026-03-08 02:30:00")), "invalid-param")
    assert "does not exist in Mountain Time" in errors["stage_at_mt"][0]
    assert snapshot() == before


def test_an_ambiguous_fall_back_time_is_the_first_occurrence(post, order):
    response = post(payload(order, stage_at_mt="2025-11-02 01:30:00", update_status=False))

    assert response.status_code == 200, response.content
    assert latest_row(order).stage_at == datetime(2025, 11, 2, 7, 30, tzinfo=UTC)  # MDT
    assert response.json()["data"]["order_stage"]["stage_at_mt"] == "2025-11-02T01:30:00-06:00"


def test_an_explicit_offset_picks_the_second_fall_back_occurrence(post, order):
    response = post(payload(order, stage_at_mt="2025-11-02T01:30:00-07:00", update_status=False))

    assert response.status_code == 200, response.content
    assert latest_row(order).stage_at == datetime(2025, 11, 2, 8, 30, tzinfo=UTC)  # MST
    assert response.json()["data"]["order_stage"]["stage_at_mt"] == "2025-11-02T01:30:00-07:00"


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-13-01 10:00", "2026-02-30 10:00", "2026-03-01", "10:00", 1700000000],
)
def test_stage_at_mt_that_does_not_parse_is_invalid(post, order, snapshot, value):
    before = snapshot()
    assert "stage_at_mt" in error_of(post(payload(order, stage_at_mt=value)), "invalid-param")
    assert snapshot() == before


def test_stage_at_mt_far_in_the_future_is_invalid(post, order, snapshot):
    future = (timezone.now() + timedelta(days=2)).astimezone(UTC).isoformat()
    before = snapshot()
    errors = error_of(post(payload(order, stage_at_mt=future)), "invalid-param")
    assert "future" in errors["stage_at_mt"][0]
    assert snapshot() == before


def test_blank_stage_at_mt_means_now(post, order):
    before = timezone.now()
    assert post(payload(order, stage_at_mt="")).status_code == 200
    assert latest_row(order).stage_at >= before


def test_created_at_mt_is_stored_as_utc(post, order):
    response = post(payload(order, created_at_mt="2026-03-08 01:15"))

    assert response.status_code == 200, response.content
    assert latest_row(order).source_created_at == datetime(2026, 3, 8, 8, 15, tzinfo=UTC)
    assert response.json()["data"]["order_stage"]["created_at_mt"] == "2026-03-08T01:15:00-07:00"


@pytest.mark.parametrize("value", ["2026-03-08 02:00", "soon", 5])
def test_created_at_mt_that_is_not_a_mountain_time_is_invalid(post, order, snapshot, value):
    before = snapshot()
    assert "created_at_mt" in error_of(post(payload(order, created_at_mt=value)), "invalid-param")
    assert snapshot() == before


def test_notified_at_mt_is_stored_on_history_and_status(post, order):
    response = post(payload(order, notified_at_mt="2026-11-01 01:05"))  # fall-back hour

    assert response.status_code == 200, response.content
    expected = datetime(2026, 11, 1, 7, 5, tzinfo=UTC)  # the first 01:05 (MDT)
    assert latest_row(order).notified_at == expected
    assert OrderStatus.objects.get(order=order).notified_at == expected
    assert response.json()["data"]["order_status"]["notified_at_mt"] == "2026-11-01T01:05:00-06:00"


def test_notified_at_mt_in_the_gap_is_invalid(post, order, snapshot):
    before = snapshot()
    response = post(payload(order, notified_at_mt="2026-03-08 02:05"))
    assert "notified_at_mt" in error_of(response, "invalid-param")
    assert snapshot() == before


# ------------------------------------------------------------------------ created_by rules


def test_created_by_id_fills_created_by_with_the_users_name(post, order):
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    response = post(payload(order, created_by_id=user.pk))

    assert response.status_code == 200, response.content
    row = latest_row(order)
    assert (row.created_by, row.created_by_user) == ("Ada Lovelace", user)
    assert response.json()["data"]["order_stage"]["created_by"] == "Ada Lovelace"
    assert response.json()["data"]["order_stage"]["created_by_id"] == user.pk


def test_created_by_id_of_a_user_without_a_name_uses_the_email(post, order):
    user = UserFactory(first_name="", last_name="")
    post(payload(order, created_by_id=user.pk))
    assert latest_row(order).created_by == user.email


def test_created_by_overrides_created_by_id(post, order):
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    post(payload(order, created_by_id=user.pk, created_by="Front desk"))

    row = latest_row(order)
    assert (row.created_by, row.created_by_user) == ("Front desk", user)


def test_created_by_alone(post, order):
    post(payload(order, created_by="Warehouse scanner 3"))
    assert latest_row(order).created_by == "Warehouse scanner 3"


def test_without_created_by_the_actor_is_named(post, order):
    post(payload(order))
    row = latest_row(order)
    assert row.created_by == row.actor_label and row.created_by.startswith("planoauth (")


def test_created_by_of_a_new_status_row(post):
    order = OrderFactory()  # no status yet
    user = UserFactory(first_name="Grace", last_name="Hopper")
    post(
        {"order_id": order.pk, "update_status": True, "stage": "received", "created_by_id": user.pk}
    )
    assert OrderStatus.objects.get(order=order).created_by == "Grace Hopper"


@pytest.mark.parametrize("value", [987654, "7", 2.5])
def test_created_by_id_that_is_no_user_is_invalid(post, order, snapshot, value):
    before = snapshot()
    assert "created_by_id" in error_of(post(payload(order, created_by_id=value)), "invalid-param")
    assert snapshot() == before


def test_created_by_id_is_checked_even_when_created_by_overrides_it(post, order, snapshot):
    before = snapshot()
    response = post(payload(order, created_by_id=987654, created_by="Front desk"))
    assert "created_by_id" in error_of(response, "invalid-param")
    assert snapshot() == before


# -------------------------------------------------------------------------- appointment hash


def test_appointment_hash_sets_the_status_row(post, order):
    appointment = {
        "appt_id": 991,
        "appt_confirmed": "confirmed",
        "appt_duration_time": "45 min",
        "appt_start_at": "2026-03-09 09:00",
        "appt_stop_at": "2026-03-09 09:45",
        "cancel_reason": "",
        "cancel_note": "n/a",
    }
    response = post(payload(order, appointment=appointment))

    assert response.status_code == 200, response.content
    status = OrderStatus.objects.get(order=order)
    assert (status.appt_id, status.appt_confirmed, status.appt_duration_time) == (
        991,
        "confirmed",
        "45 min",
    )
    assert status.appt_start_at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # MDT from Mar 8
    assert status.appt_stop_at == datetime(2026, 3, 9, 15, 45, tzinfo=UTC)
    assert status.appt_cancel_note == "n/a"
    echoed = response.json()["data"]["order_status"]["appointment"]
    assert echoed["appt_start_at"] == "2026-03-09T09:00:00-06:00"
    assert echoed["cancel_note"] == "n/a"
    assert latest_row(order).payload == {"appointment": appointment}


@pytest.mark.parametrize(
    ("appointment", "param"),
    [
        ({"appt_id": 1, "room": "B"}, "appointment.room"),
        ({"appt_id": "7"}, "appointment.appt_id"),
        ({"appt_id": 7.5}, "appointment.appt_id"),
        ({"appt_confirmed": True}, "appointment.appt_confirmed"),
        ({"appt_start_at": "2026-03-08 02:10"}, "appointment.appt_start_at"),
        ({"appt_start_at": "noon"}, "appointment.appt_start_at"),
        (
            {"appt_start_at": "2026-03-09 10:00", "appt_stop_at": "2026-03-09 09:00"},
            "appointment.appt_stop_at",
        ),
        ("tomorrow at 9", "appointment"),
        ([1, 2], "appointment"),
    ],
)
def test_bad_appointment_hash_is_invalid_param_naming_the_key(
    post, order, snapshot, appointment, param
):
    before = snapshot()
    errors = error_of(post(payload(order, appointment=appointment)), "invalid-param")
    assert param in errors
    assert snapshot() == before


# ------------------------------------------------------------------------------- client hash


def test_client_hash_sets_the_client_of_the_status_row(post, order):
    other = ClientFactory(billing_postal_code="80202")
    response = post(
        payload(order, client={"client_id": other.pk, "client_billing_postal_code": 2134})
    )

    assert response.status_code == 200, response.content
    status = OrderStatus.objects.get(order=order)
    assert (status.client, status.client_billing_postal_code) == (other, "2134")
    assert response.json()["data"]["order_status"]["client"] == {
        "client_id": other.pk,
        "client_billing_postal_code": "2134",
    }


def test_client_hash_postal_code_as_a_string_keeps_leading_zeros(post, order):
    post(payload(order, client={"client_billing_postal_code": "02134"}))
    status = OrderStatus.objects.get(order=order)
    assert status.client_billing_postal_code == "02134"
    assert status.client == order.customer  # no client_id: looked up from the order


def test_client_hash_with_only_client_id_takes_that_clients_postal_code(post, order):
    other = ClientFactory(billing_postal_code="80202")
    post(payload(order, client={"client_id": other.pk}))
    status = OrderStatus.objects.get(order=order)
    assert (status.client, status.client_billing_postal_code) == (other, "80202")


def test_without_client_hash_the_client_is_looked_up_from_the_order(post, order):
    status = OrderStatus.objects.get(order=order)
    status.client = None
    status.client_billing_postal_code = ""
    status.save()
    order.customer.billing_postal_code = "59801"
    order.customer.save()

    post(payload(order))

    status.refresh_from_db()
    assert (status.client, status.client_billing_postal_code) == (order.customer, "59801")


@pytest.mark.parametrize(
    ("client", "param"),
    [
        ({"client_id": 999999}, "client.client_id"),
        ({"client_id": "abc"}, "client.client_id"),
        ({"client_billing_postal_code": {"zip": 1}}, "client.client_billing_postal_code"),
        ({"client_billing_postal_code": True}, "client.client_billing_postal_code"),
        ({"client_name": "x"}, "client.client_name"),
        ("client 5", "client"),
    ],
)
def test_bad_client_hash_is_invalid_param_naming_the_key(post, order, snapshot, client, param):
    before = snapshot()
    assert param in error_of(post(payload(order, client=client)), "invalid-param")
    assert snapshot() == before


# -------------------------------------------------------------------------------- order hash


def test_order_hash_changes_the_order_and_its_status_row(post, order):
    ServiceTypeFactory(slug="portrait")
    order_hash = {
        "notes": "Fragile",
        "delivery_rush": True,
        "due_date": "2026-12-01",
        "external_id": "ERP-77",
        "service_type": "portrait",
        "services_addon_array": ["gloss", 12],
        "cancel_reason": "",
        "cancel_note": "",
    }
    version = Order.objects.get(pk=order.pk).version
    response = post(payload(order, order=order_hash))

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.notes == "Fragile"
    assert order.delivery_rush is True
    assert order.due_date == date(2026, 12, 1)
    assert order.external_id == "ERP-77"
    assert order.service_type.slug == "portrait"
    assert order.services_addons == ["gloss", 12]
    assert order.version == version + 1  # one bump for the whole call
    assert order.history.first().history_change_reason.startswith("Order details from a stage")
    echoed = response.json()["data"]["order_status"]["order"]
    assert echoed == {**order_hash, "services_addon_array": ["gloss", 12]}


def test_order_hash_is_not_applied_when_the_status_does_not_move(post, order):
    response = post(payload(order, update_status=False, order={"notes": "Late note"}))

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.notes == ""
    assert OrderStatus.objects.get(order=order).notes == ""
    assert latest_row(order).payload == {"order": {"notes": "Late note"}}


def test_order_hash_on_an_order_request_sets_the_status_row_only(post):
    request = OrderRequestFactory()
    response = post(
        {
            "order_request_id": request.pk,
            "update_status": True,
            "stage": "received",
            "order": {"due_date": "2026-12-24", "services_addon_array": ["frame"], "notes": "x"},
        }
    )

    assert response.status_code == 200, response.content
    status = OrderStatus.objects.get(order_request=request)
    assert (status.due_date, status.services_addon_array, status.notes) == (
        date(2026, 12, 24),
        ["frame"],
        "x",
    )


def test_order_hash_external_id_of_another_order_is_invalid(post, order, snapshot):
    OrderFactory(external_id="TAKEN-1")
    before = snapshot()
    errors = error_of(post(payload(order, order={"external_id": "TAKEN-1"})), "invalid-param")
    assert "order.external_id" in errors
    assert snapshot() == before


@pytest.mark.parametrize(
    ("order_hash", "param"),
    [
        ({"delivery_rush": "yes"}, "order.delivery_rush"),
        ({"due_date": "next week"}, "order.due_date"),
        ({"due_date": 20261201}, "order.due_date"),
        ({"service_type": "no-such-service"}, "order.service_type"),
        ({"services_addon_array": "gloss"}, "order.services_addon_array"),
        ({"services_addon_array": [{"name": "gloss"}]}, "order.services_addon_array.0"),
        ({"notes": ["a"]}, "order.notes"),
        ({"colour": "red"}, "order.colour"),
        (17, "order"),
    ],
)
def test_bad_order_hash_is_invalid_param_naming_the_key(post, order, snapshot, order_hash, param):
    before = snapshot()
    assert param in error_of(post(payload(order, order=order_hash)), "invalid-param")
    assert snapshot() == before


def test_hashes_in_a_form_post_use_brackets(post, order):
    body = {
        "order_id": str(order.pk),
        "update_status": "true",
        "stage": "in-production",
        "appointment[appt_id]": "31",
        "client[client_billing_postal_code]": "02134",
        "order[delivery_rush]": "true",
        "order[services_addon_array][]": ["gloss", "frame"],
    }
    response = post(body, format="multipart")

    assert response.status_code == 200, response.content
    status = OrderStatus.objects.get(order=order)
    assert (status.appt_id, status.client_billing_postal_code) == (31, "02134")
    assert status.services_addon_array == ["gloss", "frame"]
    assert status.delivery_rush is True


# --------------------------------------------------------------- notes, updated_by, event_slug


def test_notes_are_kept_on_the_history_row(post, order):
    post(payload(order, notes="Queued on press 2"))
    assert latest_row(order).notes == "Queued on press 2"


def test_updated_by_is_stored_on_history_and_status(post, order):
    post(payload(order, updated_by="Night shift"))
    assert latest_row(order).updated_by == "Night shift"
    assert OrderStatus.objects.get(order=order).updated_by == "Night shift"


def test_updated_by_id_fills_updated_by_with_the_users_name(post, order):
    user = UserFactory(first_name="Katherine", last_name="Johnson")
    response = post(payload(order, updated_by_id=user.pk))

    assert response.status_code == 200, response.content
    status = OrderStatus.objects.get(order=order)
    assert (status.updated_by, status.updated_by_id) == ("Katherine Johnson", user.pk)
    row = latest_row(order)
    assert (row.updated_by, row.updated_by_id) == ("Katherine Johnson", user.pk)


def test_updated_by_overrides_the_name_of_updated_by_id(post, order):
    user = UserFactory(first_name="Katherine", last_name="Johnson")
    post(payload(order, updated_by_id=user.pk, updated_by="KJ"))
    assert (latest_row(order).updated_by, latest_row(order).updated_by_id) == ("KJ", user.pk)


def test_updated_by_id_that_is_no_user_is_invalid(post, order, snapshot):
    before = snapshot()
    assert "updated_by_id" in error_of(post(payload(order, updated_by_id=555555)), "invalid-param")
    assert snapshot() == before


def test_event_slug_is_stored_on_history_and_status(post, order):
    post(payload(order, event_slug="press-queued"))
    assert latest_row(order).event_slug == "press-queued"
    assert OrderStatus.objects.get(order=order).event_slug == "press-queued"


def test_an_unknown_parameter_is_invalid_param(post, order, snapshot):
    before = snapshot()
    errors = error_of(post(payload(order, stage_at="2026-01-01 10:00")), "invalid-param")
    assert "stage_at" in errors
    assert snapshot() == before


def test_an_empty_body_is_no_params_decoded(staff_api):
    response = staff_api.post(ORDER_STAGES_URL, {}, format="json")
    assert response.json()["status"] == "no-params-decoded"


# ------------------------------------- token, application, application_view, session_view


@pytest.fixture
def operator(application):
    """An employee who is a stage operator in planoorder only."""
    user = EmployeeFactory().user
    role_grant(
        user=user,
        application=Application.objects.get(slug="planoorder"),
        role_name="stage operator",
    )
    return user


def test_token_in_the_body(api, order, staff_member, make_token):
    raw = make_token(staff_member).raw
    response = api.post(ORDER_STAGES_URL, payload(order, token=raw), format="json")
    assert response.status_code == 200, response.content


def test_token_in_the_query_string(api, order, staff_member, make_token):
    raw = make_token(staff_member).raw
    response = api.post(f"{ORDER_STAGES_URL}?token={raw}", payload(order), format="json")
    assert response.status_code == 200, response.content


def test_without_a_token_is_invalid_token(api, order, snapshot):
    before = snapshot()
    response = api.post(ORDER_STAGES_URL, payload(order), format="json")
    assert error_of(response, "invalid-token", 401) == {}
    assert snapshot() == before


def test_application_picks_the_role_in_effect(api, order, operator, make_token):
    raw = make_token(operator).raw  # a planoauth token; the role is in planoorder
    refused = api.post(ORDER_STAGES_URL, payload(order, token=raw), format="json")
    assert refused.status_code == 403
    allowed = api.post(
        ORDER_STAGES_URL, payload(order, token=raw, application="planoorder"), format="json"
    )
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["data"]["order_stage"]["acted_by"]["application"] == "planoorder"


def test_unknown_application_is_invalid_param(post, order, snapshot):
    before = snapshot()
    assert "application" in error_of(post(payload(order, application="nope")), "invalid-param")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("view", "keys"),
    [
        ("minimal", {"slug"}),
        ("default", {"slug", "name"}),
        ("full", {"slug", "name", "description", "is_active"}),
    ],
)
def test_application_view_adds_the_application(post, order, view, keys):
    response = post(payload(order, application_view=view))
    application = response.json()["data"]["application"]
    assert set(application) == keys and application["slug"] == "planoauth"


def test_without_application_view_there_is_no_application(post, order):
    assert "application" not in post(payload(order)).json()["data"]


@pytest.mark.parametrize("param", ["application_view", "session_view"])
def test_unknown_view_is_invalid_param(post, order, param, snapshot):
    before = snapshot()
    assert param in error_of(post(payload(order, **{param: "huge"})), "invalid-param")
    assert snapshot() == before


@pytest.mark.parametrize(("view", "has_user"), [("minimal", False), ("full", True)])
def test_session_view_shapes_the_session(api, order, staff_member, make_token, view, has_user):
    raw = make_token(staff_member, kind=ApiToken.Kind.SESSION).raw
    response = api.post(
        ORDER_STAGES_URL, payload(order, token=raw, session_view=view), format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert ("user" in body["session"]) is has_user
    assert body["data"]["order_stage"]["acted_by"]["kind"] == "user"  # a session acts as its user
    assert body["data"]["order_stage"]["acted_by"]["user_id"] == staff_member.pk


# ----------------------------------------------------------------------------------- access


def test_a_token_without_the_stages_write_ability_is_refused(
    api, order, staff_member, make_token, snapshot
):
    raw = make_token(
        staff_member, token_abilities=["orders:read", "orders:write", "stages:read"]
    ).raw
    before = snapshot()
    response = api.post(ORDER_STAGES_URL, payload(order, token=raw), format="json")
    assert error_of(response, "permission-denied", 403) == {}
    assert "stages:write" in response.json()["message"]
    assert snapshot() == before


@pytest.mark.parametrize("role_name", ["viewer", "customer", "group uploader"])
def test_a_role_without_add_orderstage_is_refused(api, order, make_token, role_name, snapshot):
    user = EmployeeFactory().user
    role_grant(
        user=user, application=Application.objects.get(slug="planoauth"), role_name=role_name
    )
    before = snapshot()
    response = api.post(ORDER_STAGES_URL, payload(order, token=make_token(user).raw), format="json")
    assert response.status_code == 403
    assert "stages.add_orderstage" in response.json()["message"]
    assert snapshot() == before


def test_the_stage_operator_role_may_record(api, order, operator, make_token):
    raw = make_token(operator).raw
    response = api.post(
        ORDER_STAGES_URL, payload(order, token=raw, application="planoorder"), format="json"
    )
    assert response.status_code == 200, response.content


def test_a_liaison_records_for_the_orders_of_the_clients_it_serves_only(api, make_token):
    """Visibility of the order (compiled per number of clients: three clients here, padded
    to four): a served client's order moves; another client's or a deleted order answers as
    if it did not exist, and nothing is written."""
    liaison = LiaisonFactory()
    served = [ClientFactory(user=None) for _ in range(3)]
    liaison.clients.set(served)
    planoorder = Application.objects.get(slug="planoorder")
    role_grant(user=liaison.user, application=planoorder, role_name="stage operator")
    raw = make_token(liaison.user, app=planoorder).raw
    mine, theirs = OrderFactory(customer=served[2]), OrderFactory(customer=ClientFactory())
    gone = OrderFactory(customer=served[0], is_deleted=True)
    for order in (mine, theirs, gone):
        stage_record(order=order, stage="received", actor=SYSTEM, check_transition=False)

    allowed = api.post(ORDER_STAGES_URL, payload(mine, token=raw), format="json")
    assert allowed.status_code == 200, allowed.content
    for order in (theirs, gone):
        refused = api.post(ORDER_STAGES_URL, payload(order, token=raw), format="json")
        assert refused.status_code == 400, refused.content
        assert refused.json()["errors"] == {"order_id": [f"There is no order {order.pk}."]}
        assert OrderStage.objects.filter(order=order).count() == 1


# ------------------------------------------------------------------- round trips


def test_a_stage_post_takes_a_fixed_set_of_statements(post, order, staff_api):
    """The token (1), the stage (1), the order's visibility (1), then in one transaction: the
    order locked with its customer, the status with the catalogue's verdict on the move, the
    stage before it in time (with its slug), the history insert, the status and the order's
    version; nothing is read after the transaction to render the answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post(payload(order, stage="in-production"))  # the token's first use writes last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = post(payload(order, stage="on-hold", update_status=True))
    assert response.status_code == 200, response.content
    assert response.json()["data"]["order_stage"]["previous_stage"] == "in-production"
    statements = [q["sql"] for q in captured.captured_queries]
    work = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(work) == 9, work
    verdicts = [s for s in work if '"stages_stage_allowed_next"' in s]
    assert len(verdicts) == 1 and verdicts[0].startswith('SELECT "order_statuses"')
    assert work[-1].startswith('UPDATE "orders_order"')  # no read after the writes


def test_the_shared_renderers_write_what_a_fresh_serializer_writes(post, order):
    """The view renders with compiled representations made once per process
    (config/api/compiled.py); a fresh serializer per row (DRF's own use) gives the same body,
    for rows with every hash set and for bare ones."""
    from stages.api import views
    from stages.api.serializers import StageHistoryRowSerializer, StageStatusRowSerializer

    client = ClientFactory()
    full = payload(
        order,
        stage_trigger="press",
        notes="on press 2",
        event_slug="queued",
        appointment={"appt_id": 7, "appt_confirmed": "yes", "appt_start_at": "2026-03-09 09:00"},
        client={"client_id": client.pk, "client_billing_postal_code": "02134"},
        order={"due_date": "2026-03-20", "delivery_rush": True, "services_addon_array": ["x"]},
    )
    assert post(full).status_code == 200
    assert post(payload(order, stage="on-hold", update_status=False)).status_code == 200
    for row in OrderStage.objects.filter(order=order):
        assert views._HISTORY_ROW(row) == StageHistoryRowSerializer(row).data
    status = OrderStatus.objects.get(order=order)
    assert status.appt_id == 7 and status.client_id == client.pk
    assert views._STATUS_ROW(status) == StageStatusRowSerializer(status).data

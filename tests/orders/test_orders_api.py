"""/api/orders and /api/orders/{order_id}: the document's examples, access, bad input."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from accounts import abilities as ab
from orders.models import Order, OrderTotal
from stages.models import OrderStage, Stage
from stages.services import stage_record
from tests.factories import ClientFactory
from tests.factories.orders import FACTORY_ACTOR, LocationFactory, OrderFactory
from tests.orders.contracts import assert_same_shape, contract

pytestmark = pytest.mark.django_db

# The document's address is an e-mail-obfuscation artefact ("[email protected]") of the page
# it was copied from; the examples below use a real address and compare it as a string.
EMAIL = "tucker.vega@example.com"
DOC_EMAIL = "[email\xa0protected]"  # with a no-break space, as in the document


@pytest.fixture
def example_order(clock):
    """The document's example order, reproduced: ids 1, its values, its timestamps."""
    assert (Stage.objects.get(pk=3).slug, Stage.objects.get(pk=4).slug) == (
        "quality-check",
        "shipped",
    )
    clock.now = datetime(2020, 5, 24, 11, 58, 43, tzinfo=UTC)
    order = OrderFactory(
        id=1,
        customer=ClientFactory(id=1),
        location=LocationFactory(id=1),
        first_name="Tucker",
        last_name="Vega",
        email=EMAIL,
        telephone="+1 (604) 376-2674",
        notify=None,
        order_type="collection",
        order_date=date(2020, 5, 24),
        order_time=time(13, 13),
        processed=True,
        total_items=3,
        order_total=Decimal("15.0449"),
        comment="",
        payment="cod",
        invoice_prefix="INV-2020-00",
        invoice_date=clock.now,
        ip_address="192.168.10.1",
        hash="7158b25ef2f10b151f87fc4d26b3b27d",
        user_agent=(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:76.0) Gecko/20100101 Firefox/76.0"
        ),
        date_added=datetime(2020, 5, 24, 12, 58, 43, tzinfo=UTC),
    )
    stage_record(order=order, stage=Stage.objects.get(pk=3), actor=FACTORY_ACTOR)
    Order.objects.filter(pk=1).update(date_modified=datetime(2020, 5, 24, 12, 58, 43, tzinfo=UTC))
    return order


def _doc(name):
    body = contract(name)
    if body.get("email") == DOC_EMAIL:
        body["email"] = EMAIL
    return body


# --------------------------------------------------------------------------- the examples


def test_retrieve_is_the_documents_example(staff_api, example_order):
    response = staff_api.get("/api/orders/1")
    assert response.status_code == 200
    assert response.json() == _doc("rest_retrieve_response")


def test_list_item_is_the_documents_order_object(staff_api, example_order):
    body = staff_api.get("/api/orders").json()
    assert body["data"] == [_doc("rest_order_object")]
    assert body["links"] == {"next": None, "prev": None}
    assert body["meta"]["per_page"] == 50 and body["meta"]["ordering"] == "-id"


def test_patch_with_the_documents_payload_answers_its_response(staff_api, example_order):
    response = staff_api.patch("/api/orders/1", contract("rest_patch_payload"), format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == _doc("rest_patch_response")
    order = Order.objects.get(pk=1)
    assert order.order_type == "delivery" and order.current_status.stage.slug == "shipped"
    move = OrderStage.objects.filter(order=order).latest("id")
    assert (move.stage.slug, move.actor_kind, move.stage_trigger) == (
        "shipped",
        "application",
        "order-updated",
    )


def test_delete_answers_the_documents_body_and_deletes_for_good(staff_api, example_order):
    response = staff_api.delete("/api/orders/1")
    assert response.status_code == 200
    assert response.json() == contract("rest_delete_response")
    assert not Order.objects.filter(pk=1).exists()
    assert Order.history.filter(id=1, history_type="-").get().history_user is not None


def test_create_answers_an_order_object_like_the_example(staff_api):
    customer = ClientFactory()
    payload = {
        "customer_id": customer.pk,
        "location_id": LocationFactory().pk,
        "first_name": "Tucker",
        "last_name": "Vega",
        "email": EMAIL,
        "telephone": "+1 (604) 376-2674",
        "order_type": "collection",
        "order_date_time": "2020-05-24 13:13:00",
        "processed": True,
        "payment": "cod",
        "invoice_prefix": "INV-2020-00",
        "invoice_date": "2020-05-24T11:58:43.000000Z",
        "lines": [{"name": "Print", "quantity": 3, "price": "5.0149"}],
        "order_totals": [{"code": "total", "title": "Order Total", "value": "15.0449"}],
    }
    response = staff_api.post("/api/orders", payload, format="json", HTTP_USER_AGENT="curl/8")
    assert response.status_code == 201, response.json()
    body = response.json()
    example = _doc("rest_order_object")
    example["order_totals"] = [{"code": "total", "title": "Total", "value": 1.0, "priority": 0}]
    assert_same_shape(body, example)
    assert body["order_date_time"] == "2020-05-24 13:13:00"
    assert (body["total_items"], body["order_total"]) == (3, 15.0449)
    assert body["status_id"] == Stage.objects.get(slug="received").pk
    assert (body["ip_address"], body["user_agent"]) == ("127.0.0.1", "curl/8")
    order = Order.objects.get(pk=body["order_id"])
    assert order.number.isdigit() and len(order.hash) == 32
    assert order.history.get().history_type == "+"


# --------------------------------------------------------------------------- access

ROUTES = [
    ("get", "/api/orders", ab.ORDERS_READ),
    ("post", "/api/orders", ab.ORDERS_WRITE),
    ("get", "/api/orders/{id}", ab.ORDERS_READ),
    ("patch", "/api/orders/{id}", ab.ORDERS_WRITE),
    ("delete", "/api/orders/{id}", ab.ORDERS_WRITE),
]
BODIES = {"post": {"first_name": "Ann"}, "patch": {"first_name": "Ann"}}


def _call(client, method, path, order):
    return getattr(client, method)(
        path.format(id=order.pk), BODIES.get(method), format="json" if method in BODIES else None
    )


@pytest.mark.parametrize(("method", "path", "ability"), ROUTES)
def test_every_route_needs_its_ability(person_api, method, path, ability):
    order = OrderFactory(stage="received")
    other = ab.ORDERS_WRITE if ability == ab.ORDERS_READ else ab.ORDERS_READ
    refused = _call(person_api("order manager", abilities=[other]), method, path, order)
    assert refused.status_code == 403
    assert refused.json()["status"] == "permission-denied"
    assert ability in refused.json()["message"]
    allowed = _call(person_api("order manager", abilities=[ability]), method, path, order)
    assert allowed.status_code in (200, 201), allowed.json()


@pytest.mark.parametrize(
    ("method", "path", "ability", "viewer_allowed"),
    [(*route, route[2] == ab.ORDERS_READ) for route in ROUTES],
)
def test_every_route_needs_its_role_permission(person_api, method, path, ability, viewer_allowed):
    order = OrderFactory(stage="received")
    customer = _call(person_api("customer"), method, path, order)
    assert customer.status_code == 403 and customer.json()["status"] == "permission-denied"
    viewer = _call(person_api("viewer"), method, path, order)
    assert (viewer.status_code in (200, 201)) is viewer_allowed, viewer.json()
    if not viewer_allowed:
        assert viewer.json()["status"] == "permission-denied"


def test_no_token_is_invalid_token(api):
    response = api.get("/api/orders")
    assert response.status_code == 401 and response.json()["status"] == "invalid-token"


# --------------------------------------------------------------------------- not found


@pytest.mark.parametrize("order_id", ["999999", "abc", "-1"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_order_is_invalid_param_400(staff_api, method, order_id):
    body = {"first_name": "A"} if method == "patch" else None
    response = getattr(staff_api, method)(f"/api/orders/{order_id}", body, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid-param" and "order_id" in body["errors"]


def test_soft_deleted_order_is_hidden_and_refuses_changes(staff_api):
    from orders.services import order_soft_delete

    order = OrderFactory(stage="received", first_name="Kept")
    order_soft_delete(order=order, actor=FACTORY_ACTOR)
    assert staff_api.get(f"/api/orders/{order.pk}").status_code == 400
    assert staff_api.get("/api/orders").json()["data"] == []
    response = staff_api.patch(f"/api/orders/{order.pk}", {"first_name": "X"}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid-param"
    assert "deleted" in response.json()["errors"]["order_id"][0]
    assert Order.objects.get(pk=order.pk).first_name == "Kept"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"first_name": "A", "email": "not-an-email"}, "email"),
        ({"first_name": "A", "order_type": "takeaway"}, "order_type"),
        (
            {"first_name": "A", "order_totals": [{"code": "total", "value": "-1"}]},
            "order_totals.0.value",
        ),  # noqa: E501
        ({"first_name": "A", "order_total": "-0.01"}, "order_total"),
        ({"first_name": "A", "order_date_time": "24/05/2020 13:13"}, "order_date_time"),
        ({"first_name": "A", "invoice_date": "yesterday"}, "invoice_date"),
        ({"first_name": "A", "lines": [{"name": "x", "price": "-2"}]}, "lines.0.price"),
        ({"first_name": "A", "customer_id": 987654}, "customer_id"),
        ({"first_name": "A", "colour": "red"}, "colour"),
        ({"first_name": "A", "hash": "abc"}, "hash"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(staff_api, payload, param):
    response = staff_api.post("/api/orders", payload, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["status"] == "invalid-param"
    assert param in body["errors"], body
    assert not Order.objects.exists() and not OrderTotal.objects.exists()


def test_create_without_first_name_is_missing_param(staff_api):
    response = staff_api.post("/api/orders", {"last_name": "Vega"}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "missing-param"
    assert "first_name" in response.json()["errors"]


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"email": "nope"}, "email"),
        ({"order_type": "pickup"}, "order_type"),
        ({"order_date_time": "2020-13-40 10:00:00"}, "order_date_time"),
        ({"status_id": 999}, "status_id"),
        ({"processed": False}, "processed"),
        ({"nonsense": 1}, "nonsense"),
        ({"status_updated_at": "2020-05-24T11:58:43Z"}, "status_updated_at"),
    ],
)
def test_patch_refuses_bad_input_naming_the_field(staff_api, payload, param):
    order = OrderFactory(stage="received", first_name="Same")
    response = staff_api.patch(
        f"/api/orders/{order.pk}", {"first_name": "Changed", **payload}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["status"] == "invalid-param"
    assert param in response.json()["errors"]
    assert Order.objects.get(pk=order.pk).first_name == "Same"


def test_patch_refused_transition_saves_nothing(staff_api):
    order = OrderFactory(stage="received", order_type="collection")
    shipped = Stage.objects.get(slug="shipped")
    response = staff_api.patch(
        f"/api/orders/{order.pk}",
        {"order_type": "delivery", "status_id": shipped.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.order_type == "collection" and fresh.version == order.version
    assert fresh.current_status.stage.slug == "received"


def test_patch_assignee_sets_assignee_updated_at_and_history(staff_api, staff_member, clock):
    order = OrderFactory(stage="received")
    response = staff_api.patch(
        f"/api/orders/{order.pk}", {"assignee_id": staff_member.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.assignee == staff_member and fresh.assignee_updated_at == clock.now
    assert fresh.version == order.version + 1
    record = fresh.history.latest("history_id")
    assert record.history_user == staff_member
    assert "assignee" in record.history_change_reason


def test_patch_an_assignee_who_is_not_staff_is_refused(staff_api):
    order = OrderFactory(stage="received")
    customer = ClientFactory().user
    response = staff_api.patch(
        f"/api/orders/{order.pk}", {"assignee_id": customer.pk}, format="json"
    )
    assert response.status_code == 400 and "assignee_id" in response.json()["errors"]


def test_empty_patch_is_no_params_decoded(staff_api):
    order = OrderFactory(stage="received")
    response = staff_api.patch(f"/api/orders/{order.pk}", {}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "no-params-decoded"


# --------------------------------------------------------------------------- concurrency


def test_if_match_refuses_a_stale_patch_and_delete(staff_api):
    order = OrderFactory(stage="received", first_name="Ann")
    etag = staff_api.get(f"/api/orders/{order.pk}")["ETag"]
    fresh = staff_api.patch(
        f"/api/orders/{order.pk}", {"first_name": "Anne"}, format="json", HTTP_IF_MATCH=etag
    )
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    stale = staff_api.patch(
        f"/api/orders/{order.pk}", {"first_name": "Bob"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412 and stale.json()["status"] == "precondition-failed"
    refused = staff_api.delete(f"/api/orders/{order.pk}", HTTP_IF_MATCH=etag)
    assert refused.status_code == 412
    assert Order.objects.get(pk=order.pk).first_name == "Anne"
    deleted = staff_api.delete(f"/api/orders/{order.pk}", HTTP_IF_MATCH=fresh["ETag"])
    assert deleted.status_code == 200


def test_create_with_an_idempotency_key_creates_once(staff_api):
    body = {"first_name": "Once", "order_type": "delivery"}
    first = staff_api.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = staff_api.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.filter(first_name="Once").count() == 1


# --------------------------------------------------------------------------- parameters


def _refused(response, name: str, text: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "invalid-param" and body["errors"] == {name: [text]}


def test_a_parameter_an_endpoint_does_not_take_is_refused_not_ignored(staff_api):
    order = OrderFactory(stage="received", first_name="Kept")
    unknown = "foo is not a parameter of this API."
    _refused(staff_api.get("/api/orders", {"foo": "1"}), "foo", unknown)
    _refused(staff_api.get(f"/api/orders/{order.pk}?foo=1"), "foo", unknown)
    _refused(staff_api.delete(f"/api/orders/{order.pk}?foo=1"), "foo", unknown)
    # a field of the body sent in the query string would change nothing, silently
    response = staff_api.patch(
        f"/api/orders/{order.pk}?first_name=X", {"last_name": "Y"}, format="json"
    )
    _refused(
        response, "first_name", "first_name goes in the request body, not in the query string."
    )
    response = staff_api.post("/api/orders?email=a@example.com", {}, format="json")
    _refused(response, "email", "email goes in the request body, not in the query string.")
    order.refresh_from_db()
    assert order.first_name == "Kept" and order.last_name != "Y"
    assert staff_api.get(f"/api/orders/{order.pk}?application=planoorder").status_code == 200

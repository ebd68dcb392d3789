"""GET /api/orders: filters, search, ordering, keyset pagination, query count."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orders.services import order_hold
from stages.models import Stage
from tests.factories import ClientFactory, EmployeeFactory
from tests.factories.orders import (
    FACTORY_ACTOR,
    LocationFactory,
    OrderFactory,
    OrderTotalFactory,
    ServiceTypeFactory,
)

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["order_id"] for item in response.json()["data"]]


def test_filters(staff_api):
    from group_orders.models import GroupOrder

    assignee = EmployeeFactory().user
    location = LocationFactory()
    customer = ClientFactory()
    service = ServiceTypeFactory(slug="photo-restoration")
    group = GroupOrder.objects.create(
        public_id=uuid.uuid4(), original_filename="orders.csv", file_format="csv"
    )
    plain = OrderFactory(stage="received")
    rich = OrderFactory(
        stage="in-production",
        order_type="delivery",
        location=location,
        customer=customer,
        assignee=assignee,
        processed=True,
        service_type=service,
        group_order=group,
        order_date=date(2020, 5, 24),
        date_added=datetime(2020, 5, 1, 10, tzinfo=UTC),
    )
    order_hold(order=rich, actor=FACTORY_ACTOR, reason="check address")
    stage = Stage.objects.get(slug="in-production")

    def get(query):
        return ids(staff_api.get(f"/api/orders?{query}"))

    assert get("status=in-production") == [rich.pk]
    assert get(f"status={stage.pk}") == [rich.pk]
    assert get("status=received,in-production") == [rich.pk, plain.pk]
    assert get("order_type=delivery") == [rich.pk]
    assert get(f"location={location.pk}") == [rich.pk]
    assert get(f"customer={customer.pk}") == [rich.pk]
    assert get(f"assignee={assignee.pk}") == [rich.pk]
    assert get("assignee=none") == [plain.pk]
    assert get("date_added_after=2020-05-01&date_added_before=2020-05-01") == [rich.pk]
    assert get("date_added_before=2020-04-30") == []
    assert get("order_date_after=2020-05-24") == [rich.pk]
    assert get("processed=true") == [rich.pk]
    assert get("processed=false") == [plain.pk]
    assert get("on_hold=true") == [rich.pk]
    assert get("service_type=photo-restoration") == [rich.pk]
    assert get(f"service_type={service.pk}") == [rich.pk]
    assert get(f"group_order={group.public_id}") == [rich.pk]
    assert get(f"group_order={group.pk}") == [rich.pk]


def test_search(staff_api):
    one = OrderFactory(
        first_name="Naveen",
        last_name="Jain",
        email="Naveen.Jain@Example.com",
        telephone="+1 555 0100",
        external_id="EXT-77",
    )
    OrderFactory(first_name="Joe", last_name="Jackson")

    def search(term):
        return ids(staff_api.get("/api/orders", {"search": term}))

    assert search(one.number) == [one.pk]
    assert search("EXT-77") == [one.pk]
    assert search("naveen.jain@example.com") == [one.pk]
    assert search("+1 555 0100") == [one.pk]
    assert search("nav") == [one.pk]
    assert search("JAI") == [one.pk]
    assert search("ain") == []  # names match by prefix


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("order_type=takeaway", "order_type"),
        ("date_added_after=yesterday", "date_added"),
        ("processed=maybe", "processed"),
        ("location=abc", "location"),
        ("ordering=colour", "ordering"),
        ("per_page=0", "per_page"),
        ("per_page=501", "per_page"),
        ("cursor=garbage", "cursor"),
        ("stauts=received", "stauts"),
    ],
)
def test_bad_list_parameters_are_invalid_param(staff_api, query, param):
    OrderFactory()
    response = staff_api.get(f"/api/orders?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid-param" and param in body["errors"], body


def _walk(staff_api, query: str) -> tuple[list[int], list[int]]:
    """All ids following `next` from the first page, then all following `prev` back."""
    forward, pages = [], []
    url = f"/api/orders?{query}"
    while url:
        body = staff_api.get(url).json()
        pages.append(body)
        forward += [item["order_id"] for item in body["data"]]
        url = body["links"]["next"]
    assert pages[0]["links"]["prev"] is None
    backward = []
    url = pages[-1]["links"]["prev"]
    while url:
        body = staff_api.get(url).json()
        backward = [item["order_id"] for item in body["data"]] + backward
        url = body["links"]["prev"]
    return forward, backward


@pytest.fixture
def seven_orders():
    base = datetime(2021, 1, 1, tzinfo=UTC)
    dates = [
        date(2021, 3, 1),
        None,
        date(2021, 1, 1),
        date(2021, 3, 1),
        None,
        date(2021, 2, 1),
        None,
    ]
    totals = ["5", "1", "5", "3", "9", "5", "0"]
    return [
        OrderFactory(
            date_added=base + timedelta(days=index % 3),
            order_date=order_date,
            order_total=Decimal(total),
        )
        for index, (order_date, total) in enumerate(zip(dates, totals, strict=True))
    ]


def _expected(orders, name: str, descending: bool) -> list[int]:
    def key(order):
        value = getattr(order, name)
        # NULL sorts as the largest value
        return (value is None, value if value is not None else 0, order.pk)

    ordered = sorted(orders, key=key, reverse=descending)
    return [order.pk for order in ordered]


@pytest.mark.parametrize("name", ["id", "date_added", "order_date", "order_total"])
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pagination_walks_every_ordering_both_ways(
    staff_api, seven_orders, name, descending
):
    for order in seven_orders:
        order.refresh_from_db()
    ordering = f"-{name}" if descending else name
    forward, backward = _walk(staff_api, f"ordering={ordering}&per_page=2")
    expected = _expected(seven_orders, name, descending)
    assert forward == expected
    assert backward == expected[: len(backward)] and len(backward) == 6  # all but the last page


def test_links_keep_the_filters(staff_api):
    for _ in range(3):
        OrderFactory(order_type="delivery")
    OrderFactory(order_type="collection")
    body = staff_api.get("/api/orders?order_type=delivery&per_page=2").json()
    query = parse_qs(urlparse(body["links"]["next"]).query)
    assert query["order_type"] == ["delivery"] and query["per_page"] == ["2"]
    assert body["meta"]["next_cursor"] == query["cursor"][0]


def test_a_cursor_of_another_ordering_is_refused(staff_api):
    for _ in range(3):
        OrderFactory()
    body = staff_api.get("/api/orders?per_page=1").json()
    cursor = body["meta"]["next_cursor"]
    response = staff_api.get(f"/api/orders?ordering=date_added&cursor={cursor}")
    assert response.status_code == 400 and "cursor" in response.json()["errors"]


def _list_queries(staff_api) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = staff_api.get("/api/orders?per_page=100")
    assert response.status_code == 200
    return len(captured)


def test_list_query_count_does_not_grow_with_the_orders(staff_api, django_assert_max_num_queries):
    first = OrderFactory(stage="received")
    OrderTotalFactory(order=first)
    staff_api.get("/api/orders")  # warm the token's last-used write
    with django_assert_max_num_queries(8):
        one = _list_queries(staff_api)
    for _ in range(49):
        order = OrderFactory(stage="received", assignee=User.objects.first())
        OrderTotalFactory(order=order, code="subtotal")
        OrderTotalFactory(order=order, code="total")
    with django_assert_max_num_queries(one):
        fifty = _list_queries(staff_api)
    assert len(staff_api.get("/api/orders?per_page=100").json()["data"]) == 50
    assert fifty == one


@pytest.mark.parametrize("name", ["customer", "location"])
def test_an_id_filter_beyond_any_id_is_refused_by_name(staff_api, name):
    for value in ("-18047407141168023451124765818880", str(2**63), "0", "0.5"):
        response = staff_api.get("/api/orders", {name: value})
        assert response.status_code == 400, (name, value)
        assert list(response.json()["errors"]) == [name]


@pytest.mark.parametrize("name", ["status", "assignee", "service_type", "group_order"])
def test_a_number_beyond_any_id_matches_nothing(staff_api, name):
    OrderFactory()
    response = staff_api.get("/api/orders", {name: str(2**64)})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == []

"""The order changelist's query count does not grow with the orders on the page (customer,
location, assignee and stage come with the page query), and the order change page's does
not grow with the stage history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.actors import Actor
from stages.services import stage_record
from tests.factories import EmployeeFactory
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/orders/order/"


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_changelist_queries_do_not_grow_with_the_page(admin_client):
    assignee = EmployeeFactory().user
    OrderFactory(stage="received", assignee=assignee)
    _queries(admin_client, CHANGELIST)  # warm caches (content types, sessions)
    one = _queries(admin_client, CHANGELIST)

    for _ in range(12):
        OrderFactory(stage="in-production", assignee=EmployeeFactory().user)
    many = _queries(admin_client, CHANGELIST)

    assert many == one
    assert _queries(admin_client, f"{CHANGELIST}?q=Tucker") <= one + 1


def test_change_page_queries_do_not_grow_with_the_history(admin_client):
    order = OrderFactory(stage="received")
    path = f"/admin/orders/order/{order.pk}/change/"
    _queries(admin_client, path)
    short = _queries(admin_client, path)

    actor = Actor.system("test")
    for slug in ["in-production", "quality-check", "in-production", "quality-check", "shipped"]:
        stage_record(order=order, stage=slug, actor=actor)
    long = _queries(admin_client, path)

    assert long == short


def test_deep_pages_read_ids_first_and_show_the_same_rows(admin_client, monkeypatch):
    from orders.admin import EstimatedCountPaginator

    for _ in range(9):
        OrderFactory(stage="received")
    monkeypatch.setattr("orders.admin.OrderAdmin.list_per_page", 2)

    def page_ids(page: int) -> list[int]:
        response = admin_client.get(f"{CHANGELIST}?p={page}")
        return [order.pk for order in response.context["cl"].result_list]

    plain = [page_ids(page) for page in (1, 3, 5)]
    monkeypatch.setattr(EstimatedCountPaginator, "IDS_FIRST_FROM", 2)
    with CaptureQueriesContext(connection) as captured:
        ids_first = [page_ids(page) for page in (1, 3, 5)]

    assert ids_first == plain and plain[1] and len(plain[2]) == 1
    assert any('"orders_order"."id" IN' in q["sql"] for q in captured.captured_queries)

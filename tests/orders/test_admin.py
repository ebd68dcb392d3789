"""The orders admin: every model's pages, saves through the services, actions, exports."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from python_calamine import CalamineWorkbook

from accounts.actors import Actor
from orders import services
from orders.admin import EstimatedCountPaginator, OrderAdminForm, estimated_count
from orders.models import (
    Address,
    Location,
    Order,
    OrderLine,
    OrderNumberCounter,
    OrderRequest,
    OrderTotal,
    Package,
    Plan,
    ServiceType,
    Shipment,
    ShipmentItem,
)
from stages.models import OrderStage
from tests.factories import EmployeeFactory
from tests.factories.orders import (
    AddressFactory,
    LocationFactory,
    OrderFactory,
    OrderLineFactory,
    OrderRequestFactory,
    OrderTotalFactory,
    PackageFactory,
    PlanFactory,
    ServiceTypeFactory,
    ShipmentFactory,
    ShipmentItemFactory,
)
from tests.orders.admin_forms import add_inline_rows, admin_form_data

pytestmark = pytest.mark.django_db

MAKERS = {
    Order: lambda: OrderFactory(stage="received"),
    OrderLine: OrderLineFactory,
    OrderTotal: OrderTotalFactory,
    Shipment: ShipmentFactory,
    ShipmentItem: ShipmentItemFactory,
    Location: LocationFactory,
    ServiceType: ServiceTypeFactory,
    Address: AddressFactory,
    Package: PackageFactory,
    Plan: PlanFactory,
    OrderRequest: OrderRequestFactory,
    OrderNumberCounter: lambda: OrderNumberCounter.objects.get_or_create(name="order")[0],
}
READ_ONLY = {OrderNumberCounter}


def url(model, view: str, *args) -> str:
    return reverse(f"admin:orders_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(MAKERS), ids=lambda m: m.__name__)
def test_every_model_has_changelist_search_add_and_change(admin_client, model):
    obj = MAKERS[model]()
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "changelist"), {"q": "x"}).status_code == 200
    add = admin_client.get(url(model, "add"))
    assert add.status_code == (403 if model in READ_ONLY else 200)
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def test_order_changelist_filters_and_hierarchy(admin_client):
    order = OrderFactory(stage="received", first_name="Maya", last_name="Lopez")
    OrderFactory(stage="in-production")
    changelist = url(Order, "changelist")
    for query in (
        {"stage": str(order.current_status.stage_id)},
        {"order_type__exact": "collection"},
        {"assignee": "none"},
        {"is_on_hold__exact": "1"},
        {"completed": "no"},
        {"deleted": "all"},
        {"date_added__gte": "2000-01-01T00:00:00+00:00"},
        {"q": "lop"},
        {"q": order.number},
    ):
        response = admin_client.get(changelist, query)
        assert response.status_code == 200, query
    found = admin_client.get(changelist, {"q": "lop"}).context["cl"].result_list
    assert list(found) == [order]


def test_adding_an_order_goes_through_order_create(admin_client, admin_user):
    page = admin_client.get(url(Order, "add"))
    data = admin_form_data(
        page, first_name="Omar", last_name="Haddad", email="omar@example.com", order_type="delivery"
    )
    add_inline_rows(data, "lines", [{"name": "Scan", "quantity": "2", "price": "4.50"}])
    add_inline_rows(
        data, "totals", [{"code": "total", "title": "Total", "value": "9", "priority": "0"}]
    )  # noqa: E501
    response = admin_client.post(url(Order, "add"), data)
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )  # noqa: E501
    order = Order.objects.get(first_name="Omar")
    assert order.number.isdigit() and order.current_status.stage.slug == "received"
    assert (order.total_items, order.order_total) == (2, Decimal("9"))
    assert OrderLine.objects.get(order=order).subtotal == Decimal("9")
    assert order.history.earliest("history_id").history_user == admin_user


def test_adding_an_order_with_a_bad_email_shows_the_error(admin_client):
    page = admin_client.get(url(Order, "add"))
    response = admin_client.post(
        url(Order, "add"), admin_form_data(page, first_name="A", email="nope")
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert not Order.objects.exists()


def test_changing_an_order_goes_through_order_update(admin_client, admin_user):
    order = OrderFactory(stage="received", first_name="Ann")
    version = Order.objects.get(pk=order.pk).version
    page = admin_client.get(url(Order, "change", order.pk))
    data = admin_form_data(page, first_name="Anne")
    add_inline_rows(data, "lines", [{"name": "Print", "quantity": "3", "price": "2"}])
    response = admin_client.post(url(Order, "change", order.pk), data)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.first_name == "Anne" and order.total_items == 3
    assert order.order_total == Decimal("6") and order.version > version
    reasons = list(order.history.values_list("history_change_reason", flat=True))
    assert any("first_name" in (reason or "") for reason in reasons)
    assert order.history.latest("history_id").history_user == admin_user


def test_state_fields_are_read_only(admin_client):
    order = OrderFactory(stage="received")
    form = admin_client.get(url(Order, "change", order.pk)).context["adminform"].form
    for name in ("is_on_hold", "is_invalid", "is_deleted", "completed_at", "version", "number"):
        assert name not in form.fields


def _action(admin_client, action, orders, query="", **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in orders], **extra}
    return admin_client.post(url(Order, "changelist") + query, data)


def test_hold_action_asks_for_a_reason_then_holds(admin_client, admin_user):
    orders = [OrderFactory(stage="received") for _ in range(2)]
    page = _action(admin_client, "hold_orders", orders)
    assert page.status_code == 200 and b"Put on hold" in page.content
    done = _action(admin_client, "hold_orders", orders, apply="1", reason="Check the address")
    assert done.status_code == 302
    for order in orders:
        order.refresh_from_db()
        assert order.is_on_hold and order.hold_reason == "Check the address"
        assert order.history.latest("history_id").history_user == admin_user
    _action(admin_client, "release_orders", orders)
    assert not Order.objects.filter(is_on_hold=True).exists()


def test_mark_invalid_and_assign_actions(admin_client):
    order = OrderFactory(stage="received")
    clerk = EmployeeFactory().user
    _action(admin_client, "mark_orders_invalid", [order], apply="1", reason="Duplicate")
    _action(admin_client, "assign_orders", [order], apply="1", assignee=str(clerk.pk))
    order.refresh_from_db()
    assert order.is_invalid and order.invalid_reason == "Duplicate"
    assert order.assignee == clerk and order.assignee_updated_at is not None


def test_soft_delete_action_hides_and_refused_changes_are_reported(admin_client):
    order = OrderFactory(stage="received")
    _action(admin_client, "soft_delete_orders", [order])
    order.refresh_from_db()
    assert order.is_deleted
    response = _action(admin_client, "release_orders", [order], query="?deleted=all")
    follow = admin_client.get(response.url)
    assert any("deleted" in str(m) for m in follow.context["messages"])
    assert admin_client.get(url(Order, "change", order.pk)).status_code == 200


def test_advance_stage_action_from_the_stages_admin_is_offered(admin_client):
    order = OrderFactory(stage="received")
    page = admin_client.get(url(Order, "changelist"))
    assert "advance_stage" in dict(page.context["action_form"].fields["action"].choices)
    change = admin_client.get(url(Order, "change", order.pk))
    assert OrderStage.objects.filter(order=order).exists()
    assert b"stage timeline" in change.content.lower()


def test_hard_delete_from_the_change_page_uses_the_service(admin_client, admin_user):
    order = OrderFactory(stage="received")
    response = admin_client.post(url(Order, "delete", order.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Order.objects.filter(pk=order.pk).exists()
    assert Order.history.get(id=order.pk, history_type="-").history_user == admin_user


DANGEROUS = ['=HYPERLINK("http://evil")', "+1 (604) 376-2674", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_export_csv_neutralises_formulas(admin_client):
    order = OrderFactory(stage="received", first_name=DANGEROUS[0], telephone=DANGEROUS[1])
    order.last_name = DANGEROUS[2]
    order.comment = "ok"
    Order.objects.filter(pk=order.pk).update(last_name=DANGEROUS[2], email="a@example.com")
    response = _action(admin_client, "export_orders_csv", [order])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, row = rows[0], rows[1]
    cell = dict(zip(header, row, strict=True))
    assert cell["First name"] == "'" + DANGEROUS[0]
    assert cell["Telephone"] == "'" + DANGEROUS[1]
    assert cell["Last name"] == "'" + DANGEROUS[2]
    assert cell["Number"] == order.number and cell["Stage"] == "Received"


def test_export_xlsx_neutralises_formulas_and_writes_no_formula(admin_client):
    orders = [
        OrderFactory(stage="received", first_name=value, order_total=Decimal("12.5"))
        for value in DANGEROUS
    ]
    response = _action(admin_client, "export_orders_xlsx", orders)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("Orders")
    rows = sheet.to_python()
    header = rows[0]
    names = [row[header.index("First name")] for row in rows[1:]]
    assert names == ["'" + value for value in DANGEROUS]
    assert rows[1][header.index("Total")] == 12.5
    import zipfile

    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml


def test_paginator_counts_exactly_below_the_threshold(monkeypatch):
    for _ in range(3):
        OrderFactory()
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 2)
    paginator = EstimatedCountPaginator(Order.objects.all(), 50)
    # above the threshold: the database's estimate, never less than what was counted
    # (SQLite has no estimate, so the capped count stands there)
    assert paginator.count >= 3
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 10)
    assert EstimatedCountPaginator(Order.objects.all(), 50).count == 3


@pytest.mark.postgres
def test_estimated_count_on_postgresql():
    for _ in range(3):
        OrderFactory(order_type="delivery")
    assert estimated_count(Order.objects.filter(order_type="delivery")) >= 1
    assert estimated_count(Order.objects.all()) >= 1


def test_date_hierarchy_offers_calendar_periods_without_a_scan(admin_client):
    from datetime import UTC, datetime

    OrderFactory(date_added=datetime(2024, 11, 5, 10, tzinfo=UTC))
    OrderFactory(date_added=datetime(2025, 2, 7, 10, tzinfo=UTC))
    changelist = url(Order, "changelist")
    years = admin_client.get(changelist).content.decode()
    assert "date_added__year=2024" in years and "date_added__year=2025" in years
    months = admin_client.get(changelist, {"date_added__year": "2024"}).content.decode()
    assert "date_added__month=11" in months and "date_added__month=10" not in months
    days = admin_client.get(
        changelist, {"date_added__year": "2025", "date_added__month": "2"}
    ).content.decode()
    assert "date_added__day=7" in days and "date_added__day=8" not in days  # ends on the last
    one_day = admin_client.get(
        changelist, {"date_added__year": "2025", "date_added__month": "2", "date_added__day": "7"}
    )
    assert [o.date_added.day for o in one_day.context["cl"].result_list] == [7]


def test_a_save_on_top_of_someone_elses_save_is_refused(admin_client, admin_user):
    order = OrderFactory(stage="received", first_name="Ann")
    mine = admin_form_data(admin_client.get(url(Order, "change", order.pk)), first_name="Mine")
    services.order_update(order=order.pk, actor=Actor.system("colleague"), changes={"notes": "x"})
    response = admin_client.post(url(Order, "change", order.pk), mine)
    assert response.status_code == 200
    assert "Someone else saved this order" in response.content.decode()
    order.refresh_from_db()
    assert order.first_name == "Ann" and order.notes == "x"
    fresh = admin_form_data(admin_client.get(url(Order, "change", order.pk)), first_name="Mine")
    assert admin_client.post(url(Order, "change", order.pk), fresh).status_code == 302
    order.refresh_from_db()
    assert order.first_name == "Mine" and order.notes == "x"


def test_a_save_racing_past_the_form_check_is_refused_by_the_service(admin_client, monkeypatch):

    order = OrderFactory(stage="received", first_name="Ann")
    mine = admin_form_data(admin_client.get(url(Order, "change", order.pk)), first_name="Mine")
    original_clean = OrderAdminForm.clean

    def clean_then_someone_saves(form):
        cleaned = original_clean(form)
        Order.objects.filter(pk=order.pk).update(version=form.instance.version + 5)
        return cleaned

    monkeypatch.setattr(OrderAdminForm, "clean", clean_then_someone_saves)
    response = admin_client.post(url(Order, "change", order.pk), mine, follow=True)
    assert "Someone else saved this order" in response.content.decode()
    order.refresh_from_db()
    assert order.first_name == "Ann"

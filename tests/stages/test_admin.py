"""Admin: the catalogue, read-only status/history, the order timeline inline, the advance
stage action, the stuck filter and the dashboard (through an Order admin that includes them)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from stages.models import OrderStage, OrderStatus, Stage
from stages.services import stage_record
from tests.factories import UserFactory
from tests.factories.orders import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.stages.admin_urls")]
SYSTEM = Actor.system("test")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def staff_client(client, role_name):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role_name))
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# ---------------------------------------------------------------------------- catalogue


def test_stage_pages(admin_client):
    stage = Stage.objects.get(slug="in-production")
    changelist = admin_client.get(reverse("admin:stages_stage_changelist"))
    assert changelist.status_code == 200
    assert b"Quality check, On hold, Cancelled" in changelist.content  # may move to
    assert reverse("admin:stages_dashboard").encode() in changelist.content
    assert (
        admin_client.get(reverse("admin:stages_stage_changelist"), {"q": "ship"}).status_code == 200
    )
    assert admin_client.get(reverse("admin:stages_stage_add")).status_code == 200
    change = admin_client.get(reverse("admin:stages_stage_change", args=[stage.pk]))
    assert change.status_code == 200
    assert b"selectfilter" in change.content  # filter_horizontal
    history = admin_client.get(reverse("admin:stages_stage_history", args=[stage.pk]))
    assert history.status_code == 200


def test_adding_a_stage_with_next_stages(admin_client):
    shipped = Stage.objects.get(slug="shipped")
    response = admin_client.post(
        reverse("admin:stages_stage_add"),
        {
            "name": "Packed",
            "slug": "packed",
            "position": 35,
            "colour": "#00897b",
            "is_active": "on",
            "allowed_next": [shipped.pk],
        },
    )
    assert response.status_code == 302, response.content
    packed = Stage.objects.get(slug="packed")
    assert list(packed.allowed_next.all()) == [shipped]
    assert packed.history.filter(history_type="+").count() == 1  # simple-history


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"is_terminal": "on"}, b"A final stage has no next stages"),
        ({"colour": "red"}, b"Give a hex colour"),
    ],
)
def test_the_stage_form_refuses_a_terminal_with_next_stages_and_bad_colours(
    admin_client, change, error
):
    stage = Stage.objects.get(slug="shipped")
    form = {
        "name": stage.name,
        "position": stage.position,
        "colour": stage.colour,
        "is_active": "on",
        "allowed_next": [s.pk for s in stage.allowed_next.all()],
        **change,
    }
    response = admin_client.post(reverse("admin:stages_stage_change", args=[stage.pk]), form)
    assert response.status_code == 200
    assert error in response.content


def test_the_slug_of_an_existing_stage_is_read_only(admin_client):
    stage = Stage.objects.get(slug="shipped")
    admin_client.post(
        reverse("admin:stages_stage_change", args=[stage.pk]),
        {
            "name": "Dispatched",
            "slug": "dispatched",
            "position": 40,
            "colour": "#f9a825",
            "is_active": "on",
            "allowed_next": [s.pk for s in stage.allowed_next.all()],
        },
    )
    stage.refresh_from_db()
    assert (stage.name, stage.slug) == ("Dispatched", "shipped")


# ------------------------------------------------------------------ status and history


@pytest.mark.parametrize("model", ["orderstatus", "orderstage"])
def test_status_and_history_are_read_only(admin_client, order, model):
    obj = (OrderStatus if model == "orderstatus" else OrderStage).objects.get(order=order)
    base = f"admin:stages_{model}"
    assert admin_client.get(reverse(f"{base}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"{base}_changelist"), {"q": order.number}).status_code == 200
    assert admin_client.get(reverse(f"{base}_add")).status_code == 403
    page = admin_client.get(reverse(f"{base}_change", args=[obj.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(reverse(f"{base}_delete", args=[obj.pk])).status_code == 403


# ------------------------------------------------------------------ timeline inline


def test_the_order_page_shows_the_stage_timeline_read_only(admin_client):
    order = OrderFactory()
    start = timezone.now() - timedelta(hours=5)
    stage_record(order=order, stage="received", actor=SYSTEM, stage_at=start, stage_trigger="web")
    stage_record(
        order=order,
        stage="in-production",
        actor=SYSTEM,
        stage_at=start + timedelta(hours=2),
        stage_trigger="press",
    )

    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert page.status_code == 200
    content = page.content.decode()
    content = content[content.index('id="stages-group"') :]  # the inline
    assert "stage timeline" in content.lower()
    assert content.index("Received") < content.index("In production")
    assert "2 h" in content  # in production came 2 h after received
    assert "System: system: test" in content
    assert 'name="stages-0-stage_trigger"' not in content  # nothing editable
    assert "press" in content


# ------------------------------------------------------------------ advance stage action


def test_advance_stage_asks_for_the_stage_first(admin_client, order):
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "advance_stage", "_selected_action": [order.pk]},
    )
    assert response.status_code == 200
    assert b"Record stage" in response.content
    assert b'name="stage"' in response.content
    assert OrderStage.objects.filter(order=order).count() == 1


def test_advance_stage_moves_each_order_or_says_why_not(admin_client, order):
    cancelled = OrderFactory(stage="cancelled")
    production = Stage.objects.get(slug="in-production")

    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {
            "action": "advance_stage",
            "_selected_action": [order.pk, cancelled.pk],
            "apply": "1",
            "stage": production.pk,
            "stage_trigger": "admin",
            "notes": "rush",
        },
        follow=True,
    )

    assert response.status_code == 200
    messages = texts(response)
    assert f"Moved to In production: {order.number}." in messages
    assert (
        f"Not moved ({cancelled.number}): 'Cancelled' is a final stage; an order cannot leave it."
        in messages
    )
    assert OrderStatus.objects.get(order=order).stage == production
    assert OrderStatus.objects.get(order=cancelled).stage.slug == "cancelled"
    row = OrderStage.objects.filter(order=order).latest("id")
    assert (row.actor_kind, row.stage_trigger, row.notes) == ("user", "admin", "rush")
    assert row.actor_user == response.wsgi_request.user


def test_advance_stage_needs_add_orderstage(client, order):
    viewer = staff_client(client, "viewer")  # may view orders, may not record stages
    response = viewer.post(
        reverse("admin:orders_order_changelist"),
        {
            "action": "advance_stage",
            "_selected_action": [order.pk],
            "apply": "1",
            "stage": Stage.objects.get(slug="in-production").pk,
        },
        follow=True,
    )
    assert OrderStatus.objects.get(order=order).stage.slug == "received"
    assert any("may not record stages" in m for m in texts(response))


# ------------------------------------------------------------------ stuck filter


def test_stuck_in_stage_filter(admin_client):
    now = timezone.now()
    stuck = OrderFactory()
    stage_record(order=stuck, stage="received", actor=SYSTEM, stage_at=now - timedelta(hours=30))
    fresh = OrderFactory()
    stage_record(order=fresh, stage="received", actor=SYSTEM, stage_at=now - timedelta(hours=2))
    finished = OrderFactory()
    stage_record(
        order=finished,
        stage="complete",
        actor=SYSTEM,
        stage_at=now - timedelta(days=30),
        check_transition=False,
    )
    url = reverse("admin:orders_order_changelist")

    page = admin_client.get(url, {"stuck_hours": "24"})
    assert page.status_code == 200
    shown = {o.pk for o in page.context["cl"].result_list}
    assert shown == {stuck.pk}
    assert {
        o.pk for o in admin_client.get(url, {"stuck_hours": "48"}).context["cl"].result_list
    } == set()
    assert b"over a week" in page.content


# ------------------------------------------------------------------ dashboard


def test_the_dashboard_draws_svg_bars_per_stage(admin_client):
    start = timezone.now() - timedelta(days=2)
    for hours in (1, 3):
        order = OrderFactory()
        stage_record(order=order, stage="received", actor=SYSTEM, stage_at=start)
        stage_record(
            order=order,
            stage="in-production",
            actor=SYSTEM,
            stage_at=start + timedelta(hours=hours),
        )

    page = admin_client.get(reverse("admin:stages_dashboard"))

    assert page.status_code == 200
    content = page.content.decode()
    assert content.count('<svg viewBox="0 0 760') == 2
    assert "<script" not in content.split('id="content-main"')[1]
    orders_chart, median_chart = page.context["charts"]
    widths = {bar.label: bar.width for bar in orders_chart.bars}
    assert widths["In production"] == 420 and widths["Received"] == 0
    medians = {bar.label: bar.text for bar in median_chart.bars}
    assert medians["Received"] == "2 h (2 stays)"  # median of 1 h and 3 h
    assert medians["In production"] == "no finished stays"
    assert 'fill="#1e88e5"' in content  # the stage's colour
    assert "?stage__id__exact=" in content  # bars link to the statuses of the stage


@pytest.mark.parametrize("days", ["7", "all", "bogus"])
def test_the_dashboard_period(admin_client, days):
    page = admin_client.get(reverse("admin:stages_dashboard"), {"days": days})
    assert page.status_code == 200
    assert page.context["period"] == (days if days != "bogus" else "90")


def test_the_dashboard_is_linked_from_the_stages_app_index(admin_client):
    page = admin_client.get(reverse("admin:app_list", args=["stages"]))
    assert page.status_code == 200
    assert reverse("admin:stages_dashboard").encode() in page.content


def test_the_dashboard_needs_view_permissions(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:stages_dashboard")).status_code == 403
    staff_client(client, "viewer")
    assert client.get(reverse("admin:stages_dashboard")).status_code == 200

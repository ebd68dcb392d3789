"""The completion bits of the admin: the action, the order's completion state, the job-flow
rules and the warning when no worker runs."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from group_orders.models import Job
from group_orders.services import worker_heartbeat
from group_orders.services.jobs import job_execute
from orders import services
from orders.models import JobFlowRule, Order
from stages.models import Stage
from tests.factories import UserFactory
from tests.factories.orders import OrderFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db

STAFF = Actor.system("test")
WARNING = "No job worker has checked in"


def order_url(view: str, *args) -> str:
    return reverse(f"admin:orders_order_{view}", args=args)


def rule_url(view: str, *args) -> str:
    return reverse(f"admin:orders_jobflowrule_{view}", args=args)


def request_completion(client, orders):
    data = {"action": "request_completion", ACTION_CHECKBOX_NAME: [str(o.pk) for o in orders]}
    return client.post(order_url("changelist"), data, follow=True)


def page_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


# --------------------------------------------------------------------------- the action


def test_the_action_requests_completion_and_reports_per_order(
    admin_client, admin_user, ready_order
):
    ready, other_ready = ready_order(), ready_order()
    held = ready_order()
    services.order_hold(order=held, actor=STAFF)
    done = OrderFactory(stage="complete", completed_at=timezone.now())
    before = {o.pk: Order.objects.get(pk=o.pk).version for o in (held, done)}

    response = request_completion(admin_client, [ready, other_ready, held, done])

    assert response.status_code == 200
    jobs = dict(Job.objects.filter(kind="orders.completion").values_list("subject_id", "pk"))
    assert set(jobs) == {str(ready.pk), str(other_ready.pk)}
    shown = page_messages(response)
    assert (
        "success",
        f"Completion requested: {ready.number} (job #{jobs[str(ready.pk)]}), "
        f"{other_ready.number} (job #{jobs[str(other_ready.pk)]}). "
        "The job tracker completes them and records the complete stage.",
    ) in shown
    assert ("error", f"Not requested ({held.number}): Error Code 05, Order on hold") in shown
    assert ("error", f"Not requested ({done.number}): Error Code 04, Order already completed") in (
        shown
    )
    assert any(level == "warning" and WARNING in text for level, text in shown)
    ready.refresh_from_db()
    assert ready.completion_requested_by == admin_user and ready.completed_at is None
    assert ready.history.first().history_user == admin_user
    for order in (held, done):
        fresh = Order.objects.get(pk=order.pk)
        assert fresh.completion_requested_at is None and fresh.version == before[order.pk]


def test_a_second_request_from_the_admin_says_it_is_already_requested(admin_client, ready_order):
    order = ready_order()
    request_completion(admin_client, [order])
    response = request_completion(admin_client, [order])
    assert (
        "error",
        f"Not requested ({order.number}): Error Code 04, Order completion already requested",
    ) in page_messages(response)
    assert Job.objects.filter(kind="orders.completion").count() == 1


def test_the_action_needs_the_request_completion_permission(client, ready_order):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="orders", codename__in=["view_order", "change_order"]
        )
    )
    client.force_login(clerk)
    actions = client.get(order_url("changelist")).context["action_form"].fields["action"]
    assert "request_completion" not in dict(actions.choices)

    clerk.user_permissions.add(Permission.objects.get(codename="request_completion"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # a fresh permission cache
    client.force_login(clerk)
    actions = client.get(order_url("changelist")).context["action_form"].fields["action"]
    assert "request_completion" in dict(actions.choices)
    order = ready_order()
    request_completion(client, [order])
    assert Order.objects.get(pk=order.pk).completion_requested_by == clerk


# --------------------------------------------------------------------------- the order page


def completion_state(client, order) -> str:
    response = client.get(order_url("change", order.pk))
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ("completion_requested_at", "completion_requested_by", "completed_at"):
        assert name not in form.fields  # read-only: only the services change them
    return response.context["adminform"].model_admin.completion_state(
        Order.objects.get(pk=order.pk)
    )


def test_the_order_page_shows_where_the_completion_stands(admin_client, ready_order, rule):
    order = ready_order(notify=True)
    assert completion_state(admin_client, order) == "Not requested"

    job = services.order_completion_request(order_number=order.number, actor=STAFF).job
    state = completion_state(admin_client, order)
    assert "Requested " in state and "waiting for the worker" in state
    assert f"job #{job.pk}</a> (queued)" in state
    assert reverse("admin:group_orders_job_change", args=[job.pk]) in state

    job_execute(job_id=job.pk, worker_id="w1")
    state = completion_state(admin_client, order)
    assert state.startswith("Completed ") and "customer e-mail: sent" in state

    other = ready_order()
    job = services.order_completion_request(order_number=other.number, actor=STAFF).job
    rule("shipped", "Needs Backside Coat!")  # unmet by the time the worker runs the job
    job_execute(job_id=job.pk, worker_id="w1")
    assert completion_state(admin_client, other).startswith(
        "Not completed: the last request failed (Needs Backside Coat!)"
    )


def test_the_changelist_filters_orders_waiting_for_completion(admin_client, ready_order):
    waiting, idle = ready_order(), ready_order()
    services.order_completion_request(order_number=waiting.number, actor=STAFF)
    found = admin_client.get(order_url("changelist"), {"completed": "requested"})
    assert list(found.context["cl"].result_list) == [Order.objects.get(pk=waiting.pk)]
    assert idle.pk not in [o.pk for o in found.context["cl"].result_list]


def test_a_deleted_orders_page_still_shows_its_completion_state(admin_client, ready_order):
    order = ready_order()
    services.order_soft_delete(order=order, actor=STAFF)
    response = admin_client.get(order_url("change", order.pk))
    assert response.status_code == 200
    assert b"Not requested" in response.content


# --------------------------------------------------------------------------- job-flow rules


def test_rules_admin_changelist_search_add_and_change(admin_client, admin_user, rule):
    coating = ServiceTypeFactory(slug="coating", name="Coating")
    existing = rule("shipped", "Needs Backside Coat!", service_type=coating)
    changelist = admin_client.get(rule_url("changelist"))
    assert changelist.status_code == 200
    assert b"Needs Backside Coat!" in changelist.content and b"Coating" in changelist.content
    found = admin_client.get(rule_url("changelist"), {"q": "backside"}).context["cl"]
    assert list(found.result_list) == [existing]
    assert admin_client.get(rule_url("add")).status_code == 200
    assert admin_client.get(rule_url("change", existing.pk)).status_code == 200
    assert admin_client.get(rule_url("history", existing.pk)).status_code == 200

    quality = Stage.objects.get(slug="quality-check")
    response = admin_client.post(
        rule_url("add"),
        {
            "service_type": "",
            "stage": quality.pk,
            "message": "Needs QC!",
            "position": "5",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    added = JobFlowRule.objects.get(message="Needs QC!")
    assert added.service_type is None and added.stage == quality and added.position == 5
    assert added.history.get().history_user == admin_user
    assert str(added) == "All orders: Needs QC!"


def test_rules_admin_refuses_the_complete_stage_and_duplicates(admin_client, rule):
    rule("shipped", "Needs shipping!")
    for stage_slug in ("complete", "shipped"):
        response = admin_client.post(
            rule_url("add"),
            {
                "service_type": "",
                "stage": Stage.objects.get(slug=stage_slug).pk,
                "message": "Again",
                "position": "0",
            },
        )
        assert response.status_code == 200, stage_slug
        assert response.context["adminform"].form.errors
    assert JobFlowRule.objects.count() == 1


def test_rules_admin_list_edits_position_and_active(admin_client, rule):
    first = rule("shipped", "Needs shipping!", position=1)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(first.pk),
        "form-0-position": "7",
        "_save": "Save",
    }
    response = admin_client.post(rule_url("changelist"), data)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.position == 7 and first.is_active is False


# --------------------------------------------------------------------------- no worker


def test_without_a_worker_the_admin_index_and_order_pages_warn(admin_client, ready_order):
    order = ready_order()
    for page in ("/admin/", order_url("changelist"), order_url("change", order.pk)):
        response = admin_client.get(page)
        assert response.status_code == 200
        assert WARNING.encode() in response.content, page
    assert b'id="job-tracker-warning"' in admin_client.get("/admin/").content


def test_a_worker_that_checked_in_recently_silences_the_warning(admin_client, ready_order):
    order = ready_order()
    worker_heartbeat(worker_id="w1", started_at=timezone.now() - timedelta(hours=1))
    for page in ("/admin/", order_url("changelist"), order_url("change", order.pk)):
        assert WARNING.encode() not in admin_client.get(page).content, page


def test_a_worker_silent_for_longer_than_the_stale_window_warns_again(
    admin_client, settings, clock
):
    settings.ORDERDESK_WORKER_STALE_SECONDS = 120
    worker_heartbeat(worker_id="w1", started_at=clock.now)
    clock.advance(seconds=119)
    assert WARNING.encode() not in admin_client.get("/admin/").content
    clock.advance(seconds=2)
    page = admin_client.get("/admin/").content.decode()
    assert f"{WARNING} since 2\xa0minutes ago" in page


def test_a_user_who_may_not_open_jobs_sees_the_job_named_not_linked(client, ready_order):
    from django.contrib.auth.models import Group

    order = ready_order()
    job = services.order_completion_request(order_number=order.number, actor=STAFF).job
    manager = UserFactory(is_staff=True)
    manager.groups.add(Group.objects.get(name="order manager"))  # no role may view jobs
    client.force_login(manager)
    page = client.get(order_url("change", order.pk)).content.decode()
    job_page = reverse("admin:group_orders_job_change", args=[job.pk])
    assert f"job #{job.pk} (queued)" in page and job_page not in page
    assert client.get(job_page).status_code == 403

"""A real `db_worker` process on PostgreSQL completes a requested order end to end."""

import pytest

from group_orders.models import Job
from orders.models import Order
from stages.models import OrderStage
from tests.group_orders.test_worker import start_worker, stop, wait_for
from tests.orders.completion.conftest import complete_url

pytestmark = [
    pytest.mark.postgres,
    # committed, for the worker to see (conftest re-seeds stages and roles after a flush)
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def database_queue(settings):
    """This process enqueues into the database queue, as the web process does."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_real_worker_completes_a_requested_order(staff_api, api, ready_order, rule):
    order = ready_order(notify=True, email="tucker@example.com")
    rule("quality-check", "Needs quality check!")
    assert api.get("/health").json()["worker"]["alive"] is False

    response = staff_api.post(complete_url(order.number))

    assert response.status_code == 201
    order.refresh_from_db()
    assert order.completion_requested_at is not None and order.completed_at is None
    job = Job.objects.get(kind="orders.completion", subject_id=str(order.pk))
    assert job.status == Job.Status.QUEUED and job.task_result_id  # on the database queue

    worker = start_worker("completion-worker")
    try:
        wait_for(
            lambda: Order.objects.filter(pk=order.pk, completed_at__isnull=False).exists(),
            what="the completion",
        )
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).exists(),
            what="the job to finish",
        )
        assert api.get("/health").json()["worker"]["alive"] is True
    finally:
        stop(worker)

    order.refresh_from_db()
    assert order.completion_requested_at is None
    assert order.current_status.stage.slug == "complete"
    row = OrderStage.objects.get(order=order, stage__slug="complete")
    assert row.actor_label == "system: completion"
    assert row.stage_trigger == "completion-request"
    job.refresh_from_db()
    assert job.worker_id == "completion-worker" and job.attempts == 1
    assert job.result == {"outcome": "completed", "email": "sent"}  # locmem in the worker

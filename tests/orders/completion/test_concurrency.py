"""Exactly once on PostgreSQL: simultaneous requests flag an order once and enqueue one job;
simultaneous runs of the job complete it once."""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.actors import Actor
from group_orders.models import Job
from group_orders.services.jobs import job_execute
from orders import services
from orders.models import Order
from stages.models import OrderStage
from tests.orders.completion.conftest import complete_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 8


def run_together(count: int, work) -> list:
    """Run `work(index)` in `count` threads released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # reported by the assertions, not lost in the thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def completion_jobs(order: Order):
    return Job.objects.filter(kind="orders.completion", subject_id=str(order.pk))


def test_simultaneous_requests_flag_once_enqueue_one_job_and_complete_once(
    staff_member, make_token, ready_order
):
    """The ImmediateBackend runs the job as the winning request commits, as a worker would."""
    raw = make_token(staff_member).raw
    order = ready_order(notify=False)

    def post(_index: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        response = client.post(complete_url(order.number))
        return response.status_code, response.json()

    results = run_together(REQUESTS, post)

    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 400: REQUESTS - 1}, results
    for status, body in results:
        if status == 400:  # pending when they got the lock, or already done
            assert body["details"][0] == "Error Code: 04", body
    assert completion_jobs(order).count() == 1
    assert OrderStage.objects.filter(order=order, stage__slug="complete").count() == 1
    order.refresh_from_db()
    assert order.completed_at is not None and order.completion_requested_at is None


def test_simultaneous_requests_without_a_worker_leave_one_queued_job(
    settings, staff_member, make_token, ready_order
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    raw = make_token(staff_member).raw
    order = ready_order()

    def post(_index: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        response = client.post(complete_url(order.number))
        return response.status_code, response.json()

    results = run_together(REQUESTS, post)

    assert Counter(status for status, _ in results) == {201: 1, 400: REQUESTS - 1}, results
    refusals = {tuple(body["details"]) for status, body in results if status == 400}
    assert refusals == {("Error Code: 04", "Error Message: Order completion already requested")}
    job = completion_jobs(order).get()
    assert job.status == Job.Status.QUEUED
    order.refresh_from_db()
    assert order.completion_requested_at is not None and order.completed_at is None


def test_the_same_job_run_by_many_workers_at_once_completes_once(ready_order, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    order = ready_order(notify=False)
    job = services.order_completion_request(
        order_number=order.number, actor=Actor.system("test")
    ).job

    results = run_together(4, lambda index: job_execute(job_id=job.pk, worker_id=f"w{index}"))

    assert Counter(results) == {Job.Status.SUCCEEDED: 1, "skipped": 3}, results
    assert OrderStage.objects.filter(order=order, stage__slug="complete").count() == 1


def test_the_handler_run_concurrently_completes_once(ready_order, settings):
    """Below the job's claim: the order row lock alone keeps the completion single."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    order = ready_order(notify=False)
    job = services.order_completion_request(
        order_number=order.number, actor=Actor.system("test")
    ).job

    results = run_together(
        4,
        lambda _index: services.order_completion_run(
            order_id=order.pk, job_id=job.pk, params=job.params
        )["outcome"],
    )

    assert Counter(results) == {"completed": 1, "already-completed": 3}, results
    assert OrderStage.objects.filter(order=order, stage__slug="complete").count() == 1

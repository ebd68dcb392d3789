"""A real `db_worker` process on PostgreSQL: an upload imported end to end, and a worker
killed with SIGKILL mid-import whose job another worker finishes with exact counts."""

import csv
import io
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from python_calamine import CalamineWorkbook

from accounts.actors import Actor
from group_orders.models import GroupOrder, ImportBatch, Job, RejectedRow
from group_orders.services.group_orders import group_order_submit
from orders.models import Order
from stages.models import OrderStage, OrderStatus
from tests.factories import EmployeeFactory
from tests.factories.group_orders import catalogue, csv_bytes, fixture_file, order_row

pytestmark = [
    pytest.mark.postgres,
    # committed, for the worker to see (conftest re-seeds stages and roles after a flush)
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def database_queue(settings):
    """This process enqueues into the database queue, as the web process does."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def start_worker(name: str) -> subprocess.Popen:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--settings",
            "tests.group_orders.worker_settings",
            "--queue-name",
            "*",
            "--interval",
            "0.1",
            "--no-reload",
            "--no-startup-delay",
            "--worker-id",
            name,
            "--heartbeat-seconds",
            "0.5",
            "--reap-seconds",
            "1",
            "-v0",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": ""},
        stdout=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float = 180, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def complete(group_order: GroupOrder):
    group_order.refresh_from_db()
    return group_order.status == GroupOrder.Status.COMPLETE


def read_xlsx(field) -> list[list]:
    with field.open("rb") as handle:
        return (
            CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
            .get_sheet_by_index(0)
            .to_python()
        )


def test_a_real_worker_imports_an_upload_end_to_end(mailoutbox):
    catalogue()
    uploader = EmployeeFactory().user
    group_order = group_order_submit(
        file=fixture_file("orders_mixed.csv"),
        filename="orders_mixed.csv",
        actor=Actor.for_user(uploader),
    )
    assert group_order.status == GroupOrder.Status.PROCESSING
    worker = start_worker("e2e-worker")
    try:
        wait_for(lambda: complete(group_order), what="the import")
        # the e-mail goes out after the import's last commit: wait for it too
        wait_for(
            lambda: (
                GroupOrder.objects.filter(pk=group_order.pk)
                .exclude(email_sent_at=None, email_error="")
                .exists()
            ),
            what="the e-mail",
        )
        group_order.refresh_from_db()
    finally:
        stop(worker)
    assert (group_order.total_orders, group_order.successful_orders) == (11, 2)
    assert group_order.rejected_orders == 9
    job = Job.objects.get(pk=group_order.job_id)
    assert job.status == Job.Status.SUCCEEDED and job.worker_id == "e2e-worker"
    assert job.task_result_id
    orders = Order.objects.filter(group_order=group_order)
    assert sorted(orders.values_list("external_id", flat=True)) == ["M-1", "M-11"]
    assert OrderStatus.objects.filter(order__in=orders).count() == 2
    assert set(
        OrderStage.objects.filter(order__in=orders).values_list("actor_user", flat=True)
    ) == {uploader.pk}
    with group_order.normalized_csv.open("rb") as handle:
        normalized = list(csv.reader(io.StringIO(handle.read().decode())))
    assert [row[0] for row in normalized[1:]] == ["M-1", "M-11"]
    assert normalized[1][3] == "ada@example.com"
    accepted = read_xlsx(group_order.accepted_orders_xlsx)
    assert sorted(row[0] for row in accepted[1:]) == sorted(orders.values_list("number", flat=True))
    rejected = read_xlsx(group_order.rejected_orders_xlsx)
    assert [row[1] for row in rejected[1:]] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert rejected[1][0].startswith("first_name: looks like a spreadsheet formula")
    assert group_order.email_sent_at is not None  # sent by the worker (locmem there)


def test_a_worker_killed_mid_import_is_finished_by_another_with_exact_counts(settings):
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 100
    catalogue()
    rows = [order_row(n) for n in range(1, 3001)]
    for n in range(0, 3000, 97):
        rows[n]["email"] = "broken"  # 31 bad rows spread over the batches
    group_order = group_order_submit(
        file=io.BytesIO(csv_bytes(rows)),
        filename="big.csv",
        actor=Actor.for_user(EmployeeFactory().user),
    )
    Job.objects.filter(pk=group_order.job_id).update(lease_seconds=3)
    first = start_worker("doomed-worker")
    try:
        wait_for(
            lambda: ImportBatch.objects.filter(group_order=group_order).count() >= 3,
            what="a few batches",
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.PROCESSING, "killed too late"
    done_before = ImportBatch.objects.filter(group_order=group_order).count()
    assert done_before < 30
    job = Job.objects.get(pk=group_order.job_id)
    assert job.status == Job.Status.RUNNING and job.worker_id == "doomed-worker"

    second = start_worker("rescue-worker")
    try:
        wait_for(lambda: complete(group_order), what="the resumed import")
    finally:
        stop(second)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert job.events.filter(event="reaped").count() == 1
    assert (group_order.total_orders, group_order.rejected_orders) == (3000, 31)
    assert group_order.successful_orders == 2969
    orders = Order.objects.filter(group_order=group_order)
    assert orders.count() == 2969
    assert orders.values("external_id").distinct().count() == 2969
    assert OrderStatus.objects.filter(order__in=orders).count() == 2969
    assert OrderStage.objects.filter(order__in=orders).count() == 2969
    assert RejectedRow.objects.filter(group_order=group_order).count() == 31
    assert ImportBatch.objects.filter(group_order=group_order).count() == 30
    assert group_order.timings["batches_replayed"] >= done_before
    assert len(read_xlsx(group_order.accepted_orders_xlsx)) == 1 + 2969
    assert len(read_xlsx(group_order.rejected_orders_xlsx)) == 1 + 31
    with group_order.normalized_csv.open("rb") as handle:
        assert handle.read().decode().count("\r\n") == 1 + 2969

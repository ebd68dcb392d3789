"""Gate 4: faults. Each ends with no lost or duplicated data and a clear status.

- the database drops every connection of a running worker (what a PostgreSQL restart does to
  its clients; `pg_terminate_backend`, so the shared server stays up): the worker carries on
  and the import finishes with exact counts;
- the worker killed mid-job (SIGKILL): tests/group_orders/test_worker.py
  (`test_a_worker_killed_mid_import_is_finished_by_another_with_exact_counts`) — not repeated;
- the e-mail transport failing: the import completes and records why no e-mail went out; a
  processor's PATCH to complete answers `mandrill-email-failed` and the update stands;
- the file storage full or read-only (OSError ENOSPC / EROFS): an upload creates nothing and
  says so; a report that cannot be written leaves the imported orders as they are, the job
  retries, and finishes once the storage takes files again.
"""

import errno
import io
import re
import smtplib
from datetime import timedelta

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from group_orders.models import GroupOrder, ImportBatch, Job, RejectedRow
from group_orders.services.jobs import job_execute
from orders.models import Order
from stages.models import OrderStage, OrderStatus
from tests.factories.group_orders import catalogue, csv_bytes, fixture_bytes, order_row
from tests.quality.world import employee


class BrokenMailBackend(BaseEmailBackend):
    """An SMTP server that hangs up."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def bearer(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def upload(api: APIClient, name: str = "orders_mixed.csv", content: bytes | None = None):
    file = SimpleUploadedFile(name, content or fixture_bytes(name), content_type="text/csv")
    return api.post("/api/v3/group_orders", {"file": file}, format="multipart")


def assert_imported_once(group_order: GroupOrder, *, total: int, accepted: int) -> None:
    orders = Order.objects.filter(group_order=group_order)
    assert (group_order.total_orders, group_order.successful_orders) == (total, accepted)
    assert group_order.rejected_orders == total - accepted
    assert orders.count() == accepted
    assert orders.values("external_id").distinct().count() == accepted
    assert OrderStatus.objects.filter(order__in=orders).count() == accepted
    assert OrderStage.objects.filter(order__in=orders).count() == accepted
    assert RejectedRow.objects.filter(group_order=group_order).count() == total - accepted


# ----------------------------------------------------------------------------- e-mail


@pytest.mark.django_db
def test_a_failing_mail_server_loses_no_import(settings, django_capture_on_commit_callbacks):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenMailBackend"}}
    catalogue()
    uploader = employee("order manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(bearer(uploader.raw))
    assert response.status_code == 201
    group_order = GroupOrder.objects.get(public_id=response.json()["data"]["_id"])
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert group_order.email_sent_at is None
    assert group_order.email_error.startswith("SMTPServerDisconnected")
    assert_imported_once(group_order, total=11, accepted=2)
    shown = bearer(uploader.raw).get(f"/api/v3/group_orders/{group_order.public_id}").json()
    assert shown["data"]["email_error"].startswith("SMTPServerDisconnected")

    # a processor marks another upload complete: the answer says the e-mail failed, the
    # update stands
    processor = employee("group processor")
    other = GroupOrder.objects.create(
        public_id="6f1f3b7e-8f0c-4a57-9d1e-5b0c2f3a4d11",
        file=group_order.file.name,
        original_filename="orders.csv",
        file_format="csv",
        uploader=uploader.user,
        status=GroupOrder.Status.PROCESSING,
    )
    response = bearer(processor.raw).patch(
        f"/api/v3/group_orders/{other.public_id}",
        {"status": "complete", "total_orders": 1, "successful_orders": 1},
        format="json",
    )
    assert response.status_code == 500
    assert response.json()["status"] == "mandrill-email-failed"
    other.refresh_from_db()
    assert other.status == GroupOrder.Status.COMPLETE and other.successful_orders == 1
    assert other.email_error.startswith("SMTPServerDisconnected")


# ----------------------------------------------------------------------------- storage


def failing_storage(monkeypatch, code: int, *, when=lambda name: True):
    """FileSystemStorage whose writes fail with `code` for the names `when` picks."""
    real_save = FileSystemStorage._save

    def _save(self, name, content):
        if when(name):
            raise OSError(code, f"{errno.errorcode[code]}: {name}")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", _save)


@pytest.mark.django_db
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_an_upload_to_a_full_or_read_only_storage_creates_nothing(
    monkeypatch, code, settings, tmp_path
):
    # a media root of its own: other test processes write uploads into the shared one
    settings.MEDIA_ROOT = tmp_path / "media"
    catalogue()
    failing_storage(monkeypatch, code)
    before = (
        set(p for p in settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else set()
    )
    response = upload(bearer(employee("order manager").raw))
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "storage-unavailable"
    assert "nothing was created" in body["message"]
    assert GroupOrder.objects.count() == 0 and Job.objects.count() == 0
    after = (
        set(p for p in settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else set()
    )
    assert after == before  # no half-written file left behind


@pytest.mark.django_db
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_reports_that_cannot_be_stored_are_retried_and_nothing_is_imported_twice(
    monkeypatch, code, django_capture_on_commit_callbacks
):
    catalogue()
    uploader = employee("order manager")
    failing_storage(monkeypatch, code, when=lambda name: "orders" in name.split("-", 5)[-1])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(bearer(uploader.raw))
    assert response.status_code == 201
    group_order = GroupOrder.objects.get(public_id=response.json()["data"]["_id"])
    job = Job.objects.get(pk=group_order.job_id)
    # the rows are imported; the reports could not be written: a clear, retrying state
    assert job.status == Job.Status.QUEUED and job.attempts == 1
    assert errno.errorcode[code] in job.last_error
    assert group_order.status == GroupOrder.Status.PROCESSING
    view = {"view": "planoworker_processing_view"}
    shown = bearer(uploader.raw).get(f"/api/v3/group_orders/{group_order.public_id}", view)
    assert errno.errorcode[code] in shown.json()["data"]["job"]["last_error"]
    orders_before = set(Order.objects.filter(group_order=group_order).values_list("pk", flat=True))
    assert len(orders_before) == 2

    monkeypatch.undo()  # the disk has room again
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now() - timedelta(seconds=1))
    assert job_execute(job_id=job.pk, worker_id="fault-test") == Job.Status.SUCCEEDED
    group_order.refresh_from_db()
    assert group_order.status == GroupOrder.Status.COMPLETE
    assert_imported_once(group_order, total=11, accepted=2)
    assert set(Order.objects.filter(group_order=group_order).values_list("pk", flat=True)) == (
        orders_before
    )
    for kind in ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx"):
        assert getattr(group_order, kind).storage.exists(getattr(group_order, kind).name)


# ----------------------------------------------------------------------------- the database


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_database_connections_drop_resumes_the_job(settings):
    from accounts.actors import Actor
    from group_orders.services.group_orders import group_order_submit
    from tests.group_orders.test_worker import complete, start_worker, stop, wait_for

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ORDERDESK_GROUP_ORDER_BATCH_SIZE = 100
    catalogue()
    rows = [order_row(n) for n in range(1, 3001)]
    for n in range(0, 3000, 97):
        rows[n]["email"] = "broken"
    group_order = group_order_submit(
        file=io.BytesIO(csv_bytes(rows)),
        filename="big.csv",
        actor=Actor.for_user(employee("order manager").user),
    )
    worker = start_worker("restart-worker")
    try:
        wait_for(
            lambda: ImportBatch.objects.filter(group_order=group_order).count() >= 3,
            what="a few batches",
        )
        with connection.cursor() as cursor:  # the "restart": every other backend of this db
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            terminated = cursor.fetchone()[0]
        assert terminated >= 1
        group_order.refresh_from_db()
        assert group_order.status == GroupOrder.Status.PROCESSING, "terminated too late"
        wait_for(lambda: complete(group_order), what="the import after the drop")
        assert worker.poll() is None, "the worker died with its connections"
    finally:
        stop(worker)
    job = Job.objects.get(pk=group_order.job_id)
    assert job.status == Job.Status.SUCCEEDED
    assert job.worker_id == "restart-worker"
    # the attempt that lost its connection was recorded and retried by the same worker
    assert job.attempts == 2
    retry = job.events.get(event="retry_scheduled")
    # psycopg words the lost connection by where it was: "terminating connection ...",
    # "server closed the connection unexpectedly", "consuming input failed"
    assert re.search(
        r"terminating connection|server closed the connection|consuming input failed",
        retry.message,
    ), retry.message
    assert_imported_once(group_order, total=3000, accepted=2969)
    assert ImportBatch.objects.filter(group_order=group_order).count() == 30

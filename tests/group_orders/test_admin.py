"""Admin smoke tests: group orders (upload form, change page with progress, re-run), rejected
rows, import batches, jobs (retry), worker heartbeats."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from group_orders.models import GroupOrder, ImportBatch, Job, RejectedRow, WorkerHeartbeat
from tests.factories import UserFactory
from tests.factories.group_orders import GroupOrderFactory, catalogue, fixture_bytes, job_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def test_upload_form_calls_the_service_and_shows_the_progress_page(
    admin_client, django_capture_on_commit_callbacks
):
    catalogue()
    url = reverse("admin:group_orders_grouporder_add")
    page = admin_client.get(url)
    assert page.status_code == 200 and b"Upload and import" in page.content
    upload = SimpleUploadedFile("orders.csv", fixture_bytes("orders_mixed.csv"))
    response = admin_client.post(url, {"file": upload})
    group_order = GroupOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:group_orders_grouporder_change", args=[group_order.pk]
    )
    assert group_order.uploader == admin_client.user
    processing = admin_client.get(response["Location"])
    assert processing.status_code == 200
    assert b'http-equiv="refresh"' in processing.content  # refreshes itself while processing
    assert b"<progress" in processing.content


def test_a_bad_upload_shows_the_reason_on_the_form(admin_client):
    url = reverse("admin:group_orders_grouporder_add")
    upload = SimpleUploadedFile("orders.csv", fixture_bytes("header_only.csv"))
    response = admin_client.post(url, {"file": upload})
    assert response.status_code == 200
    assert b"has a header row but no orders" in response.content
    assert not GroupOrder.objects.exists()


def test_complete_page_has_links_and_the_rejected_rows_inline(
    admin_client, django_capture_on_commit_callbacks
):
    catalogue()
    url = reverse("admin:group_orders_grouporder_add")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url, {"file": SimpleUploadedFile("o.csv", fixture_bytes("orders_mixed.csv"))}
        )
    group_order = GroupOrder.objects.get()
    assert group_order.status == "complete"
    page = admin_client.get(reverse("admin:group_orders_grouporder_change", args=[group_order.pk]))
    content = page.content.decode()
    assert 'http-equiv="refresh"' not in content
    assert "rejected_orders_xlsx?signature=" in content
    assert "looks like a spreadsheet formula" in content  # the inline
    assert content.count("is not a valid e-mail address") == 1


def test_rerun_action(admin_client, django_capture_on_commit_callbacks):
    group_order = GroupOrderFactory(status="complete")
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            reverse("admin:group_orders_grouporder_changelist"),
            {"action": "rerun", "_selected_action": [group_order.pk]},
        )
    assert response.status_code == 302
    group_order.refresh_from_db()
    assert group_order.status == "processing" and group_order.job.kind == "group_orders.import"
    history = group_order.history.first()
    assert history.history_user == admin_client.user and "Re-run" in history.history_change_reason


def test_job_admin_is_read_only_and_retries(admin_client, django_capture_on_commit_callbacks):
    group_order = GroupOrderFactory()
    job = job_for(subject=group_order)
    Job.objects.filter(pk=job.pk).update(status="failed")
    change = admin_client.get(reverse("admin:group_orders_job_change", args=[job.pk]))
    assert change.status_code == 200 and b"enqueued" in change.content
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(
            reverse("admin:group_orders_job_changelist"),
            {"action": "retry_jobs", "_selected_action": [job.pk]},
        )
    job.refresh_from_db()
    assert job.status == "queued"
    assert job.events.filter(event="requeued", actor_user=admin_client.user).exists()


@pytest.mark.parametrize("model", [GroupOrder, RejectedRow, ImportBatch, Job, "workerheartbeat"])
def test_changelists_and_search(admin_client, model):
    group_order = GroupOrderFactory()
    RejectedRow.objects.create(
        group_order=group_order, batch_index=0, row_number=2, cells=["a"], reasons=["why"]
    )
    ImportBatch.objects.create(
        group_order=group_order, index=0, first_row=2, last_row=2, rows=1, accepted=0, rejected=1
    )
    job_for(subject=group_order)
    name = model if isinstance(model, str) else model._meta.model_name
    url = reverse(f"admin:group_orders_{name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "x"}).status_code == 200
    from group_orders.services.workers import worker_heartbeat

    worker_heartbeat(worker_id="w1", started_at=group_order.created_at)
    model_class = model if not isinstance(model, str) else WorkerHeartbeat
    obj = model_class.objects.first()
    page = admin_client.get(reverse(f"admin:group_orders_{name}_change", args=[obj.pk]))
    assert page.status_code == 200
    if model is RejectedRow:
        assert b"why" in page.content


def test_group_order_history_page(admin_client):
    group_order = GroupOrderFactory()
    url = reverse("admin:group_orders_grouporder_history", args=[group_order.pk])
    assert admin_client.get(url).status_code == 200

"""Admin smoke tests: group orders (upload form, change page with progress, re-run), rejected
rows, import batches, jobs (retry), worker heartbeats."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from group_orders.models import GroupOrder, ImportBatch, Job, RejectedRow, WorkerHeartbeat
from group_orders.selectors import group_orders_visible_to
from tests.factories import ClientFactory, EmployeeFactory, LiaisonFactory, UserFactory
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


def staff(role_name: str, user=None):
    """A staff member (an employee, unless `user` is given) in the role's group."""
    user = user or EmployeeFactory().user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=role_name))
    return user


def change_url(group_order: GroupOrder) -> str:
    return reverse("admin:group_orders_grouporder_change", args=[group_order.pk])


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("role_name", ["viewer", "group uploader", "order manager"])
def test_every_staff_role_sees_the_rejected_rows_inline(client, role_name):
    group_order = GroupOrderFactory(status="complete")
    RejectedRow.objects.create(
        group_order=group_order, batch_index=0, row_number=2, cells=["a"], reasons=["Bad e-mail."]
    )
    client.force_login(staff(role_name))

    page = client.get(change_url(group_order))

    assert page.status_code == 200
    assert "Bad e-mail." in page.content.decode()


def test_rerun_counts_what_it_queued_and_names_what_it_skipped(
    admin_client, django_capture_on_commit_callbacks
):
    finished = GroupOrderFactory(status="complete")
    importing = GroupOrderFactory()
    job = job_for(subject=importing)
    GroupOrder.objects.filter(pk=importing.pk).update(job=job, queue_job_id=str(job.pk))
    importing_history = importing.history.count()

    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            reverse("admin:group_orders_grouporder_changelist"),
            {"action": "rerun", "_selected_action": [finished.pk, importing.pk]},
        )

    assert response.status_code == 302
    assert texts(response) == [
        "1 import queued again.",
        f"1 not queued, still being imported: {importing}.",
    ]
    finished.refresh_from_db()
    importing.refresh_from_db()
    assert finished.status == "processing" and finished.job_id is not None
    assert "Re-run" in finished.history.first().history_change_reason
    assert importing.job_id == job.pk and importing.history.count() == importing_history


def test_the_job_is_a_link_only_for_who_may_open_the_job_page(client):
    group_order = GroupOrderFactory()
    job = job_for(subject=group_order)
    GroupOrder.objects.filter(pk=group_order.pk).update(job=job)
    job_page = reverse("admin:group_orders_job_change", args=[job.pk])

    client.force_login(staff("viewer"))
    viewer_page = client.get(change_url(group_order)).content.decode()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    superuser_page = client.get(change_url(group_order)).content.decode()

    assert str(job) in viewer_page and job_page not in viewer_page
    assert f'<a href="{job_page}">{job}</a>' in superuser_page
    assert client.get(job_page).status_code == 200


def _admin_user(kind: str, theirs):
    """An admin user (is_staff, viewer) of one kind; `theirs` is a client they may see."""
    if kind == "employee":
        return staff("viewer")
    if kind == "liaison":
        liaison = LiaisonFactory()
        liaison.clients.add(theirs)
        return staff("viewer", liaison.user)
    if kind == "client user":
        return staff("viewer", theirs.user)
    return staff("viewer", UserFactory())  # no client, employee or liaison record


@pytest.mark.parametrize("kind", ["employee", "liaison", "client user", "no record"])
def test_the_admin_shows_the_group_orders_the_api_shows(client, kind):
    theirs = ClientFactory()
    user = _admin_user(kind, theirs)
    group_orders = [
        GroupOrderFactory(uploader=user),
        GroupOrderFactory(client=theirs),
        GroupOrderFactory(client=ClientFactory()),
    ]
    for group_order in group_orders:
        RejectedRow.objects.create(
            group_order=group_order, batch_index=0, row_number=2, cells=["a"], reasons=["x"]
        )
    visible = set(group_orders_visible_to(user).values_list("pk", flat=True))
    client.force_login(user)

    listed = client.get(reverse("admin:group_orders_grouporder_changelist"))
    rejected = client.get(reverse("admin:group_orders_rejectedrow_changelist"))

    assert {g.pk for g in listed.context["cl"].result_list} == visible
    assert {r.group_order_id for r in rejected.context["cl"].result_list} == visible
    for group_order in group_orders:
        shown = group_order.pk in visible
        history = reverse("admin:group_orders_grouporder_history", args=[group_order.pk])
        assert client.get(change_url(group_order)).status_code == (200 if shown else 302)
        assert client.get(history).status_code == (200 if shown else 404)


def test_a_client_the_uploader_may_not_name_is_refused_under_the_client_field(client, monkeypatch):
    uploader = staff("group uploader", ClientFactory().user)  # a client's user, not an employee
    client.force_login(uploader)
    # admin users are staff, who see every order and so may name any client; the refusal
    # the service gives anyone else shows under the Client field
    monkeypatch.setattr(
        "group_orders.services.group_orders.user_sees_every_order", lambda user: False
    )
    upload = SimpleUploadedFile("orders.csv", fixture_bytes("orders_mixed.csv"))

    response = client.post(
        reverse("admin:group_orders_grouporder_add"), {"file": upload, "client": ClientFactory().pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "client": ["You may not upload orders for this client."]
    }
    assert not GroupOrder.objects.exists()


def test_admin_staff_may_upload_for_any_client(client):
    uploader = staff("group uploader", ClientFactory().user)  # is_staff: sees every order
    client.force_login(uploader)
    other = ClientFactory()
    upload = SimpleUploadedFile("orders.csv", fixture_bytes("orders_mixed.csv"))
    response = client.post(
        reverse("admin:group_orders_grouporder_add"), {"file": upload, "client": other.pk}
    )
    assert response.status_code == 302, response.context["form"].errors
    assert GroupOrder.objects.get().client == other

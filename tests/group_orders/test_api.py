"""Group orders V3 API: upload, list, GET/PATCH with views, access rules, downloads."""

import io
import json
import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import abilities as ab
from accounts.models import ApiToken, Application
from accounts.services import role_grant
from group_orders.api.serializers import VIEWS, GroupOrderPatchInputSerializer
from group_orders.models import GroupOrder, Job
from group_orders.services.group_orders import URL_FIELDS
from tests.factories import ClientFactory, EmployeeFactory, LiaisonFactory, UserFactory
from tests.factories.group_orders import GroupOrderFactory, catalogue, fixture_bytes

pytestmark = pytest.mark.django_db
URL = "/api/v3/group_orders"


def upload(name: str = "orders_valid.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, fixture_bytes(name), content_type="text/csv")


@pytest.fixture
def processor(make_token):
    user = EmployeeFactory().user
    for app in Application.objects.all():
        role_grant(user=user, application=app, role_name="group processor")
    return user


def bearer(api, token: str):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_upload_answers_the_new_group_order_and_queues_its_import(staff_api, staff_member):
    catalogue()
    response = staff_api.post(URL, {"file": upload()}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "action-successful"
    data = body["data"]
    assert data["status"] == "processing"
    group_order = GroupOrder.objects.get(public_id=data["_id"])
    assert data["queue_job_id"] == str(group_order.job_id)
    assert set(data) == {
        "_id",
        "status",
        "queue_job_id",
        "original_filename",
        "file_format",
        "file_size",
        "encoding",
        "delimiter",
        "columns",
        "ignored_columns",
        "created_at",
    }
    assert data["original_filename"] == "orders_valid.csv" and data["file_format"] == "csv"
    assert group_order.uploader == staff_member
    assert Job.objects.get().status == Job.Status.QUEUED  # runs after commit, on the worker
    assert response["ETag"] == f'"group_order-{group_order.public_id.hex}-v1"'


def test_a_bad_upload_is_invalid_param_file_and_creates_nothing(staff_api):
    response = staff_api.post(URL, {"file": upload("binary_garbage.csv")}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid-param"
    assert list(body["errors"]) == ["file"]
    assert not GroupOrder.objects.exists() and not Job.objects.exists()


def test_upload_without_a_file_is_missing_param(staff_api):
    response = staff_api.post(URL, {"client_id": 1}, format="multipart")
    assert response.status_code == 400 and response.json()["status"] == "missing-param"
    response = staff_api.post(URL, {"file": "a,b,c"}, format="json")
    assert response.json()["errors"] == {"file": ["Send the file itself, as multipart/form-data."]}


def test_upload_needs_the_write_ability_and_the_add_permission(api, make_token, role):
    user = EmployeeFactory().user
    token = make_token(user, token_abilities=[ab.GROUP_ORDERS_READ]).raw
    response = bearer(api, token).post(URL, {"file": upload()}, format="multipart")
    assert response.status_code == 403 and "group_orders:write" in response.json()["message"]
    token = make_token(user).raw  # the ability, but no role with add_grouporder
    response = bearer(api, token).post(URL, {"file": upload()}, format="multipart")
    assert response.status_code == 403 and "add_grouporder" in response.json()["message"]


def test_upload_with_the_token_parameter_and_a_client(api, staff_member, make_token):
    catalogue()
    client = ClientFactory()
    raw = make_token(staff_member).raw
    response = api.post(
        URL, {"file": upload(), "token": raw, "client_id": client.pk}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert GroupOrder.objects.get().client == client


def test_get_in_every_view(staff_api):
    group_order = GroupOrderFactory(total_orders=3, successful_orders=2, rejected_orders=1)
    expected = {
        "inital_upload": {"_id", "queue_job_id", "columns", "ignored_columns", "encoding"},
        "online_order_group_order_status": {"progress", "normalized_csv", "rejected_orders"},
        "planoworker_processing_view": {"file", "job", "version", "columns", "client"},
        "default": {"uploader", "client", "application", "email_error", "version"},
    }
    for view, some_fields in expected.items():
        response = staff_api.get(f"{URL}/{group_order.public_id}", {"view": view})
        assert response.status_code == 200, response.json()
        data = response.json()["data"]
        assert some_fields <= set(data), view
        assert data["_id"] == str(group_order.public_id)
    status_view = staff_api.get(
        f"{URL}/{group_order.public_id}", {"view": "online_order_group_order_status"}
    ).json()["data"]
    assert "uploader" not in status_view and "file" not in status_view
    default = staff_api.get(f"{URL}/{group_order.public_id}").json()["data"]
    assert default["rejected_orders"] == 1 and "file" not in default


def test_an_unknown_view_or_id(staff_api):
    group_order = GroupOrderFactory()
    response = staff_api.get(f"{URL}/{group_order.public_id}", {"view": "everything"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["view"]
    response = staff_api.get(f"{URL}/not-a-uuid")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["_id"]


def test_session_view_gives_the_session(api, staff_member, make_token):
    raw = make_token(staff_member, kind=ApiToken.Kind.SESSION).raw
    group_order = GroupOrderFactory()
    body = bearer(api, raw).get(f"{URL}/{group_order.public_id}", {"session_view": "full"}).json()
    assert body["session"]["user"]["email"] == staff_member.email
    assert "abilities" in body["session"]


def test_reads_need_the_read_ability(api, make_token, staff_member):
    raw = make_token(staff_member, token_abilities=[ab.ORDERS_READ]).raw
    group_order = GroupOrderFactory()
    response = bearer(api, raw).get(f"{URL}/{group_order.public_id}")
    assert response.status_code == 403


def test_a_client_sees_only_its_own_group_orders(api, make_token, role):
    client = ClientFactory()
    for app in Application.objects.all():
        role_grant(user=client.user, application=app, role_name="group uploader")
    mine = GroupOrderFactory(client=client)
    theirs = GroupOrderFactory()
    bearer(api, make_token(client.user).raw)
    assert api.get(f"{URL}/{mine.public_id}").status_code == 200
    assert api.get(f"{URL}/{theirs.public_id}").status_code == 400
    listed = api.get(URL).json()["data"]
    assert [item["_id"] for item in listed["results"]] == [str(mine.public_id)]


def test_a_liaison_sees_the_group_orders_of_their_clients(api, make_token):
    liaison = LiaisonFactory()
    client = ClientFactory()
    liaison.clients.add(client)
    for app in Application.objects.all():
        role_grant(user=liaison.user, application=app, role_name="viewer")
    visible = GroupOrderFactory(client=client)
    GroupOrderFactory()
    bearer(api, make_token(liaison.user).raw)
    results = api.get(URL).json()["data"]["results"]
    assert [item["_id"] for item in results] == [str(visible.public_id)]


def test_list_filters_and_pagination(staff_api):
    client = ClientFactory()
    complete = [GroupOrderFactory(status="complete", client=client) for _ in range(3)]
    GroupOrderFactory(status="processing")
    body = staff_api.get(URL, {"status": "complete", "per_page": 2}).json()["data"]
    assert body["count"] == 3 and len(body["results"]) == 2
    assert body["next"] and body["previous"] is None
    second = staff_api.get(URL, {"status": "complete", "per_page": 2, "page": 2}).json()["data"]
    ids = [r["_id"] for r in body["results"] + second["results"]]
    assert sorted(ids) == sorted(str(g.public_id) for g in complete)
    assert staff_api.get(URL, {"client": client.pk}).json()["data"]["count"] == 3
    response = staff_api.get(URL, {"colour": "blue"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["colour"]
    response = staff_api.get(URL, {"per_page": 1000})
    assert list(response.json()["errors"]) == ["per_page"]
    # an id no column can hold is refused by name (it once reached SQLite: OverflowError)
    for huge in ("-18047407141168023451124765818880", str(2**63), "0"):
        response = staff_api.get(URL, {"uploader": huge})
        assert response.status_code == 400, huge
        assert list(response.json()["errors"]) == ["uploader"]


@pytest.mark.parametrize("count", [1, 8])
def test_list_query_count_does_not_grow(staff_api, django_assert_max_num_queries, count):
    for _ in range(count):
        GroupOrderFactory(client=ClientFactory())
    with django_assert_max_num_queries(12):
        response = staff_api.get(URL, {"view": "planoworker_processing_view"})
    assert len(response.json()["data"]["results"]) == count


def test_a_processor_patches_status_counts_urls_and_job_id(api, make_token, processor, mailoutbox):
    group_order = GroupOrderFactory(uploader=UserFactory(email="up@example.com"))
    bearer(api, make_token(processor).raw)
    response = api.patch(
        f"{URL}/{group_order.public_id}",
        {
            "status": "complete",
            "total_orders": 10,
            "successful_orders": 8,
            "rejected_orders": 2,
            "normalized_csv": "https://files.example.com/n.csv",
            "queue_job_id": "planoworker-77",
            "view": "online_order_group_order_status",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["status"] == "complete" and data["successful_orders"] == 8
    assert data["normalized_csv"] == "https://files.example.com/n.csv"
    group_order.refresh_from_db()
    assert group_order.queue_job_id == "planoworker-77" and group_order.version == 2
    assert group_order.finished_at is not None
    change = group_order.history.first()
    assert change.history_user == processor and "Updated status" in change.history_change_reason
    assert [m.to for m in mailoutbox] == [["up@example.com"]]


def test_completing_again_after_processing_emails_again(api, make_token, processor, mailoutbox):
    # one e-mail per completion: back to processing and complete again is a new completion
    group_order = GroupOrderFactory(uploader=UserFactory(email="up@example.com"))
    bearer(api, make_token(processor).raw)
    path = f"{URL}/{group_order.public_id}"
    for status in ["complete", "complete", "processing", "complete"]:
        assert api.patch(path, {"status": status}, format="json").status_code == 200
    assert len(mailoutbox) == 2
    group_order.refresh_from_db()
    assert group_order.email_sent_at is not None and group_order.email_error == ""


def test_patch_refuses_what_a_processor_may_not_change(api, make_token, processor):
    group_order = GroupOrderFactory(total_orders=5)
    bearer(api, make_token(processor).raw)
    path = f"{URL}/{group_order.public_id}"
    for body, param in [
        ({"original_filename": "x.csv"}, "original_filename"),
        ({"status": "failed"}, "status"),
        ({"successful_orders": -1}, "successful_orders"),
        ({"successful_orders": 4, "rejected_orders": 3}, "total_orders"),
        ({"rejected_orders_xlsx": "javascript:alert(1)"}, "rejected_orders_xlsx"),
        ({"_id": "00000000-0000-0000-0000-000000000000", "status": "complete"}, "_id"),
    ]:
        response = api.patch(path, body, format="json")
        assert response.status_code == 400, body
        assert param in response.json()["errors"], response.json()
    group_order.refresh_from_db()
    assert group_order.version == 1 and group_order.status == "processing"


def test_patch_needs_the_change_permission(staff_api):
    group_order = GroupOrderFactory()
    response = staff_api.patch(f"{URL}/{group_order.public_id}", {"status": "complete"})
    assert response.status_code == 403 and "change_grouporder" in response.json()["message"]


def test_patch_with_a_stale_etag_is_refused(api, make_token, processor):
    group_order = GroupOrderFactory()
    bearer(api, make_token(processor).raw)
    path = f"{URL}/{group_order.public_id}"
    etag = api.get(path).headers["ETag"]
    assert (
        api.patch(path, {"total_orders": 3}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    )
    response = api.patch(path, {"total_orders": 4}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412


def test_an_email_failure_on_completion_is_mandrill_email_failed_and_the_update_stands(
    api, make_token, processor, monkeypatch
):
    def refuse(self, *args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    group_order = GroupOrderFactory()
    bearer(api, make_token(processor).raw)
    response = api.patch(f"{URL}/{group_order.public_id}", {"status": "complete"}, format="json")
    assert response.status_code == 500
    assert response.json()["status"] == "mandrill-email-failed"
    group_order.refresh_from_db()
    assert group_order.status == "complete" and group_order.email_error == "OSError: smtp down"


def test_downloads_need_access_or_a_live_signed_link(api, staff_api, make_token, monkeypatch):
    group_order = GroupOrderFactory()
    response = staff_api.get(f"{URL}/{group_order.public_id}/files/file")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"external_id,first_name")
    assert 'filename="orders.csv"' in response["Content-Disposition"]

    link = staff_api.get(
        f"{URL}/{group_order.public_id}", {"view": "planoworker_processing_view"}
    ).json()["data"]["file"]
    anonymous = api.__class__()
    assert anonymous.get(link).status_code == 200
    assert anonymous.get(f"{URL}/{group_order.public_id}/files/file").status_code == 401
    tampered = link.replace("/files/file", "/files/normalized_csv")
    assert anonymous.get(tampered).status_code == 400
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = anonymous.get(link)
    assert response.status_code == 400 and "expired" in response.json()["message"]


def test_a_stranger_cannot_download(api, make_token):
    stranger = ClientFactory()
    for app in Application.objects.all():
        role_grant(user=stranger.user, application=app, role_name="viewer")
    group_order = GroupOrderFactory()
    bearer(api, make_token(stranger.user).raw)
    assert api.get(f"{URL}/{group_order.public_id}/files/file").status_code == 400


def test_a_report_not_written_yet_is_not_found(staff_api):
    group_order = GroupOrderFactory()
    response = staff_api.get(f"{URL}/{group_order.public_id}/files/normalized_csv")
    assert response.status_code == 400
    data = staff_api.get(f"{URL}/{group_order.public_id}").json()["data"]
    assert data["normalized_csv"] is None


def test_signed_links_are_made_with_the_salt_and_kind():
    assert URL_FIELDS["normalized_csv"] == "normalized_csv_url"
    token = signing.dumps({"g": "x", "k": "file"}, salt="another")
    from group_orders.selectors import signed_download_check

    assert signed_download_check(public_id="x", kind="file", signature=token) is False


def test_upload_then_worker_then_complete_in_the_api(staff_api, django_capture_on_commit_callbacks):
    catalogue()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(URL, {"file": upload("orders_mixed.csv")}, format="multipart")
    _id = response.json()["data"]["_id"]
    data = staff_api.get(f"{URL}/{_id}", {"view": "online_order_group_order_status"}).json()["data"]
    assert data["status"] == "complete" and data["total_orders"] == 11
    workbook = staff_api.get(data["rejected_orders_xlsx"])
    assert workbook.status_code == 200
    assert workbook["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    content = io.BytesIO(b"".join(workbook.streaming_content))
    assert content.getvalue()[:2] == b"PK"


def test_the_schema_documents_the_group_order_endpoints(api):
    paths = api.get("/api/schema?format=json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v3/group_orders"])
    detail = paths["/api/v3/group_orders/{public_id}"]
    assert {"get", "patch"} <= set(detail)
    names = {p["name"] for p in detail["get"]["parameters"]}
    assert {"view", "session_view", "application"} <= names
    assert "/api/v3/group_orders/{public_id}/files/{kind}" in paths


def test_an_upload_retried_with_the_same_idempotency_key_creates_one_group_order(staff_api):
    catalogue()
    first = staff_api.post(
        URL, {"file": upload()}, format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1"
    )
    again = staff_api.post(
        URL, {"file": upload()}, format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1"
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["_id"] == first.json()["data"]["_id"]
    assert GroupOrder.objects.count() == 1 and Job.objects.count() == 1


# --------------------------------------------------------------------------- parameters
# PATCH and GET read `view`/`session_view` (and the other control parameters) from the query
# string or the body; a parameter the endpoint does not take is refused, never ignored.

STATUS_VIEW = "online_order_group_order_status"


def test_patch_answers_in_the_view_of_the_query_string(api, make_token, processor):
    group_order = GroupOrderFactory()
    bearer(api, make_token(processor).raw)
    response = api.patch(
        f"{URL}/{group_order.public_id}?view={STATUS_VIEW}", {"queue_job_id": "q2"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert set(response.json()["data"]) == set(VIEWS[STATUS_VIEW])
    group_order.refresh_from_db()
    assert group_order.queue_job_id == "q2"


@pytest.mark.parametrize("place", ["query", "body"])
@pytest.mark.parametrize("name", ["view", "session_view"])
def test_patch_refuses_an_unknown_view_and_changes_nothing(api, make_token, processor, place, name):
    group_order = GroupOrderFactory()
    bearer(api, make_token(processor).raw)
    path = f"{URL}/{group_order.public_id}"
    body = {"queue_job_id": "q2"}
    if place == "query":
        response = api.patch(f"{path}?{name}=bogus", body, format="json")
    else:
        response = api.patch(path, {**body, name: "bogus"}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["status"] == "invalid-param"
    assert list(response.json()["errors"]) == [name]
    group_order.refresh_from_db()
    assert group_order.version == 1 and group_order.queue_job_id == ""


def test_patch_gives_the_session_of_the_query_strings_session_view(api, make_token, processor):
    group_order = GroupOrderFactory()
    bearer(api, make_token(processor, kind=ApiToken.Kind.SESSION).raw)
    body = api.patch(
        f"{URL}/{group_order.public_id}?session_view=full", {"queue_job_id": "q3"}, format="json"
    ).json()
    assert body["status"] == "action-successful", body
    assert "abilities" in body["session"]


@pytest.mark.parametrize(
    "name", [*GroupOrderPatchInputSerializer.CHANGE_FIELDS, "foo", "client_id", "file"]
)
def test_patch_refuses_a_body_field_or_an_unknown_parameter_in_the_query_string(
    api, make_token, processor, name
):
    group_order = GroupOrderFactory(total_orders=5)
    bearer(api, make_token(processor).raw)
    response = api.patch(
        f"{URL}/{group_order.public_id}?{name}=1", {"queue_job_id": "zz2"}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["status"] == "invalid-param"
    assert list(response.json()["errors"]) == [name]
    group_order.refresh_from_db()
    assert group_order.version == 1 and group_order.queue_job_id == ""


def test_patch_with_status_in_the_query_string_does_not_change_the_status(
    api, make_token, processor
):
    group_order = GroupOrderFactory(status="complete")
    bearer(api, make_token(processor).raw)
    response = api.patch(
        f"{URL}/{group_order.public_id}?status=processing", {"queue_job_id": "zz2"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "status": ["status goes in the request body, not in the query string."]
    }
    group_order.refresh_from_db()
    assert group_order.status == "complete" and group_order.version == 1


@pytest.mark.parametrize("name", ["view", "session_view"])
def test_a_parameter_in_the_query_and_the_body_must_agree(api, make_token, processor, name):
    group_order = GroupOrderFactory()
    bearer(api, make_token(processor, kind=ApiToken.Kind.SESSION).raw)
    path = f"{URL}/{group_order.public_id}"
    values = {"view": (STATUS_VIEW, "default"), "session_view": ("full", "minimal")}[name]
    response = api.patch(
        f"{path}?{name}={values[0]}", {"queue_job_id": "q4", name: values[1]}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]
    group_order.refresh_from_db()
    assert group_order.version == 1
    same = api.patch(
        f"{path}?{name}={values[0]}", {"queue_job_id": "q4", name: values[0]}, format="json"
    )
    assert same.status_code == 200, same.json()


def test_patch_takes_the_path_id_again_only_when_it_is_the_same(api, make_token, processor):
    group_order = GroupOrderFactory()
    other = GroupOrderFactory()
    bearer(api, make_token(processor).raw)
    path = f"{URL}/{group_order.public_id}"
    response = api.patch(f"{path}?_id={other.public_id}", {"queue_job_id": "q5"}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["_id"]
    other.refresh_from_db()
    group_order.refresh_from_db()
    assert other.version == 1 and group_order.version == 1
    response = api.patch(
        f"{path}?_id={group_order.public_id}", {"queue_job_id": "q5"}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_get_refuses_a_parameter_it_does_not_take(staff_api):
    group_order = GroupOrderFactory()
    response = staff_api.get(f"{URL}/{group_order.public_id}", {"foo": "bar"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"foo": ["foo is not a parameter of this API."]}
    other = GroupOrderFactory()
    response = staff_api.get(f"{URL}/{group_order.public_id}", {"_id": str(other.public_id)})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["_id"]
    same = staff_api.get(f"{URL}/{group_order.public_id}", {"_id": str(group_order.public_id)})
    assert same.status_code == 200


def test_get_reads_view_from_a_json_body_too(staff_api):
    group_order = GroupOrderFactory()
    path = f"{URL}/{group_order.public_id}"
    for view, code in [(STATUS_VIEW, 200), (["default"], 400), ({"a": 1}, 400)]:
        response = staff_api.generic(
            "GET", path, json.dumps({"view": view}), content_type="application/json"
        )
        assert response.status_code == code, response.json()
    response = staff_api.generic(
        "GET", path, json.dumps({"view": STATUS_VIEW}), content_type="application/json"
    )
    assert set(response.json()["data"]) == set(VIEWS[STATUS_VIEW])


def test_get_takes_every_documented_parameter(api, staff_member, make_token):
    raw = make_token(staff_member, kind=ApiToken.Kind.SESSION).raw
    group_order = GroupOrderFactory()
    response = api.get(
        f"{URL}/{group_order.public_id}",
        {"token": raw, "application": "planoorder", "view": STATUS_VIEW, "session_view": "full"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body["data"]) == set(VIEWS[STATUS_VIEW]) and "abilities" in body["session"]


@pytest.mark.parametrize(
    ("extra", "refused"),
    [({"foo": "bar"}, "foo"), ({"status": "complete", "total_orders": "5"}, "status")],
)
def test_upload_refuses_a_parameter_it_does_not_take(staff_api, extra, refused):
    catalogue()
    response = staff_api.post(URL, {"file": upload(), **extra}, format="multipart")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {refused: [f"{refused} is not a parameter of this API."]}
    assert not GroupOrder.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize("place", ["query", "body"])
@pytest.mark.parametrize("name", ["view", "session_view"])
def test_upload_with_an_unknown_view_creates_nothing(staff_api, place, name):
    catalogue()
    if place == "query":
        response = staff_api.post(f"{URL}?{name}=bogus", {"file": upload()}, format="multipart")
    else:
        response = staff_api.post(URL, {"file": upload(), name: "bogus"}, format="multipart")
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [name]
    assert not GroupOrder.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize(("query", "refused"), [("foo=bar", "foo"), ("client_id=1", "client_id")])
def test_upload_refuses_an_unknown_or_body_parameter_in_the_query_string(staff_api, query, refused):
    catalogue()
    response = staff_api.post(f"{URL}?{query}", {"file": upload()}, format="multipart")
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [refused]
    assert not GroupOrder.objects.exists()


def test_upload_takes_every_documented_parameter(api, staff_member, make_token):
    catalogue()
    client = ClientFactory()
    raw = make_token(staff_member, kind=ApiToken.Kind.SESSION).raw
    response = api.post(
        URL,
        {
            "file": upload(),
            "token": raw,
            "client_id": client.pk,
            "application": "planoorder",
            "view": STATUS_VIEW,
            "session_view": "full",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body["data"]) == set(VIEWS[STATUS_VIEW]) and "abilities" in body["session"]
    assert GroupOrder.objects.get().client == client
    # the steering parameters may also come in the query string
    response = api.post(
        f"{URL}?view={STATUS_VIEW}&session_view=minimal", {"file": upload(), "token": raw}
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()["data"]) == set(VIEWS[STATUS_VIEW])


def test_the_schema_documents_the_parameters_of_each_group_order_operation(api):
    schema = api.get("/api/schema?format=json").json()
    detail = schema["paths"]["/api/v3/group_orders/{public_id}"]
    for method in ("get", "patch"):
        names = {p["name"] for p in detail[method]["parameters"] if p["in"] == "query"}
        assert names == {"view", "session_view", "application"}, method
    upload = schema["paths"]["/api/v3/group_orders"]["post"]
    names = {p["name"] for p in upload["parameters"] if p["in"] == "query"}
    assert names == {"view", "session_view", "application"}
    upload_body = upload["requestBody"]["content"]
    reference = upload_body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = set(schema["components"]["schemas"][reference]["properties"])
    assert fields == {"file", "client_id", "view", "application", "session_view", "token"}


def test_who_sees_which_group_orders_is_the_orders_rule():
    from group_orders.selectors import group_orders_visible_to
    from orders.selectors import user_sees_every_order

    theirs, other = ClientFactory(), ClientFactory()
    liaison = LiaisonFactory()
    liaison.clients.add(theirs)
    own_upload = GroupOrderFactory(uploader=liaison.user)
    of_theirs, of_other = GroupOrderFactory(client=theirs), GroupOrderFactory(client=other)
    everything = {own_upload.pk, of_theirs.pk, of_other.pk}

    def seen(user) -> set[int]:
        return set(group_orders_visible_to(user).values_list("pk", flat=True))

    assert seen(liaison.user) == {own_upload.pk, of_theirs.pk}
    assert seen(theirs.user) == {of_theirs.pk}
    # admin staff without an employee record: every order, so every group order (was: none)
    admin_staff = UserFactory(is_staff=True)
    assert user_sees_every_order(admin_staff) and seen(admin_staff) == everything
    assert seen(EmployeeFactory().user) == everything

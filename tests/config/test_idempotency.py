"""Idempotency-Key: replay, payload mismatch, in-flight conflict, expiry, per-caller scope."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.idempotency import idempotency_keys_purge, request_fingerprint
from accounts.models import Application, Client, IdempotencyKey
from accounts.services import role_grant
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.urls("tests.config.probe_urls")
URL = "/api/idempotent-probe"


@pytest.fixture
def caller(staff_member, make_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(staff_member).raw}"}


def post(api, headers, key="k-1", **body):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(URL, body or {"name": "Acme"}, format="json", **headers, **extra)


@pytest.mark.django_db
def test_same_key_same_payload_replays_and_creates_nothing(api, caller):
    first = post(api, caller)
    again = post(api, caller)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Client.objects.filter(name="Acme").count() == 1


@pytest.mark.django_db
def test_no_key_means_no_protection(api, caller):
    post(api, caller, key=None)
    post(api, caller, key=None)
    assert Client.objects.filter(name="Acme").count() == 2


@pytest.mark.django_db
def test_same_key_different_payload_is_422(api, caller):
    post(api, caller, name="Acme")
    response = post(api, caller, name="Other")
    assert response.status_code == 422
    assert response.json()["status"] == "idempotency-key-reused"
    assert not Client.objects.filter(name="Other").exists()


@pytest.mark.django_db
def test_retry_while_in_flight_is_409(api, caller, staff_member):
    IdempotencyKey.objects.create(
        user=staff_member,
        key="k-1",
        method="POST",
        path=URL,
        fingerprint=_fingerprint(),
        locked_until=_now() + timedelta(seconds=30),
        expires_at=_now() + timedelta(hours=24),
    )
    response = post(api, caller)
    assert response.status_code == 409
    assert response.json()["status"] == "idempotency-key-in-progress"
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_an_abandoned_in_flight_key_is_taken_over(api, caller, staff_member):
    IdempotencyKey.objects.create(
        user=staff_member,
        key="k-1",
        method="POST",
        path=URL,
        fingerprint=_fingerprint(),
        locked_until=_now() - timedelta(seconds=1),
        expires_at=_now() + timedelta(hours=24),
    )
    assert post(api, caller).status_code == 201
    assert Client.objects.filter(name="Acme").count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(api, caller, make_token):
    other = EmployeeFactory().user
    role_grant(
        user=other, application=Application.objects.get(slug="planoauth"), role_name="order manager"
    )
    other_headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(other).raw}"}
    post(api, caller)
    second = post(api, other_headers)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Client.objects.filter(name="Acme").count() == 2


@pytest.mark.django_db
def test_expired_keys_are_reused_and_purged(api, caller, clock):
    post(api, caller)
    clock.advance(hours=24, seconds=1)
    fresh = post(api, caller)
    assert "Idempotent-Replayed" not in fresh
    assert Client.objects.filter(name="Acme").count() == 2
    clock.advance(hours=25)
    assert idempotency_keys_purge() == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_purge_command(api, caller, clock):
    post(api, caller)
    clock.advance(hours=25)
    call_command("purge_idempotency_keys")
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_refusal_is_replayed_and_a_crash_frees_the_key(api, caller):
    refused = post(api, caller, key="k-2", name="x", refuse=True)
    assert refused.status_code == 400
    assert post(api, caller, key="k-2", name="x", refuse=True).json() == refused.json()
    api.raise_request_exception = False
    crashed = post(api, caller, key="k-3", name="boom", explode=True)
    assert crashed.status_code == 500
    assert not Client.objects.filter(name="boom").exists()  # rolled back with the request
    assert not IdempotencyKey.objects.filter(key="k-3").exists()


@pytest.mark.django_db
def test_a_malformed_key_is_invalid_param(api, caller):
    response = post(api, caller, key="x" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_requests_with_one_key_at_once_create_exactly_one(staff_member, make_token):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(staff_member).raw}"}
    barrier = threading.Barrier(8)
    statuses = []

    def worker():
        client = APIClient()
        barrier.wait()
        try:
            statuses.append(post(client, headers, key="same").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Client.objects.filter(name="Acme").count() == 1
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1


def _now():
    return timezone.now()


def _fingerprint():
    return request_fingerprint(method="POST", path=URL, params={"name": "Acme"})

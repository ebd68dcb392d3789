"""Idempotency-Key on POST /api/v1/order_stages: a retried post records one history row."""

import pytest

from stages.models import OrderStage
from tests.stages.conftest import ORDER_STAGES_URL

pytestmark = pytest.mark.django_db


def test_a_retried_stage_post_is_replayed_not_recorded_twice(staff_api, order):
    payload = {"order_id": order.pk, "update_status": True, "stage": "in-production"}
    first = staff_api.post(ORDER_STAGES_URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    again = staff_api.post(ORDER_STAGES_URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert OrderStage.objects.filter(order=order, stage__slug="in-production").count() == 1


def test_the_same_key_for_another_stage_is_refused(staff_api, order):
    payload = {"order_id": order.pk, "update_status": True, "stage": "in-production"}
    staff_api.post(ORDER_STAGES_URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="s-2")
    other = {**payload, "stage": "on-hold"}
    response = staff_api.post(ORDER_STAGES_URL, other, format="json", HTTP_IDEMPOTENCY_KEY="s-2")
    assert response.status_code == 422
    assert response.json()["status"] == "idempotency-key-reused"
    assert not OrderStage.objects.filter(order=order, stage__slug="on-hold").exists()

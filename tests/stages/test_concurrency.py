"""Concurrent stage posts for one order on PostgreSQL: no lost rows, the latest stage wins.

Each thread has its own database connection (Django's connections are per thread) and
posts through the API, so the whole path runs concurrently: auth, validation, the row lock.
"""

import random
import threading
from datetime import UTC, timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order
from stages.models import OrderStage, OrderStatus
from tests.factories.orders import OrderFactory
from tests.stages.conftest import ORDER_STAGES_URL

THREADS = 6
POSTS_PER_THREAD = 4
# every one of these may follow every other: the posts never trip a transition rule
INTERCHANGEABLE = ["in-production", "on-hold", "quality-check"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_lose_no_history_and_leave_the_latest_stage_current(
    staff_member, make_token
):
    order = OrderFactory()  # no status yet: the first posts also race to create it
    tokens = [make_token(staff_member).raw for _ in range(THREADS)]
    base = timezone.now() - timedelta(hours=1)
    count = THREADS * POSTS_PER_THREAD
    offsets = list(range(count))
    random.Random(4).shuffle(offsets)  # stage_at order differs from posting order
    posts = [
        {
            "order_id": order.pk,
            "update_status": True,
            "stage": INTERCHANGEABLE[offset % len(INTERCHANGEABLE)],
            "stage_trigger": f"post-{offset}",
            "stage_at_mt": (base + timedelta(seconds=offset)).astimezone(UTC).isoformat(),
        }
        for offset in offsets
    ]
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, dict]] = []
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[index]}")
            barrier.wait(timeout=30)
            for body in posts[index::THREADS]:
                response = client.post(ORDER_STAGES_URL, body, format="json")
                results.append((response.status_code, response.json()))
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert [code for code, _ in results] == [200] * count, [b for c, b in results if c != 200]
    rows = list(OrderStage.objects.filter(order=order).order_by("id"))
    assert len(rows) == count
    assert sorted(row.stage_trigger for row in rows) == sorted(f"post-{i}" for i in range(count))
    status = OrderStatus.objects.get(order=order)
    latest = max(offsets)
    assert status.stage_trigger == f"post-{latest}"
    assert status.stage_at == base + timedelta(seconds=latest)
    # a row moved the status only when it was not older than the status it found: in commit
    # (id) order the moving rows' times never go back
    moved = [row.stage_at for row in rows if row.updated_status]
    assert moved == sorted(moved)
    assert sum(body["data"]["status_updated"] for _, body in results) == len(moved)
    assert Order.objects.get(pk=order.pk).version == 1 + len(moved)

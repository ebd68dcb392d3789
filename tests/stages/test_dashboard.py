"""The dashboard's numbers: orders per stage now, median time per stage (aggregate SQL)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actors import Actor
from orders.models import Order
from stages.selectors import stage_dashboard
from stages.services import stage_record
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def record(order, steps, start):
    for slug, hours in steps:
        stage_record(
            order=order,
            stage=slug,
            actor=SYSTEM,
            stage_at=start + timedelta(hours=hours),
            check_transition=False,
        )


@pytest.fixture
def start():
    return timezone.now() - timedelta(days=10)


@pytest.fixture
def lifecycle(start):
    record(OrderFactory(), [("received", 0), ("in-production", 1), ("quality-check", 4)], start)
    record(
        OrderFactory(),
        [("received", 0), ("in-production", 3), ("in-production", 4), ("quality-check", 5)],
        start,
    )
    record(OrderFactory(), [("received", 0), ("in-production", 2)], start)
    deleted = OrderFactory()
    record(deleted, [("received", 0), ("in-production", 100)], start)
    Order.objects.filter(pk=deleted.pk).update(is_deleted=True)


def by_slug(summaries):
    return {s.stage.slug: s for s in summaries}


def test_orders_per_stage_and_median_time_in_each_stage(lifecycle):
    summaries = by_slug(stage_dashboard())

    assert {slug: s.orders for slug, s in summaries.items() if s.orders} == {
        "quality-check": 2,
        "in-production": 1,
    }
    # received: stays of 1 h, 3 h, 2 h → 2 h; in-production: 3 h and 2 h (one stay of two rows)
    assert (summaries["received"].stays, summaries["received"].median_seconds) == (3, 7200)
    assert (summaries["in-production"].stays, summaries["in-production"].median_seconds) == (
        2,
        9000,
    )
    assert (summaries["quality-check"].stays, summaries["quality-check"].median_seconds) == (
        0,
        None,
    )


def test_the_period_counts_stays_that_ended_in_it(lifecycle, start):
    recent = OrderFactory()
    record(recent, [("received", 0), ("in-production", 6)], timezone.now() - timedelta(hours=8))

    summaries = by_slug(stage_dashboard(since=timezone.now() - timedelta(days=1)))

    assert (summaries["received"].stays, summaries["received"].median_seconds) == (1, 6 * 3600)
    assert summaries["in-production"].stays == 0
    assert summaries["in-production"].orders == 2  # "now" is not limited by the period


def test_the_dashboard_is_a_fixed_number_of_queries(lifecycle, start):
    with CaptureQueriesContext(connection) as few:
        stage_dashboard()
    for _ in range(10):
        record(OrderFactory(), [("received", 0), ("on-hold", 1), ("in-production", 2)], start)
    with CaptureQueriesContext(connection) as many:
        stage_dashboard()
    assert len(many) == len(few) == 3


def test_an_empty_database_has_zero_bars():
    summaries = stage_dashboard()
    assert summaries and all(s.orders == 0 and s.median_seconds is None for s in summaries)

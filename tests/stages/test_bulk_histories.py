"""order_stage_histories_bulk: whole histories of bulk-created orders (COPY on PostgreSQL,
bulk_create elsewhere), checked against the catalogue before anything is written."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from config.api.errors import InvalidParam
from stages.models import OrderStage, OrderStatus
from stages.services import BulkHistory, StageStep, order_stage_histories_bulk
from tests.factories.accounts import ClientFactory
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("bulk-test")


def test_writes_every_step_and_the_status_of_the_latest_move():
    client = ClientFactory(billing_postal_code="94612")
    first, second = OrderFactory(customer=client), OrderFactory()
    t0 = timezone.now().replace(microsecond=0) - timedelta(days=3)
    histories = [
        BulkHistory(
            order_id=first.pk,
            steps=[
                StageStep("received", t0),
                StageStep("in-production", t0 + timedelta(hours=5)),
                # a late duplicate report: history only, between two moves
                StageStep("in-production", t0 + timedelta(hours=6), False, "shop-floor-sync"),
                StageStep("quality-check", t0 + timedelta(hours=9)),
                StageStep("in-production", t0 + timedelta(hours=12)),
            ],
            client_id=client.pk,
            client_billing_postal_code="94612",
            external_id="ext-1",
            delivery_rush=True,
            due_date=date(2030, 1, 2),
            service_type="framing",
            services_addons=["gift-wrap"],
        ),
        BulkHistory(order_id=second.pk, steps=[StageStep("received", t0)]),
    ]

    written = order_stage_histories_bulk(histories=histories, actor=ACTOR, stage_trigger="bulk")

    assert written == {"order_stages": 6, "order_statuses": 2}
    rows = list(OrderStage.objects.filter(order=first).order_by("stage_at", "id"))
    assert [(r.stage.slug, r.updated_status) for r in rows] == [
        ("received", True),
        ("in-production", True),
        ("in-production", False),
        ("quality-check", True),
        ("in-production", True),
    ]
    assert [r.previous_stage.slug if r.previous_stage else None for r in rows] == [
        None,
        "received",
        "in-production",
        "in-production",
        "quality-check",
    ]
    assert rows[2].event_slug == "shop-floor-sync"
    assert {(r.actor_kind, r.actor_label, r.stage_trigger) for r in rows} == {
        ("system", ACTOR.display, "bulk")
    }
    status = OrderStatus.objects.get(order=first)
    assert status.stage.slug == "in-production"
    assert status.stage_at == t0 + timedelta(hours=12)
    assert (status.client_id, status.client_billing_postal_code) == (client.pk, "94612")
    assert (status.external_id, status.delivery_rush, status.due_date) == (
        "ext-1",
        True,
        date(2030, 1, 2),
    )
    assert status.service_type == "framing" and status.services_addon_array == ["gift-wrap"]
    assert OrderStatus.objects.get(order=second).stage.slug == "received"


def test_refuses_a_path_the_catalogue_forbids_and_writes_nothing():
    order, other = OrderFactory(), OrderFactory()
    t0 = timezone.now() - timedelta(days=1)
    good = BulkHistory(order_id=other.pk, steps=[StageStep("received", t0)])
    bad = BulkHistory(
        order_id=order.pk,
        steps=[StageStep("received", t0), StageStep("complete", t0 + timedelta(hours=1))],
    )

    with pytest.raises(InvalidParam) as refused:
        order_stage_histories_bulk(histories=[good, bad], actor=ACTOR, stage_trigger="bulk")

    assert list(refused.value.errors) == ["stage"]
    assert "cannot move to 'Complete'" in str(refused.value)
    assert not OrderStage.objects.exists() and not OrderStatus.objects.exists()


def test_refuses_an_unknown_stage():
    order = OrderFactory()
    history = BulkHistory(order_id=order.pk, steps=[StageStep("teleported", timezone.now())])
    with pytest.raises(InvalidParam, match="Unknown stage 'teleported'"):
        order_stage_histories_bulk(histories=[history], actor=ACTOR, stage_trigger="bulk")

"""seed_demo's job-flow rules: believable, idempotent, and no obstacle to the demo orders."""

import pytest
from django.core.management import call_command

from orders.models import JobFlowRule, Order
from orders.services import job_flow_rule_unmet

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_its_rules_once_and_shipped_demo_orders_meet_them():
    call_command("seed_demo", "--orders", "30", "--clients", "4")
    rules = list(JobFlowRule.objects.values_list("service_type__slug", "stage__slug", "message"))
    assert rules == [
        (None, "quality-check", "Needs quality check!"),
        ("video-transfer", "shipped", "Needs shipping: the original tapes go back first!"),
    ]
    JobFlowRule.objects.filter(service_type__isnull=True).update(message="Edited by staff")

    call_command("seed_demo", "--orders", "30", "--clients", "4")

    assert JobFlowRule.objects.count() == 2
    assert JobFlowRule.objects.filter(message="Edited by staff").exists()  # kept
    shipped = Order.objects.filter(current_status__stage__slug="shipped")
    assert shipped.exists()
    assert [job_flow_rule_unmet(order) for order in shipped] == [None] * shipped.count()
    received = Order.objects.filter(current_status__stage__slug="received").first()
    assert job_flow_rule_unmet(received).message == "Edited by staff"

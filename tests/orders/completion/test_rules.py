"""Job-flow rules: which apply, in which order, and when one is met."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.services import job_flow_rule_unmet
from stages.services import stage_record
from tests.factories.orders import FACTORY_ACTOR, OrderFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db


def test_no_rules_no_refusal(ready_order):
    assert job_flow_rule_unmet(ready_order()) is None


def test_a_rule_is_met_by_any_history_row_of_its_stage(ready_order, rule):
    order = ready_order()  # received → in-production → quality-check
    rule("in-production", "Needs production!")
    rule("quality-check", "Needs quality check!")
    assert job_flow_rule_unmet(order) is None
    missing = rule("shipped", "Needs shipping!")
    assert job_flow_rule_unmet(order) == missing


def test_a_late_arrival_that_did_not_move_the_status_still_counts(ready_order, rule):
    order = ready_order()
    needed = rule("shipped", "Needs shipping!")
    assert job_flow_rule_unmet(order) == needed
    recorded = stage_record(
        order=order,
        stage="shipped",
        actor=FACTORY_ACTOR,
        stage_at=timezone.now() - timedelta(days=30),  # older than the current stage
    )
    assert recorded.moved is False
    assert job_flow_rule_unmet(order) is None


def test_rules_of_another_service_type_do_not_apply(ready_order, rule):
    framing, printing = ServiceTypeFactory(slug="framing"), ServiceTypeFactory(slug="printing")
    order = ready_order(service_type=printing)
    rule("shipped", "Frames ship first!", service_type=framing)
    assert job_flow_rule_unmet(order) is None
    for_printing = rule("shipped", "Prints ship first!", service_type=printing)
    assert job_flow_rule_unmet(order) == for_printing


def test_a_rule_without_service_type_applies_to_every_order(ready_order, rule):
    everyone = rule("shipped", "Needs shipping!")
    assert job_flow_rule_unmet(ready_order()) == everyone
    assert job_flow_rule_unmet(ready_order(service_type=ServiceTypeFactory())) == everyone


def test_inactive_rules_are_ignored(ready_order, rule):
    rule("shipped", "Needs shipping!", is_active=False)
    assert job_flow_rule_unmet(ready_order()) is None


def test_the_first_unmet_rule_in_position_then_id_order_wins(ready_order, rule):
    coating = ServiceTypeFactory(slug="coating")
    order = OrderFactory(stage="received", service_type=coating)
    rule("quality-check", "Needs quality check!", position=20)
    second = rule("in-production", "Needs production!", position=10)
    rule("shipped", "Needs Backside Coat!", service_type=coating, position=10)
    assert job_flow_rule_unmet(order) == second  # same position: the older rule first
    stage_record(order=order, stage="in-production", actor=FACTORY_ACTOR)
    assert job_flow_rule_unmet(order).message == "Needs Backside Coat!"


def test_checking_the_rules_costs_two_queries(ready_order, rule, django_assert_num_queries):
    order = ready_order()
    for position, slug in enumerate(["in-production", "quality-check", "shipped"]):
        rule(slug, f"Needs {slug}", position=position)
    with django_assert_num_queries(2):
        assert job_flow_rule_unmet(order).message == "Needs shipped"

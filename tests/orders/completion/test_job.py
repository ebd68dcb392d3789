"""The completion job: completes once, re-checks under the lock, records why it could not,
e-mails the customer, and settles the flag when it gives up."""

from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone

from accounts.actors import Actor
from group_orders.models import Job
from group_orders.services.jobs import job_claim, job_execute, job_fail, job_requeue
from orders import services
from orders.models import Order
from stages.models import OrderStage
from stages.services import stage_record
from tests.factories import EmployeeFactory
from tests.factories.orders import FACTORY_ACTOR, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

STAFF = Actor.system("test")


@pytest.fixture
def requested(ready_order):
    """An order flagged for completion by a staff member, and its (queued) job."""

    def make(**kwargs):
        user = EmployeeFactory(user__first_name="Ada", user__last_name="Byron").user
        order = ready_order(**kwargs)
        outcome = services.order_completion_request(
            order_number=order.number, actor=Actor.for_user(user)
        )
        order.refresh_from_db()
        return order, outcome.job

    return make


def complete_rows(order: Order):
    return OrderStage.objects.filter(order=order, stage__slug="complete")


def failure_rows(order: Order):
    return OrderStage.objects.filter(order=order, event_slug="completion-failed")


def test_the_job_records_the_complete_stage_and_clears_the_flag(requested, mailoutbox):
    order, job = requested(notify=False)
    requested_at, version = order.completion_requested_at, order.version

    assert job_execute(job_id=job.pk, worker_id="w1") == Job.Status.SUCCEEDED

    order.refresh_from_db()
    assert order.completed_at is not None
    assert (order.completion_requested_at, order.completion_requested_by) == (None, None)
    assert order.current_status.stage.slug == "complete"
    assert order.current_status.stage_trigger == "completion-request"
    assert order.version == version + 1
    row = complete_rows(order).get()
    assert row.updated_status is True
    assert row.previous_stage.slug == "quality-check"
    assert (row.actor_kind, row.actor_label) == ("system", "system: completion")
    assert row.stage_trigger == "completion-request"
    assert row.notes == f"Completion requested by Ada Byron at {requested_at.isoformat()}"
    assert row.payload["job_id"] == job.pk
    assert row.payload["requested_by"] == "Ada Byron"
    assert order.history.first().history_change_reason == "Completed by system: completion"
    job.refresh_from_db()
    assert job.result == {"outcome": "completed", "email": "not-requested"}
    assert mailoutbox == []


def test_a_job_run_twice_completes_once(requested):
    order, job = requested(notify=True)
    first = services.order_completion_run(order_id=order.pk, job_id=job.pk, params=job.params)
    completed_at = Order.objects.get(pk=order.pk).completed_at

    second = services.order_completion_run(order_id=order.pk, job_id=job.pk, params=job.params)

    assert first == {"outcome": "completed", "email": "sent"}
    assert second == {"outcome": "already-completed"}
    assert complete_rows(order).count() == 1
    assert Order.objects.get(pk=order.pk).completed_at == completed_at


def test_the_same_job_dispatched_twice_or_retried_completes_once(requested, mailoutbox):
    order, job = requested(notify=True)
    assert job_execute(job_id=job.pk, worker_id="w1") == Job.Status.SUCCEEDED
    assert job_execute(job_id=job.pk, worker_id="w2") == "skipped"  # a duplicate queue task
    job_requeue(job_id=job.pk, actor=STAFF)  # an operator's "Retry" in the admin
    assert job_execute(job_id=job.pk, worker_id="w3") == Job.Status.SUCCEEDED

    job.refresh_from_db()
    assert job.result == {"outcome": "already-completed"}
    assert complete_rows(order).count() == 1
    assert len(mailoutbox) == 1


def test_the_customer_is_emailed_when_they_asked_to_be_notified(requested, mailoutbox):
    order, job = requested(notify=True, email="tucker@example.com", first_name="Tucker")
    OrderLineFactory(order=order, name="8x10 print", quantity=2)

    job_execute(job_id=job.pk, worker_id="w1")

    (message,) = mailoutbox
    assert message.to == ["tucker@example.com"]
    assert message.subject == f"Your order {order.number} is complete"
    assert "Hello Tucker," in message.body
    assert "2 × 8x10 print" in message.body
    job.refresh_from_db()
    assert job.result["email"] == "sent"


def test_no_email_without_an_address(requested, mailoutbox):
    order, job = requested(notify=True, email="")
    job_execute(job_id=job.pk, worker_id="w1")
    job.refresh_from_db()
    assert job.result == {"outcome": "completed", "email": "no-address"}
    assert mailoutbox == []


def test_an_email_that_fails_is_recorded_and_the_order_stays_completed(
    requested, monkeypatch, mailoutbox
):
    order, job = requested(notify=True)

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("smtp.example.com:25 refused the connection")

    monkeypatch.setattr(EmailMessage, "send", refuse)  # the transport: an edge

    assert job_execute(job_id=job.pk, worker_id="w1") == Job.Status.SUCCEEDED

    job.refresh_from_db()
    assert job.result == {
        "outcome": "completed",
        "email": "failed: ConnectionRefusedError: smtp.example.com:25 refused the connection",
    }
    assert Order.objects.get(pk=order.pk).completed_at is not None
    assert complete_rows(order).count() == 1


def test_a_rule_unmet_meanwhile_records_completion_failed(requested, rule):
    order, job = requested()
    stage_before = order.current_status.stage_id
    rule("shipped", "Needs Backside Coat!")

    job_execute(job_id=job.pk, worker_id="w1")

    order.refresh_from_db()
    assert order.completed_at is None
    assert order.completion_requested_at is None  # settled: it may be asked again
    assert order.current_status.stage_id == stage_before
    assert not complete_rows(order).exists()
    event = failure_rows(order).get()
    assert event.stage_id == stage_before and event.updated_status is False
    assert event.notes == "Completion failed: Needs Backside Coat!"
    assert event.stage_trigger == "completion-request"
    assert event.actor_label == "system: completion"
    assert event.payload["code"] == "20" and event.payload["job_id"] == job.pk
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"outcome": "failed", "code": "20", "message": "Needs Backside Coat!"}
    # asked again, the request itself now says why
    with pytest.raises(services.CompletionRefused) as refused:
        services.order_completion_request(order_number=order.number, actor=STAFF)
    assert (refused.value.code, refused.value.message) == ("20", "Needs Backside Coat!")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda order: services.order_hold(order=order, actor=STAFF), "Order on hold"),
        (lambda order: services.order_soft_delete(order=order, actor=STAFF), "Order deleted"),
        (
            lambda order: services.order_mark_invalid(order=order, actor=STAFF, reason="dup"),
            "Order unvalid",
        ),
    ],
)
def test_an_order_changed_meanwhile_is_not_completed(requested, change, message):
    order, job = requested()
    change(order)

    job_execute(job_id=job.pk, worker_id="w1")

    order.refresh_from_db()
    assert order.completed_at is None and order.completion_requested_at is None
    assert failure_rows(order).get().notes == f"Completion failed: {message}"
    assert not complete_rows(order).exists()


def test_an_order_completed_another_way_meanwhile_only_settles_the_flag(requested):
    order, job = requested()
    stage_record(order=order, stage="complete", actor=STAFF)  # e.g. a stage post

    job_execute(job_id=job.pk, worker_id="w1")

    order.refresh_from_db()
    assert order.completion_requested_at is None
    assert complete_rows(order).count() == 1
    assert not failure_rows(order).exists()
    job.refresh_from_db()
    assert job.result == {"outcome": "already-completed"}


def test_an_order_deleted_for_good_meanwhile_leaves_nothing_to_do(requested):
    order, job = requested()
    services.order_hard_delete(order=order, actor=STAFF)
    assert job_execute(job_id=job.pk, worker_id="w1") == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.result == {"outcome": "order-gone"}


def test_an_order_whose_request_was_settled_is_not_completed_by_an_old_job(requested, rule):
    order, job = requested()
    needed = rule("shipped", "Needs shipping!")
    job_execute(job_id=job.pk, worker_id="w1")  # fails: completion-failed, flag cleared
    needed.delete()

    job_requeue(job_id=job.pk, actor=STAFF)
    job_execute(job_id=job.pk, worker_id="w2")

    job.refresh_from_db()
    assert job.result == {"outcome": "not-requested"}
    assert Order.objects.get(pk=order.pk).completed_at is None


def test_a_current_stage_dated_in_the_future_does_not_keep_the_order_from_completing(
    ready_order,
):
    order = ready_order()
    later = timezone.now() + timedelta(hours=2)
    stage_record(order=order, stage="shipped", actor=FACTORY_ACTOR, stage_at=later)
    outcome = services.order_completion_request(order_number=order.number, actor=STAFF)

    job_execute(job_id=outcome.job.pk, worker_id="w1")

    order.refresh_from_db()
    assert order.current_status.stage.slug == "complete"
    assert complete_rows(order).get().stage_at == later


def test_a_job_that_gives_up_records_why_and_lets_the_order_be_asked_again(
    requested, django_capture_on_commit_callbacks
):
    order, job = requested()
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    with django_capture_on_commit_callbacks(execute=True):
        job_fail(
            job_id=job.pk,
            worker_id="w1",
            error="OperationalError: could not serialize access\n\nTraceback ...",
            retry=False,
        )

    order.refresh_from_db()
    assert order.completion_requested_at is None and order.completed_at is None
    event = failure_rows(order).get()
    assert event.notes == (
        f"Completion failed: the completion job #{job.pk} failed after 1 attempts "
        "(OperationalError: could not serialize access)"
    )
    again = services.order_completion_request(order_number=order.number, actor=STAFF)
    assert again.job.pk != job.pk


def test_an_order_without_any_status_records_the_failure_on_its_first_stage(rule):
    order = OrderFactory()  # bulk-made, no status row yet
    outcome = services.order_completion_request(order_number=order.number, actor=STAFF)
    rule("shipped", "Needs shipping!")

    job_execute(job_id=outcome.job.pk, worker_id="w1")

    event = failure_rows(order).get()
    assert event.stage.slug == "received" and event.updated_status is False
    assert not hasattr(Order.objects.get(pk=order.pk), "current_status")


def test_requesting_from_the_service_locks_refuses_and_flags(ready_order):
    order = ready_order()
    outcome = services.order_completion_request(order_number=order.number, actor=STAFF)
    assert outcome.order.pk == order.pk
    assert outcome.job.kind == "orders.completion"
    assert outcome.job.subject_id == str(order.pk)
    with pytest.raises(services.CompletionRefused) as refused:
        services.order_completion_request(order_number=order.number, actor=STAFF)
    assert refused.value.refusal.message == "Order completion already requested"
    assert Job.objects.filter(kind="orders.completion").count() == 1

"""The job tracker: enqueue on commit, claim with a lease, heartbeat, finish, retry with
backoff, give up, reaper, requeue."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from accounts.actors import Actor
from group_orders.models import Job, JobEvent
from group_orders.services.jobs import (
    JobContext,
    LeaseLost,
    PermanentJobError,
    job_claim,
    job_enqueue,
    job_execute,
    job_finish,
    job_heartbeat,
    job_kind,
    job_kind_get,
    job_requeue,
    jobs_extend_leases,
    jobs_reap,
)

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
CALLS: list[dict] = []
GIVEN_UP: list[int] = []


@job_kind("tests.echo", max_attempts=3, lease_seconds=30, backoff_base_seconds=10)
def echo_job(ctx: JobContext):
    """Fails while params["fail_times"] > attempts so far; PermanentJobError on demand."""
    CALLS.append({"job": ctx.job.pk, "attempt": ctx.job.attempts})
    ctx.heartbeat(force=True)
    if ctx.job.params.get("permanent"):
        raise PermanentJobError("cannot ever work")
    if ctx.job.attempts <= ctx.job.params.get("fail_times", 0):
        raise RuntimeError(f"boom {ctx.job.attempts}")
    return {"echo": ctx.job.params.get("value")}


@job_kind("tests.give_up", max_attempts=1, on_give_up=lambda job: GIVEN_UP.append(job.pk))
def give_up_job(ctx: JobContext):
    raise RuntimeError("always")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    GIVEN_UP.clear()


def events(job: Job) -> list[str]:
    return list(job.events.order_by("id").values_list("event", flat=True))


def test_enqueue_runs_the_job_after_commit_and_records_its_history(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = job_enqueue(kind="tests.echo", actor=ACTOR, params={"value": 7})
        assert CALLS == []  # nothing runs before the transaction commits
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"echo": 7}
    assert job.attempts == 1 and job.max_attempts == 3 and job.lease_seconds == 30
    assert job.task_result_id
    assert job.lease_expires_at is None and job.finished_at is not None
    assert job.enqueued_by == "system: test"
    assert events(job) == ["enqueued", "claimed", "succeeded"]
    claimed = job.events.get(event="claimed")
    assert claimed.actor_kind == "system" and claimed.worker_id == job.worker_id


def test_enqueue_records_the_subject(django_capture_on_commit_callbacks, staff_member):
    with django_capture_on_commit_callbacks(execute=False):
        job = job_enqueue(
            kind="tests.echo", actor=Actor.for_user(staff_member), subject=staff_member
        )
    assert (job.subject_type, job.subject_id) == ("accounts.user", str(staff_member.pk))
    event = job.events.get()
    assert event.actor_kind == "user" and event.actor_user == staff_member


def test_unknown_kind_is_refused():
    with pytest.raises(LookupError):
        job_enqueue(kind="tests.nope", actor=ACTOR)
    assert not Job.objects.exists()


def test_a_failed_attempt_is_retried_after_an_exponential_backoff(
    clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.echo", actor=ACTOR, params={"fail_times": 2, "value": 1})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 1
    assert job.run_after == clock.now + timedelta(seconds=10)
    assert "boom 1" in job.last_error
    assert events(job)[-1] == "retry_scheduled"

    # the immediate backend cannot defer: the reaper dispatches the job when it is due
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap(queued_grace=timedelta(seconds=1)).redispatched == []
    clock.advance(seconds=11)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap(queued_grace=timedelta(seconds=1)).redispatched == [job.pk]
    job.refresh_from_db()
    assert job.attempts == 2 and job.status == Job.Status.QUEUED
    assert job.run_after == clock.now + timedelta(seconds=20)  # 10 s · 2^(2-1)

    clock.advance(seconds=21)
    with django_capture_on_commit_callbacks(execute=True):
        jobs_reap(queued_grace=timedelta(seconds=1))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 3
    assert [c["attempt"] for c in CALLS] == [1, 2, 3]


def test_backoff_doubles_and_is_capped():
    kind = job_kind_get("tests.echo")
    assert [kind.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert kind.backoff(30).total_seconds() == 3600


def test_no_attempts_left_fails_for_good_and_calls_on_give_up(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.give_up", actor=ACTOR)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert "always" in job.last_error
    assert GIVEN_UP == [job.pk]
    assert events(job) == ["enqueued", "claimed", "failed"]


def test_a_permanent_error_is_not_retried(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.echo", actor=ACTOR, params={"permanent": True})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert "cannot ever work" in job.last_error


def test_claim_holds_a_lease_that_a_second_worker_cannot_take(clock):
    job = job_enqueue(kind="tests.echo", actor=ACTOR)
    claimed = job_claim(job_id=job.pk, worker_id="w1")
    assert claimed.status == Job.Status.RUNNING and claimed.worker_id == "w1"
    assert claimed.lease_expires_at == clock.now + timedelta(seconds=30)
    assert job_claim(job_id=job.pk, worker_id="w2") is None

    clock.advance(seconds=31)  # w1 died: its lease expired
    again = job_claim(job_id=job.pk, worker_id="w2")
    assert again.worker_id == "w2" and again.attempts == 2
    assert job_heartbeat(job_id=job.pk, worker_id="w1") is False
    with pytest.raises(LeaseLost):
        job_finish(job_id=job.pk, worker_id="w1")


def test_a_finished_job_is_not_run_again_by_a_duplicate_task(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.echo", actor=ACTOR)
    assert job_execute(job_id=job.pk, worker_id="other") == "skipped"
    assert len(CALLS) == 1


def test_heartbeat_extends_the_lease(clock):
    job = job_enqueue(kind="tests.echo", actor=ACTOR)
    job_claim(job_id=job.pk, worker_id="w1")
    clock.advance(seconds=20)
    assert job_heartbeat(job_id=job.pk, worker_id="w1") is True
    job.refresh_from_db()
    assert job.heartbeat_at == clock.now
    assert job.lease_expires_at == clock.now + timedelta(seconds=30)


def test_the_worker_thread_extends_every_lease_it_holds(clock):
    mine = [job_enqueue(kind="tests.echo", actor=ACTOR) for _ in range(2)]
    theirs = job_enqueue(kind="tests.echo", actor=ACTOR)
    for job in mine:
        job_claim(job_id=job.pk, worker_id="w1")
    job_claim(job_id=theirs.pk, worker_id="w2")
    clock.advance(seconds=10)
    assert jobs_extend_leases(worker_id="w1") == 2
    assert Job.objects.get(pk=mine[0].pk).lease_expires_at == clock.now + timedelta(seconds=30)
    assert Job.objects.get(pk=theirs.pk).lease_expires_at == clock.now + timedelta(seconds=20)


def test_context_heartbeat_raises_lease_lost_once_the_job_was_reaped(clock):
    job = job_enqueue(kind="tests.echo", actor=ACTOR)
    claimed = job_claim(job_id=job.pk, worker_id="w1")
    ctx = JobContext(job=claimed, worker_id="w1")
    ctx.heartbeat()
    clock.advance(seconds=31)
    jobs_reap()
    with pytest.raises(LeaseLost):
        ctx.heartbeat(force=True)


def test_reaper_requeues_a_job_whose_worker_died(clock, django_capture_on_commit_callbacks):
    job = job_enqueue(kind="tests.echo", actor=ACTOR, params={"value": "x"})
    job_claim(job_id=job.pk, worker_id="dead-worker")
    clock.advance(seconds=29)
    assert jobs_reap().requeued == []  # lease still live

    clock.advance(seconds=2)
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs_reap()
    assert report.requeued == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert events(job) == ["enqueued", "claimed", "reaped", "claimed", "succeeded"]
    reaped = job.events.get(event="reaped")
    assert reaped.actor_label == "system: job reaper" and "dead-worker" in reaped.message


def test_reaper_gives_up_when_no_attempts_are_left(clock, django_capture_on_commit_callbacks):
    job = job_enqueue(kind="tests.give_up", actor=ACTOR)
    job_claim(job_id=job.pk, worker_id="dead-worker")
    clock.advance(seconds=61)
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs_reap()
    assert report.given_up == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "expired" in job.last_error
    assert GIVEN_UP == [job.pk]


def test_reaper_redispatches_a_queued_job_whose_task_was_lost(
    clock, django_capture_on_commit_callbacks
):
    # the process died between commit and enqueue: the on-commit dispatch never ran
    with django_capture_on_commit_callbacks(execute=False):
        job = job_enqueue(kind="tests.echo", actor=ACTOR)
    clock.advance(seconds=61)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap().redispatched == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert JobEvent.objects.filter(job=job, event="requeued").count() == 1


def test_reaper_leaves_a_job_whose_task_waits_in_the_database_queue(
    clock, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.echo", actor=ACTOR)
    job.refresh_from_db()
    assert DBTaskResult.objects.get(id=job.task_result_id).status == "READY"
    assert DBTaskResult.objects.get(id=job.task_result_id).args_kwargs == {
        "args": [job.pk],
        "kwargs": {},
    }
    clock.advance(minutes=10)
    assert jobs_reap().redispatched == []
    # a task taken by a worker that died before it claimed the job counts as lost
    DBTaskResult.objects.filter(id=job.task_result_id).update(status="RUNNING")
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap().redispatched == [job.pk]
    assert DBTaskResult.objects.count() == 2


def test_deferred_retry_uses_run_after_on_the_database_backend(
    clock, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.echo", actor=ACTOR, params={"fail_times": 1})
    with django_capture_on_commit_callbacks(execute=True):
        assert job_execute(job_id=job.pk, worker_id="w1") == Job.Status.QUEUED
    job.refresh_from_db()
    retry_task = DBTaskResult.objects.get(id=job.task_result_id)
    assert retry_task.run_after == clock.now + timedelta(seconds=10)


def test_requeue_runs_a_failed_job_again(django_capture_on_commit_callbacks, staff_member):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(kind="tests.echo", actor=ACTOR, params={"permanent": True})
    Job.objects.filter(pk=job.pk).update(params={"value": "fixed"})
    with django_capture_on_commit_callbacks(execute=True):
        job_requeue(job_id=job.pk, actor=Actor.for_user(staff_member))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
    requeued = job.events.get(event="requeued")
    assert requeued.actor_user == staff_member


def test_requeue_leaves_a_running_job_alone():
    job = job_enqueue(kind="tests.echo", actor=ACTOR)
    job_claim(job_id=job.pk, worker_id="w1")
    assert job_requeue(job_id=job.pk, actor=ACTOR).status == Job.Status.RUNNING
    assert not job.events.filter(event="requeued").exists()


def test_reap_jobs_command(clock):
    job = job_enqueue(kind="tests.echo", actor=ACTOR)
    job_claim(job_id=job.pk, worker_id="dead")
    clock.advance(minutes=5)
    out = StringIO()
    call_command("reap_jobs", "-v", "2", stdout=out)
    assert "requeued 1" in out.getvalue() and str(job.pk) in out.getvalue()
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_worker_heartbeat_thread_beat_reports_extends_and_reaps(clock, monkeypatch):
    from group_orders.management.commands import db_worker
    from group_orders.management.commands.db_worker import Heartbeat
    from group_orders.models import WorkerHeartbeat

    # the thread refreshes its own connection; here it shares the test's transaction
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    held = job_enqueue(kind="tests.echo", actor=ACTOR)
    job_claim(job_id=held.pk, worker_id="w1")
    orphan = job_enqueue(kind="tests.echo", actor=ACTOR)
    job_claim(job_id=orphan.pk, worker_id="dead")
    clock.advance(seconds=31)

    Heartbeat("w1", reap_every=0).beat()

    assert WorkerHeartbeat.objects.get(worker_id="w1").last_seen_at == clock.now
    assert Job.objects.get(pk=held.pk).status == Job.Status.RUNNING  # extended, not reaped
    assert Job.objects.get(pk=orphan.pk).status == Job.Status.QUEUED

"""The job tracker: the platform's own state of background jobs.

django-tasks-db runs a task once, has no retries and leaves a task RUNNING when its worker is
killed. So every background job is a `Job` row; the queue carries only its id, and the row
records status, attempts, a lease kept alive by heartbeats, and the last error.

How a feature uses it (see docs/jobs.md):

    # <app>/jobs.py  (imported at start-up by GroupOrdersConfig.ready)
    @job_kind("orders.completion", max_attempts=5, lease_seconds=60)
    def completion_run(ctx: JobContext) -> dict | None:
        order = Order.objects.get(pk=ctx.job.subject_id)
        ...               # idempotent steps; call ctx.heartbeat() between them
        return {"done": True}   # stored as job.result

    # in a service, inside its transaction
    job = job_enqueue(kind="orders.completion", subject=order, actor=actor)

A handler that raises is retried with exponential backoff until `max_attempts`; one that
raises `PermanentJobError` fails at once. When a job finally fails, the kind's `on_give_up`
is called with the job. The reaper (`jobs_reap`, run by every worker's heartbeat thread and by
`manage.py reap_jobs`) re-enqueues jobs whose lease expired (their worker died) and queued jobs
whose queue task was lost. A handler must therefore be idempotent: it may run again after
having done part (or all) of its work.
"""

import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actors import Actor
from group_orders.models import Job, JobEvent

logger = logging.getLogger("orderdesk.jobs")

# A queued job whose task has not shown up this long after it was queued counts as lost.
QUEUED_GRACE_SECONDS = 60


class PermanentJobError(Exception):
    """Raised by a handler when running the job again cannot help (no retry)."""


class LeaseLost(Exception):
    """This worker no longer holds the job (the reaper gave it to another worker)."""


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Callable[["JobContext"], Any]
    max_attempts: int = 5
    lease_seconds: int = 60
    backoff_base_seconds: int = 10
    backoff_max_seconds: int = 3600
    on_give_up: Callable[[Job], None] | None = None

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next attempt after `attempts` failed ones: base·2^(n-1), capped."""
        seconds = self.backoff_base_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


JOB_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str,
    *,
    max_attempts: int = 5,
    lease_seconds: int = 60,
    backoff_base_seconds: int = 10,
    backoff_max_seconds: int = 3600,
    on_give_up: Callable[[Job], None] | None = None,
) -> Callable:
    """Register the decorated function as the handler of job kind `name`."""

    def register(handler: Callable[["JobContext"], Any]) -> Callable[["JobContext"], Any]:
        JOB_KINDS[name] = JobKind(
            name=name,
            handler=handler,
            max_attempts=max_attempts,
            lease_seconds=lease_seconds,
            backoff_base_seconds=backoff_base_seconds,
            backoff_max_seconds=backoff_max_seconds,
            on_give_up=on_give_up,
        )
        return handler

    return register


def job_kind_get(name: str) -> JobKind:
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise LookupError(
            f"No job kind '{name}' is registered (define it in <app>/jobs.py)."
        ) from None


_process_worker_id: str | None = None


def process_worker_id() -> str:
    """The id this process claims jobs under: the db_worker's id, else host:pid."""
    return _process_worker_id or f"{socket.gethostname()}:{os.getpid()}"[:100]


def process_worker_id_set(worker_id: str | None) -> None:
    global _process_worker_id
    _process_worker_id = worker_id[:100] if worker_id else None


@dataclass
class JobContext:
    """What a handler gets: its job row and a way to keep its lease alive."""

    job: Job
    worker_id: str
    heartbeat_every: timedelta = field(default_factory=lambda: timedelta(seconds=5))
    _last_beat: datetime | None = None

    def heartbeat(self, *, force: bool = False) -> None:
        """Extend the lease (at most every few seconds unless forced); LeaseLost if gone."""
        now = timezone.now()
        if not force and self._last_beat and now - self._last_beat < self.heartbeat_every:
            return
        if not job_heartbeat(job_id=self.job.pk, worker_id=self.worker_id):
            raise LeaseLost(f"Job {self.job.pk} is no longer held by {self.worker_id}.")
        self._last_beat = now


def _event(job: Job, event: str, actor: Actor, *, message: str = "", at: datetime) -> JobEvent:
    return JobEvent.objects.create(
        job=job,
        event=event,
        attempt=job.attempts,
        worker_id=job.worker_id,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_label=actor.display[:255],
        message=message,
        at=at,
    )


def _subject_of(subject: models.Model | None) -> tuple[str, str]:
    if subject is None:
        return "", ""
    return subject._meta.label_lower, str(subject.pk)


def _dispatch_on_commit(job_id: int, run_after: datetime | None = None) -> None:
    transaction.on_commit(lambda: job_dispatch(job_id=job_id, run_after=run_after))


@transaction.atomic
def job_enqueue(
    *,
    kind: str,
    actor: Actor,
    subject: models.Model | None = None,
    params: dict[str, Any] | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Create a queued job and put its id on the queue once the transaction commits.

    `params` must be JSON; pass ids, never objects. The job's `pk` is known at once (callers
    may show it, e.g. as a group order's `queue_job_id`).
    """
    definition = job_kind_get(kind)
    subject_type, subject_id = _subject_of(subject)
    now = timezone.now()
    job = Job.objects.create(
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        params=params or {},
        max_attempts=max_attempts or definition.max_attempts,
        lease_seconds=definition.lease_seconds,
        enqueued_by=actor.display[:255],
        enqueued_at=now,
    )
    _event(job, JobEvent.Event.ENQUEUED, actor, at=now)
    _dispatch_on_commit(job.pk)
    return job


def job_dispatch(*, job_id: int, run_after: datetime | None = None) -> str | None:
    """Put the job's id on the django.tasks queue (called after commit); the task result id.

    A backend that cannot defer (run_after) gets nothing now: the reaper dispatches the job
    when its time has come.
    """
    from group_orders.tasks import run_job

    task = run_job
    if run_after is not None and run_after > timezone.now():
        if not task.get_backend().supports_defer:
            return None
        task = task.using(run_after=run_after)
    result = task.enqueue(job_id)
    Job.objects.filter(pk=job_id).update(task_result_id=str(result.id)[:64])
    return str(result.id)


def job_claim(*, job_id: int, worker_id: str) -> Job | None:
    """Take the job for `worker_id` with a fresh lease, or None when it is not to run now.

    None when: the job is finished, another worker holds a live lease, or it is deferred.
    A running job whose lease expired may be claimed (its worker died); that is a new attempt.
    """
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return None
        if job.status == Job.Status.RUNNING and job.lease_expires_at and job.lease_expires_at > now:
            return None
        if job.status == Job.Status.QUEUED and job.run_after and job.run_after > now:
            return None
        if job.attempts >= job.max_attempts:
            _give_up(job, "No attempts left.", Actor.system(f"worker {worker_id}"), now)
            return None
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.worker_id = worker_id
        job.lease_expires_at = now + timedelta(seconds=job.lease_seconds)
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.run_after = None
        job.save(
            update_fields=[
                "status",
                "attempts",
                "worker_id",
                "lease_expires_at",
                "heartbeat_at",
                "started_at",
                "run_after",
                "updated_at",
            ]
        )
        _event(job, JobEvent.Event.CLAIMED, Actor.system(f"worker {worker_id}"), at=now)
    return job


def job_heartbeat(*, job_id: int, worker_id: str) -> bool:
    """Extend the lease of a job this worker holds; False when it no longer holds it."""
    now = timezone.now()
    job = Job.objects.filter(pk=job_id).only("lease_seconds").first()
    if job is None:
        return False
    return bool(
        Job.objects.filter(pk=job_id, worker_id=worker_id, status=Job.Status.RUNNING).update(
            heartbeat_at=now,
            lease_expires_at=now + timedelta(seconds=job.lease_seconds),
        )
    )


def jobs_extend_leases(*, worker_id: str) -> int:
    """Extend every lease `worker_id` holds (the worker's heartbeat thread: the process lives)."""
    extended = 0
    held = Job.objects.filter(worker_id=worker_id, status=Job.Status.RUNNING)
    for job_id in held.values_list("pk", flat=True):
        extended += job_heartbeat(job_id=job_id, worker_id=worker_id)
    return extended


def _locked_held_job(job_id: int, worker_id: str) -> Job:
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != Job.Status.RUNNING or job.worker_id != worker_id:
        raise LeaseLost(f"Job {job_id} is no longer held by {worker_id}.")
    return job


def job_finish(*, job_id: int, worker_id: str, result: Any = None) -> Job:
    """Mark the job succeeded (LeaseLost when this worker no longer holds it)."""
    now = timezone.now()
    with transaction.atomic():
        job = _locked_held_job(job_id, worker_id)
        job.status = Job.Status.SUCCEEDED
        job.result = result
        job.finished_at = now
        job.lease_expires_at = None
        job.save(
            update_fields=["status", "result", "finished_at", "lease_expires_at", "updated_at"]
        )
        _event(job, JobEvent.Event.SUCCEEDED, Actor.system(f"worker {worker_id}"), at=now)
    return job


def _give_up(job: Job, error: str, actor: Actor, now: datetime) -> None:
    job.status = Job.Status.FAILED
    job.last_error = error
    job.finished_at = now
    job.lease_expires_at = None
    job.run_after = None
    job.save(
        update_fields=[
            "status",
            "last_error",
            "finished_at",
            "lease_expires_at",
            "run_after",
            "updated_at",
        ]
    )
    _event(job, JobEvent.Event.FAILED, actor, message=error, at=now)
    definition = JOB_KINDS.get(job.kind)
    if definition and definition.on_give_up:
        on_give_up = definition.on_give_up
        transaction.on_commit(lambda: on_give_up(Job.objects.get(pk=job.pk)))


def job_fail(*, job_id: int, worker_id: str, error: str, retry: bool = True) -> Job:
    """Record a failed attempt: queued again after a backoff, or failed for good when no
    attempts are left or `retry` is false."""
    now = timezone.now()
    actor = Actor.system(f"worker {worker_id}")
    with transaction.atomic():
        job = _locked_held_job(job_id, worker_id)
        if not retry or job.attempts >= job.max_attempts:
            _give_up(job, error, actor, now)
            return job
        definition = JOB_KINDS.get(job.kind)
        delay = definition.backoff(job.attempts) if definition else timedelta(seconds=60)
        job.status = Job.Status.QUEUED
        job.last_error = error
        job.run_after = now + delay
        job.lease_expires_at = None
        job.enqueued_at = now
        job.task_result_id = ""
        job.save(
            update_fields=[
                "status",
                "last_error",
                "run_after",
                "lease_expires_at",
                "enqueued_at",
                "task_result_id",
                "updated_at",
            ]
        )
        _event(
            job,
            JobEvent.Event.RETRY_SCHEDULED,
            actor,
            message=f"Retry at {job.run_after.isoformat()}: {error}",
            at=now,
        )
        _dispatch_on_commit(job.pk, job.run_after)
    return job


def job_requeue(*, job_id: int, actor: Actor, reset_attempts: bool = True) -> Job:
    """Run a finished or failed job again now (admin "retry"; idempotent handlers make it
    safe). A job that is queued or running is left alone."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in (Job.Status.QUEUED, Job.Status.RUNNING):
            return job
        job.status = Job.Status.QUEUED
        if reset_attempts:
            job.attempts = 0
        job.run_after = None
        job.finished_at = None
        job.enqueued_at = now
        job.task_result_id = ""
        job.worker_id = ""
        job.save(
            update_fields=[
                "status",
                "attempts",
                "run_after",
                "finished_at",
                "enqueued_at",
                "task_result_id",
                "worker_id",
                "updated_at",
            ]
        )
        _event(job, JobEvent.Event.REQUEUED, actor, at=now)
        _dispatch_on_commit(job.pk)
    return job


def _task_is_waiting(task_result_id: str) -> bool:
    """Whether the queue still holds a task, not yet started, that will run this job.

    A task that started but whose job is still queued after the grace period belongs to a
    worker that died between taking the task and claiming the job: it does not count.
    """
    if not task_result_id:
        return False
    from group_orders.tasks import run_job

    backend = run_job.get_backend()
    if not backend.supports_get_result:
        return False
    try:
        status = backend.get_result(task_result_id).status
    except Exception:  # unknown id, pruned result: the task is gone
        return False
    return status == "READY"


@dataclass
class ReapReport:
    requeued: list[int] = field(default_factory=list)  # lease expired, queued again
    given_up: list[int] = field(default_factory=list)  # lease expired, no attempts left
    redispatched: list[int] = field(default_factory=list)  # queued, but its task was lost


def jobs_reap(*, queued_grace: timedelta | None = None) -> ReapReport:
    """Re-enqueue jobs whose worker died (lease expired) and queued jobs whose task was lost.

    Safe to run from many workers at once (rows are locked with SKIP LOCKED) and at any time.
    """
    now = timezone.now()
    grace = queued_grace or timedelta(
        seconds=getattr(settings, "ORDERDESK_JOB_QUEUED_GRACE_SECONDS", QUEUED_GRACE_SECONDS)
    )
    actor = Actor.system("job reaper")
    report = ReapReport()

    expired = Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=now)
    for job_id in list(expired.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            job = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=Job.Status.RUNNING, lease_expires_at__lt=now)
                .first()
            )
            if job is None:
                continue
            message = f"Lease held by {job.worker_id} expired at {job.lease_expires_at}."
            if job.attempts >= job.max_attempts:
                _give_up(job, message + " No attempts left.", actor, now)
                report.given_up.append(job.pk)
                continue
            job.status = Job.Status.QUEUED
            job.last_error = message
            job.lease_expires_at = None
            job.enqueued_at = now
            job.task_result_id = ""
            job.save(
                update_fields=[
                    "status",
                    "last_error",
                    "lease_expires_at",
                    "enqueued_at",
                    "task_result_id",
                    "updated_at",
                ]
            )
            _event(job, JobEvent.Event.REAPED, actor, message=message, at=now)
            _dispatch_on_commit(job.pk)
            report.requeued.append(job.pk)

    due = Job.objects.filter(status=Job.Status.QUEUED, enqueued_at__lt=now - grace).filter(
        Q(run_after__isnull=True) | Q(run_after__lte=now)
    )
    for job_id, task_result_id in list(due.values_list("pk", "task_result_id")[:500]):
        if _task_is_waiting(task_result_id):
            continue
        with transaction.atomic():
            job = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=Job.Status.QUEUED, task_result_id=task_result_id)
                .first()
            )
            if job is None:
                continue
            job.enqueued_at = now
            job.save(update_fields=["enqueued_at", "updated_at"])
            _event(job, JobEvent.Event.REQUEUED, actor, message="Its queue task was lost.", at=now)
            _dispatch_on_commit(job.pk)
            report.redispatched.append(job.pk)
    return report


def _drop_if_unusable() -> None:
    """The database may have dropped this thread's connection while the handler failed on
    another (an import writes on its own thread): close a dead one, so that recording the
    failure opens a fresh one instead of failing too."""
    if connection.connection is not None and not connection.in_atomic_block:
        if not connection.is_usable():
            connection.close()


def job_execute(*, job_id: int, worker_id: str | None = None) -> str:
    """Run one attempt of a job (the queue task calls this). Never raises for a handler's
    failure: the job row records it and schedules the retry."""
    worker_id = worker_id or process_worker_id()
    job = job_claim(job_id=job_id, worker_id=worker_id)
    if job is None:
        return "skipped"
    try:
        definition = job_kind_get(job.kind)
        result = definition.handler(JobContext(job=job, worker_id=worker_id))
    except LeaseLost:
        logger.warning("job %s: lease lost by %s; another worker carries on", job_id, worker_id)
        return "lease-lost"
    except Exception as exc:
        permanent = isinstance(exc, (PermanentJobError, LookupError))
        # the first paragraph is what users are shown (the group order's `error`): a
        # permanent error's own words, otherwise the exception's class and message
        error = str(exc) if isinstance(exc, PermanentJobError) else f"{type(exc).__name__}: {exc}"
        logger.exception("job %s (%s) attempt %s failed", job_id, job.kind, job.attempts)
        _drop_if_unusable()
        try:
            job = job_fail(
                job_id=job_id,
                worker_id=worker_id,
                error=f"{error}\n\n{traceback.format_exc()[-4000:]}",
                retry=not permanent,
            )
        except LeaseLost:
            return "lease-lost"
        return job.status
    try:
        job_finish(job_id=job_id, worker_id=worker_id, result=result)
    except LeaseLost:
        return "lease-lost"
    return Job.Status.SUCCEEDED

"""django-tasks-db's `db_worker`, plus a heartbeat thread that reports the worker alive for
/health, keeps the leases of the jobs this process runs alive, and runs the job reaper."""

import logging
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as BaseWorkerCommand

from group_orders.services import worker_heartbeat, worker_heartbeats_prune
from group_orders.services.jobs import jobs_extend_leases, jobs_reap, process_worker_id_set

logger = logging.getLogger("orderdesk.worker")
HEARTBEAT_SECONDS = 15
REAP_SECONDS = 30


class Heartbeat(threading.Thread):
    def __init__(
        self,
        worker_id: str,
        *,
        interval: float = HEARTBEAT_SECONDS,
        reap_every: float = REAP_SECONDS,
    ) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.reap_every = reap_every
        self.started_at = timezone.now()
        self.stopped = threading.Event()
        self._last_reap = 0.0

    def beat(self) -> None:
        close_old_connections()
        worker_heartbeat(worker_id=self.worker_id, started_at=self.started_at)
        jobs_extend_leases(worker_id=self.worker_id)
        if time.monotonic() - self._last_reap >= self.reap_every:
            self._last_reap = time.monotonic()
            report = jobs_reap()
            if report.requeued or report.given_up or report.redispatched:
                logger.warning("job reaper: %s", report)

    def run(self) -> None:
        worker_heartbeats_prune()
        while not self.stopped.is_set():
            try:
                self.beat()
            except Exception:  # the database may be restarting; try again next beat
                logger.warning("worker heartbeat failed", exc_info=True)
            self.stopped.wait(self.interval)
        connection.close()


class Command(BaseWorkerCommand):
    help = (
        BaseWorkerCommand.help
        + ". Reports a heartbeat for /health, keeps its jobs' leases alive and reaps jobs of"
        " dead workers."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--heartbeat-seconds",
            type=float,
            default=HEARTBEAT_SECONDS,
            help="How often the worker reports itself and extends its leases (default 15).",
        )
        parser.add_argument(
            "--reap-seconds",
            type=float,
            default=REAP_SECONDS,
            help="How often this worker runs the job reaper (default 30).",
        )

    def handle(self, *args, **options):
        worker_id = options.get("worker_id") or f"worker-{timezone.now().timestamp():.0f}"
        options["worker_id"] = worker_id
        process_worker_id_set(str(worker_id))
        heartbeat = Heartbeat(
            str(worker_id)[:64],
            interval=options.pop("heartbeat_seconds"),
            reap_every=options.pop("reap_seconds"),
        )
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stopped.set()

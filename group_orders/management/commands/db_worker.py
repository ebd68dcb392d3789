"""django-tasks-db's `db_worker`, plus a heartbeat thread so /health knows a worker is alive."""

import logging
import threading

from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as BaseWorkerCommand

from group_orders.services import worker_heartbeat, worker_heartbeats_prune

logger = logging.getLogger("orderdesk.worker")
HEARTBEAT_SECONDS = 15


class Heartbeat(threading.Thread):
    def __init__(self, worker_id: str) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.stopped = threading.Event()

    def run(self) -> None:
        worker_heartbeats_prune()
        while not self.stopped.is_set():
            try:
                close_old_connections()
                worker_heartbeat(worker_id=self.worker_id, started_at=self.started_at)
            except Exception:  # the database may be restarting; try again next beat
                logger.warning("worker heartbeat failed", exc_info=True)
            self.stopped.wait(HEARTBEAT_SECONDS)
        connection.close()


class Command(BaseWorkerCommand):
    help = BaseWorkerCommand.help + " Reports a heartbeat for /health."

    def handle(self, *args, **options):
        worker_id = options.get("worker_id") or f"worker-{timezone.now().timestamp():.0f}"
        options["worker_id"] = worker_id
        heartbeat = Heartbeat(str(worker_id)[:64])
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stopped.set()

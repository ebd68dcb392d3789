"""Worker heartbeats: which job workers are alive (for /health)."""

import os
import socket
from datetime import datetime, timedelta

from django.utils import timezone

from group_orders.models import WorkerHeartbeat


def worker_heartbeat(*, worker_id: str, started_at: datetime) -> WorkerHeartbeat:
    """Record that a worker is alive now (insert or refresh its row)."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen_at": timezone.now(),
        },
    )
    return heartbeat


def worker_heartbeats_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget workers not seen for a day."""
    deleted, _ = WorkerHeartbeat.objects.filter(
        last_seen_at__lt=timezone.now() - older_than
    ).delete()
    return deleted

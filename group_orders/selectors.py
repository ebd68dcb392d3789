"""Reads for group orders and the job tracker."""

from datetime import datetime

from group_orders.models import WorkerHeartbeat


def worker_last_seen() -> datetime | None:
    """When any job worker last checked in."""
    return (
        WorkerHeartbeat.objects.order_by("-last_seen_at")
        .values_list("last_seen_at", flat=True)
        .first()
    )

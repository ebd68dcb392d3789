"""Whether the job tracker is running, for the admin: completions (and uploads) wait for a
worker, so staff are warned when none has checked in recently.

    {% load job_tracker %}{% job_tracker_warning %}

The rule is /health's: alive when a worker checked in within ORDERDESK_WORKER_STALE_SECONDS.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from group_orders.selectors import worker_last_seen

register = template.Library()


@dataclass(frozen=True)
class WorkerStatus:
    alive: bool
    last_seen: datetime | None
    stale_after: timedelta

    @property
    def warning(self) -> str | None:
        """What to tell staff when no worker is running, else None."""
        if self.alive:
            return None
        since = (
            f"since {timesince(self.last_seen, timezone.now())} ago"
            if self.last_seen
            else "ever (no heartbeat recorded)"
        )
        return (
            f"No job worker has checked in {since}: order completions and group-order "
            "imports wait until one runs. Start the job tracker with `manage.py db_worker`."
        )


def worker_status() -> WorkerStatus:
    """The job tracker's state from the workers' heartbeats (one query)."""
    stale_after = timedelta(seconds=settings.ORDERDESK_WORKER_STALE_SECONDS)
    seen = worker_last_seen()
    alive = seen is not None and timezone.now() - seen <= stale_after
    return WorkerStatus(alive=alive, last_seen=seen, stale_after=stale_after)


@register.simple_tag
def job_tracker_warning() -> str:
    """The admin's warning list item when no worker checked in recently, else nothing."""
    warning = worker_status().warning
    if warning is None:
        return ""
    return format_html(
        '<ul class="messagelist" id="job-tracker-warning"><li class="warning">{}</li></ul>',
        warning,
    )

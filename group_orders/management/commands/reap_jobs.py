"""Re-enqueue jobs whose worker died (lease expired) and queued jobs whose task was lost."""

from django.core.management.base import BaseCommand

from group_orders.services.jobs import jobs_reap


class Command(BaseCommand):
    help = (
        "Re-enqueue background jobs whose lease expired (their worker died) and queued jobs "
        "whose queue task was lost; give up on jobs with no attempts left. Every db_worker "
        "also does this on its own; this command is for cron or an operator."
    )

    def handle(self, *args, **options):
        report = jobs_reap()
        self.stdout.write(
            f"requeued {len(report.requeued)}, given up {len(report.given_up)}, "
            f"re-dispatched {len(report.redispatched)}"
        )
        for label, ids in (
            ("requeued", report.requeued),
            ("given up", report.given_up),
            ("re-dispatched", report.redispatched),
        ):
            if ids and options["verbosity"] > 1:
                self.stdout.write(f"  {label}: {', '.join(map(str, ids))}")

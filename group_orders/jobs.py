"""Job kinds of the group_orders app (discovered at start-up, see docs/jobs.md)."""

from group_orders.services.group_orders import IMPORT_JOB
from group_orders.services.imports import group_order_import_given_up, group_order_import_run
from group_orders.services.jobs import JobContext, job_kind


@job_kind(
    IMPORT_JOB,
    max_attempts=5,
    lease_seconds=120,
    backoff_base_seconds=15,
    on_give_up=group_order_import_given_up,
)
def group_order_import(ctx: JobContext) -> dict:
    """Import a group order's file (resumable: see group_orders.services.imports)."""
    return group_order_import_run(group_order_id=int(ctx.job.subject_id), ctx=ctx)

"""Job kinds of the orders app (discovered at start-up, see docs/jobs.md)."""

from group_orders.services.jobs import JobContext, job_kind
from orders.services.completion import (
    COMPLETION_JOB,
    order_completion_given_up,
    order_completion_run,
)


@job_kind(
    COMPLETION_JOB,
    max_attempts=5,
    lease_seconds=60,
    backoff_base_seconds=10,
    on_give_up=order_completion_given_up,
)
def order_completion(ctx: JobContext) -> dict:
    """Complete a flagged order, or record why it cannot (see orders.services.completion)."""
    return order_completion_run(
        order_id=int(ctx.job.subject_id), job_id=ctx.job.pk, params=ctx.job.params
    )

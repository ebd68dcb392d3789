"""Queue tasks. They carry only a job id; the job tracker owns the job's state."""

from django.tasks import task

from group_orders.services.jobs import job_execute


@task()
def run_job(job_id: int) -> str:
    """Run one attempt of a tracked job (any kind); see group_orders.services.jobs."""
    return job_execute(job_id=job_id)

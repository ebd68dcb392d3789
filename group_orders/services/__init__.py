"""Every write to group orders and the job tracker, by topic:

- `workers`: worker heartbeats (/health)
- `jobs`: the job tracker (enqueue, claim, heartbeat, finish, fail/retry, reap)
- `columns`, `uploads`: the columns of an order file and the checks of an upload
- `rows`: validating and normalising a row
- `reports`: the report writer process
- `imports`: the import job (batches, checkpoints, resume)
- `notifications`: the uploader's e-mail
- `group_orders`: submit an upload, a processor's update, re-run
"""

from group_orders.services.workers import worker_heartbeat, worker_heartbeats_prune

__all__ = ["worker_heartbeat", "worker_heartbeats_prune"]

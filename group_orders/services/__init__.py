"""Every write to group orders and the job tracker, by topic:

- `workers`: worker heartbeats (/health)
- `jobs`: the job tracker (enqueue, claim, heartbeat, finish, fail/retry, reap)
"""

from group_orders.services.workers import worker_heartbeat, worker_heartbeats_prune

__all__ = ["worker_heartbeat", "worker_heartbeats_prune"]

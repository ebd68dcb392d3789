"""Reads for stages: an order's history and transitions, stuck orders, the dashboard."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from config.api.errors import InvalidParam, NotFound
from orders.models import Order, OrderRequest
from orders.selectors import (
    customer_client_ids,
    order_visible_stub,
    orders_of_callers_clients,
    user_sees_every_order,
)
from stages.models import OrderStage, OrderStatus, Stage
from stages.services import transition_refusal

# The choices of the "stuck in stage" filter, in hours
STUCK_HOURS = (24, 48, 72, 168)


def order_get_for_stages(*, order_id: int, user: User | None = None) -> Order:
    """The order (not soft-deleted) with its current status; invalid-param (400) otherwise, also
    when `user` may not see it (another client's order)."""
    queryset = orders_of_callers_clients(Order.objects.filter(is_deleted=False), user)
    order = queryset.select_related("current_status__stage").filter(pk=order_id).first()
    if order is None:
        raise NotFound("order_id", f"There is no order {order_id}.")
    return order


def order_for_stage_post(*, order_id: int, user: User | None = None) -> Order:
    """The order a stage is posted for; 400 invalid-param naming `order_id` otherwise (also
    another client's order, for a caller who may not see it)."""
    # only its id: stage_record locks the order and reads it whole (with its customer)
    order = order_visible_stub(order_id=order_id, user=user)
    if order is None:
        raise InvalidParam("order_id", f"There is no order {order_id}.")
    return order


def order_request_for_stage_post(
    *, order_request_id: int, user: User | None = None
) -> OrderRequest:
    queryset = OrderRequest.objects.select_related("client")
    if not user_sees_every_order(user):
        queryset = queryset.filter(client_id__in=customer_client_ids(user=user))
    order_request = queryset.filter(pk=order_request_id).first()
    if order_request is None:
        raise InvalidParam("order_request_id", f"There is no order request {order_request_id}.")
    return order_request


def order_stage_history(*, order: Order) -> list[OrderStage]:
    """Every history row of the order, oldest first, in one query.

    Each row gets `chronological_previous` (the stage of the row before it in time) and
    `seconds_in_previous_stage`: for a row that changes the stage, the seconds since the
    previous stage began (consecutive rows of one stage count as one stay); None for the
    first row and for a row that repeats the stage it follows.
    """
    rows = list(
        OrderStage.objects.filter(order=order)
        .select_related(
            "stage", "previous_stage", "actor_user", "actor_application", "created_by_user"
        )
        .order_by("stage_at", "id")
    )
    stay_began: datetime | None = None
    before: OrderStage | None = None
    for row in rows:
        row.chronological_previous = before.stage if before is not None else None
        row.seconds_in_previous_stage = None
        if before is None or row.stage_id != before.stage_id:
            if stay_began is not None:
                row.seconds_in_previous_stage = round((row.stage_at - stay_began).total_seconds())
            stay_began = row.stage_at
        before = row
    return rows


@dataclass(frozen=True)
class RefusedStage:
    stage: Stage
    reason: str


@dataclass(frozen=True)
class OrderTransitions:
    order: Order
    status: OrderStatus | None
    allowed: list[Stage]
    refused: list[RefusedStage]


def order_transitions(*, order: Order) -> OrderTransitions:
    """The active stages the order may move to now, and why each other one is refused.

    The current stage is in neither list (recording it again is always allowed). An order
    without a status may take any stage. Three queries, whatever the catalogue's size.
    """
    status = OrderStatus.objects.select_related("stage").filter(order=order).first()
    current = status.stage if status is not None else None
    allowed_ids = (
        set(current.allowed_next.values_list("pk", flat=True)) if current is not None else set()
    )
    allowed, refused = [], []
    for stage in Stage.objects.filter(is_active=True).order_by("position", "id"):
        if current is not None and stage.pk == current.pk:
            continue
        reason = transition_refusal(current, stage, allowed_next_ids=allowed_ids)
        if reason is None:
            allowed.append(stage)
        else:
            refused.append(RefusedStage(stage=stage, reason=reason))
    return OrderTransitions(order=order, status=status, allowed=allowed, refused=refused)


def orders_stuck_in_stage(
    queryset: QuerySet[Order], *, hours: int, now: datetime | None = None
) -> QuerySet[Order]:
    """Orders whose current stage was recorded more than `hours` ago, outside final stages."""
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    return queryset.filter(
        current_status__stage_at__lt=cutoff, current_status__stage__is_terminal=False
    )


@dataclass(frozen=True)
class StageSummary:
    stage: Stage
    orders: int  # orders whose current stage this is
    stays: int  # finished stays in this stage counted for the median
    median_seconds: float | None


# A "stay" is a run of consecutive history rows of one stage for one order; it ends when
# the next stage begins. Durations of finished stays, for orders not deleted.
_STAYS_SQL = """
WITH marked AS (
    SELECT s.order_id, s.stage_id, s.stage_at, s.id,
           CASE WHEN LAG(s.stage_id) OVER (
                    PARTITION BY s.order_id ORDER BY s.stage_at, s.id
                ) = s.stage_id THEN 0 ELSE 1 END AS starts
    FROM {stages} s JOIN {orders} o ON o.id = s.order_id
    WHERE o.is_deleted = %s
), numbered AS (
    SELECT order_id, stage_id, stage_at,
           SUM(starts) OVER (
               PARTITION BY order_id ORDER BY stage_at, id ROWS UNBOUNDED PRECEDING
           ) AS stay
    FROM marked
), stays AS (
    SELECT order_id, stay, MIN(stage_id) AS stage_id, MIN(stage_at) AS began_at
    FROM numbered GROUP BY order_id, stay
), spans AS (
    SELECT stage_id, began_at,
           LEAD(began_at) OVER (PARTITION BY order_id ORDER BY stay) AS ended_at
    FROM stays
), durations AS (
    SELECT stage_id, {seconds} AS seconds
    FROM spans
    WHERE ended_at IS NOT NULL {since}
)
"""

_MEDIAN_POSTGRESQL = """
SELECT stage_id, COUNT(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
FROM durations GROUP BY stage_id
"""

# No percentile_cont on SQLite: the middle row (or the mean of the two middle rows).
_MEDIAN_FALLBACK = """
, ranked AS (
    SELECT stage_id, seconds,
           ROW_NUMBER() OVER (PARTITION BY stage_id ORDER BY seconds) AS position,
           COUNT(*) OVER (PARTITION BY stage_id) AS total
    FROM durations
)
SELECT stage_id, MAX(total), AVG(seconds)
FROM ranked
WHERE position IN ((total + 1) / 2, (total + 2) / 2)
GROUP BY stage_id
"""


# Seconds since the epoch with milliseconds (SQLite 3.40 has no unixepoch(..., 'subsec')):
# %s whole seconds, plus the fraction of %f ("SS.SSS") over %S ("SS"); %% for the driver.
_SQLITE_EPOCH = (
    "(CAST(strftime('%%s', {0}) AS REAL) + CAST(strftime('%%f', {0}) AS REAL)"
    " - CAST(strftime('%%S', {0}) AS INTEGER))"
)


def _median_stay_seconds(*, since: datetime | None) -> dict[int, tuple[int, float]]:
    """stage id → (finished stays, median seconds), in one aggregate query."""
    postgres = connection.vendor == "postgresql"
    seconds = (
        "EXTRACT(EPOCH FROM (ended_at - began_at))"
        if postgres
        else f"({_SQLITE_EPOCH.format('ended_at')} - {_SQLITE_EPOCH.format('began_at')})"
    )
    params: list = [False]
    since_sql = ""
    if since is not None:
        since_sql = "AND ended_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    sql = _STAYS_SQL.format(
        stages=connection.ops.quote_name(OrderStage._meta.db_table),
        orders=connection.ops.quote_name(Order._meta.db_table),
        seconds=seconds,
        since=since_sql,
    ) + (_MEDIAN_POSTGRESQL if postgres else _MEDIAN_FALLBACK)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            stage_id: (int(count), round(float(median), 3)) for stage_id, count, median in cursor
        }


def stage_dashboard(*, since: datetime | None = None) -> list[StageSummary]:
    """Per active stage: orders currently in it, and the median time an order spends in it
    (stays that ended at or after `since`, all when None). Three queries."""
    counts = dict(
        OrderStatus.objects.filter(order__isnull=False, order__is_deleted=False)
        .values("stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )
    medians = _median_stay_seconds(since=since)
    summaries = []
    for stage in Stage.objects.filter(is_active=True).order_by("position", "id"):
        stays, median = medians.get(stage.pk, (0, None))
        summaries.append(
            StageSummary(
                stage=stage, orders=counts.get(stage.pk, 0), stays=stays, median_seconds=median
            )
        )
    return summaries

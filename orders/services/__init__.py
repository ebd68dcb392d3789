"""Every write to orders: create (one or many), update, hold, release, mark invalid, delete,
assign, request completion and complete (`completion`).

What callers may rely on:
- every service takes keyword arguments only and an `Actor`; the Order's simple-history row
  records the actor's user (`history_user`) and, in `history_change_reason`, what was done and
  by whom (also for applications and the system, which have no user of their own);
- a state change locks the order row (`select_for_update`), does nothing when nothing
  changes, bumps `version`, and saves only the fields it changed;
- a soft-deleted order refuses every change with `invalid-param` naming `order_id`;
- bad input raises `InvalidParam` naming the field before anything is written; the services
  are atomic, so nothing is ever partially saved;
- the stage of an order changes only through `stages.services.stage_record`.
"""

from orders.services.changes import (
    ORDER_UPDATABLE_FIELDS,
    TRIGGER_UPDATED,
    order_assign,
    order_changes_check,
    order_hard_delete,
    order_hold,
    order_mark_invalid,
    order_release,
    order_soft_delete,
    order_update,
)
from orders.services.completion import (
    COMPLETION_JOB,
    CompletionRefused,
    CompletionRequested,
    job_flow_rule_unmet,
    order_completed_notify,
    order_completion_given_up,
    order_completion_request,
    order_completion_run,
)
from orders.services.create import (
    BULK_BATCH_SIZE,
    TRIGGER_CREATED,
    TRIGGER_IMPORTED,
    CreatedOrder,
    PreparedOrders,
    order_create,
    orders_bulk_prepare,
    orders_bulk_write,
    orders_create_bulk,
)
from orders.services.drafts import (
    LineDraft,
    OrderColumns,
    OrderDraft,
    TotalDraft,
    order_draft_check,
    order_drafts_many,
)
from orders.services.numbers import order_numbers_allocate
from orders.services.parts import OrderPart, order_part_delete, order_part_save

__all__ = [
    "BULK_BATCH_SIZE",
    "CreatedOrder",
    "PreparedOrders",
    "COMPLETION_JOB",
    "ORDER_UPDATABLE_FIELDS",
    "TRIGGER_CREATED",
    "TRIGGER_IMPORTED",
    "TRIGGER_UPDATED",
    "CompletionRefused",
    "CompletionRequested",
    "LineDraft",
    "OrderColumns",
    "OrderDraft",
    "OrderPart",
    "TotalDraft",
    "job_flow_rule_unmet",
    "order_assign",
    "order_changes_check",
    "order_create",
    "order_completed_notify",
    "order_completion_given_up",
    "order_completion_request",
    "order_completion_run",
    "order_draft_check",
    "order_drafts_many",
    "order_hard_delete",
    "order_hold",
    "order_mark_invalid",
    "order_numbers_allocate",
    "order_part_delete",
    "order_part_save",
    "order_release",
    "order_soft_delete",
    "order_update",
    "orders_bulk_prepare",
    "orders_bulk_write",
    "orders_create_bulk",
]

"""The import of a group order's file: stream, validate, create orders in batches, report.

What callers may rely on:
- The file is read as a stream (CSV one record at a time; XLSX through calamine) in batches
  of `batch_size` data rows; memory does not grow with the file.
- Each batch commits in ONE transaction: its orders (through
  `orders.services.orders_create_bulk`, with their status and first stage-history rows, the
  actor being the uploader), its `RejectedRow`s, its `ImportBatch` checkpoint and the group
  order's counts and progress. So the counts always equal what the database holds.
- Run again after being killed at any point, the import skips the batches it finds
  checkpointed, replays them into the report files from the file and the checkpoints, and
  carries on: exact counts, no order created twice. Two runners of one import cannot both
  commit a batch (row lock on the group order + unique checkpoint). Killed after `complete`
  but before its job was marked done, the next attempt only sends the e-mail if it is owed.
- The three report files are written by a separate process while the import runs, then
  stored; the group order becomes `complete` and the uploader gets an e-mail. An e-mail that
  cannot be sent is recorded on the group order (`email_error`); the import stands.
"""

import gc
import logging
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import IntegrityError, connection, connections, reset_queries, transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.actors import Actor
from config.api.errors import InvalidParam
from group_orders.models import GroupOrder, ImportBatch, RejectedRow, reasons_text
from group_orders.services.columns import COLUMN_NAMES
from group_orders.services.jobs import JobContext, LeaseLost, PermanentJobError
from group_orders.services.notifications import group_order_completed_notify
from group_orders.services.reports import ReportWriterProcess
from group_orders.services.rows import Catalogue, RowNormaliser, report_columns, storable
from group_orders.services.uploads import max_upload_bytes, setting, xlsx_stream_above
from group_orders.spreadsheets import csv_rows, is_blank, xlsx_rows
from orders.models import Order
from orders.selectors import orders_of_callers_clients
from orders.services import (
    OrderColumns,
    PreparedOrders,
    orders_bulk_prepare,
    orders_bulk_write,
)

logger = logging.getLogger("orderdesk.group_orders")

DEFAULT_BATCH_SIZE = 2000
MAX_BATCH_RETRIES = 10
_ROW_PARAM = re.compile(r"^rows\.(\d+)\.")


def batch_size_setting() -> int:
    return int(setting("BATCH_SIZE", DEFAULT_BATCH_SIZE))


def import_actor(group_order: GroupOrder) -> Actor:
    """Orders of an upload are created by its uploader (in the application used)."""
    if group_order.uploader_id:
        return Actor.for_user(group_order.uploader, group_order.application)
    return Actor.system(f"group order {group_order.public_id}")


# --------------------------------------------------------------------------- reading


@dataclass
class SourceRow:
    number: int  # as in the file: header = 1 for CSV records, Excel's row number for XLSX
    cells: list[Any]


@dataclass
class FileReader:
    """The header cells and the data rows (blank rows skipped) of a group order's file."""

    group_order: GroupOrder
    progress: dict[str, int] = field(default_factory=lambda: {"done": 0, "total": 0})
    header: list[Any] = field(default_factory=list)

    def rows(self) -> Iterator[SourceRow]:
        group_order = self.group_order
        try:
            stream = group_order.file.open("rb")
        except FileNotFoundError:
            raise PermanentJobError("The uploaded file is no longer in the storage.") from None
        try:
            if group_order.file_format == "xlsx":
                records = xlsx_rows(
                    stream, progress=self.progress, stream_above=xlsx_stream_above()
                )
            else:
                self.progress["total"] = group_order.file_size or 1
                records = csv_rows(
                    stream,
                    encoding=group_order.encoding or "utf-8",
                    delimiter=group_order.delimiter or ",",
                    field_size_limit=max_upload_bytes(),
                    progress=self.progress,
                )
            for number, cells in records:
                if is_blank(cells):
                    continue
                if not self.header:
                    self.header = cells
                    continue
                yield SourceRow(number, cells)
        finally:
            stream.close()

    @property
    def percent(self) -> int:
        total = self.progress["total"] or 1
        return min(99, int(self.progress["done"] * 100 / total))


def _batches(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    batch: list[SourceRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --------------------------------------------------------------------------- one batch


@dataclass
class _Accepted:
    row: SourceRow
    values: dict[str, Any]


@dataclass
class _Rejected:
    row: SourceRow
    reasons: list[str]
    external_id: str = ""


@dataclass
class BatchOutcome:
    accepted: list[list[Any]]  # report columns: order numbers, source rows, *value columns
    rejected: list[list[Any]]  # report rows: [reason, source row, *original cells]
    rows: int


@dataclass
class CommittedBatch:
    """A batch as the database holds it: its accepted rows with their orders' numbers, and
    its rejected rows. The writer thread returns it; the reading thread turns it into report
    rows (`outcome`), so that the writer goes on to the next batch at once."""

    numbers: list[str]
    accepted: list["_Accepted"]
    rejected: list["_Rejected"]
    rows: int

    def outcome(self) -> BatchOutcome:
        """What the report files show of the batch: its orders' numbers with their rows'
        values (column by column), and its rejected rows with their reasons."""
        if len(self.numbers) != len(self.accepted):
            raise ValueError(f"{len(self.numbers)} order numbers for {len(self.accepted)} rows")
        return BatchOutcome(
            accepted=[
                list(self.numbers),
                [item.row.number for item in self.accepted],
                *report_columns([item.values for item in self.accepted]),
            ],
            rejected=[_rejected_report_row(item) for item in self.rejected],
            rows=self.rows,
        )


def _json_cell(cell: Any) -> Any:
    """A rejected row's cell as JSON can store it (a NUL, which no database text can hold,
    as U+FFFD)."""
    if cell is None or isinstance(cell, (str, int, float, bool)):
        if isinstance(cell, str):
            return storable(cell)[:32767]
        return cell
    if hasattr(cell, "isoformat"):
        return cell.isoformat()
    return str(cell)


# the OrderDraft fields an order file fills, by canonical column (the rest: defaults)
_DRAFT_FIELDS_FROM_FILE = (
    "first_name",
    "last_name",
    "email",
    "telephone",
    "comment",
    "notify",
    "order_type",
    "order_date",
    "order_time",
    "payment",
    "location",
    "service_type",
    "services_addons",
    "delivery_rush",
    "due_date",
    "notes",
    "external_id",
    "order_total",
)


def _order_columns(accepted: list["_Accepted"], group_order: GroupOrder) -> OrderColumns:
    """The accepted rows' orders, column by column (no OrderDraft per row)."""
    values = [item.values for item in accepted]
    columns = {name: list(map(itemgetter(name), values)) for name in _DRAFT_FIELDS_FROM_FILE}
    columns["external_id"] = [external_id or None for external_id in columns["external_id"]]
    return OrderColumns(
        count=len(values), columns=columns, constants={"customer": group_order.client}
    )


@dataclass
class CheckedBatch:
    """A batch read, normalised and made ready (no write yet): each row with its values and
    the reasons found so far (duplicates inside the batch among them), and the orders of
    the rows without one, prepared (keys taken, rows made) for the writer."""

    index: int
    rows: list[SourceRow]
    checked: list[tuple[SourceRow, dict[str, Any], list[str]]]
    first_row_of: dict[str, int]  # external id -> the batch row that has it first
    percent: int
    candidates: list[_Accepted]  # the rows with no reason so far, in file order
    rejected: list[_Rejected]  # the others
    prepared: PreparedOrders | None  # the candidates' orders; the first try writes them


class BatchImporter:
    """Checks and commits the batches of one import run.

    `check` needs no transaction (the reading thread: normalising, and the orders' rows made
    ready); `run` writes (the writer: the external ids checked against the database, then
    the prepared rows written, in one transaction per batch).
    """

    def __init__(self, *, group_order: GroupOrder, normaliser: RowNormaliser, actor: Actor):
        self.group_order = group_order
        self.normaliser = normaliser
        self.actor = actor
        self.insert_seconds = 0.0

    def check(self, index: int, batch: list[SourceRow], percent: int) -> CheckedBatch:
        first_row_of: dict[str, int] = {}
        checked: list[tuple[SourceRow, dict[str, Any], list[str]]] = []
        normalised = self.normaliser.normalise_many([row.cells for row in batch])
        for row, (values, errors) in zip(batch, normalised, strict=True):
            external_id = values.get("external_id") or ""
            if external_id:
                if external_id in first_row_of:
                    errors.append(
                        f"external_id: '{external_id}' is also on row "
                        f"{first_row_of[external_id]} of this file."
                    )
                else:
                    first_row_of[external_id] = row.number
            checked.append((row, values, errors))
        candidates, rejected = [], []
        for row, values, errors in checked:
            if errors:
                rejected.append(_Rejected(row, errors, values.get("external_id") or ""))
            else:
                candidates.append(_Accepted(row, values))
        return CheckedBatch(
            index=index,
            rows=batch,
            checked=checked,
            first_row_of=first_row_of,
            percent=percent,
            candidates=candidates,
            rejected=rejected,
            prepared=self._prepare(candidates),
        )

    def _prepare(self, accepted: list[_Accepted]) -> PreparedOrders | None:
        if not accepted:
            return None
        # checked: the normaliser applies the draft rules to every cell, and `_classify`
        # checks the external ids in the writing transaction
        return orders_bulk_prepare(
            rows=_order_columns(accepted, self.group_order),
            actor=self.actor,
            group_order=self.group_order,
            record_history=False,
            checked=True,
        )

    def _classify(
        self, batch: CheckedBatch, refused: dict[int, str], *, orders: bool
    ) -> tuple[list[_Accepted], list[_Rejected]]:
        """Accepted and rejected rows, now that the database says which ids are taken by
        earlier rows (and, with `orders`, by orders; on a retry, which rows the database
        refused)."""
        first_row_of = batch.first_row_of
        clashes = self._external_id_clashes(list(first_row_of), orders=orders)
        if not clashes and not refused:
            return list(batch.candidates), list(batch.rejected)
        accepted: list[_Accepted] = []
        rejected: list[_Rejected] = []
        for row, values, errors in batch.checked:
            external_id = values.get("external_id") or ""
            clash = clashes.get(external_id)
            if clash and first_row_of.get(external_id) == row.number:
                errors = [*errors, clash]
            if row.number in refused:
                errors = [*errors, refused[row.number]]
            if errors:
                rejected.append(_Rejected(row, errors, external_id))
            else:
                accepted.append(_Accepted(row, values))
        return accepted, rejected

    def _external_id_clashes(
        self, external_ids: list[str], *, orders: bool = True
    ) -> dict[str, str]:
        """Why each of these external ids is taken: by an earlier (rejected) row of the file,
        or (`orders`) by an order."""
        if not external_ids:
            return {}
        clashes: dict[str, str] = {}
        earlier = (
            RejectedRow.objects.filter(
                group_order=self.group_order, external_id__any_of=external_ids
            )
            .order_by("row_number")
            .values_list("external_id", "row_number")
        )
        for external_id, row_number in earlier:
            clashes.setdefault(
                external_id,
                f"external_id: '{external_id}' is also on row {row_number} of this file.",
            )
        if not orders:
            return clashes
        existing = list(
            Order.objects.filter(external_id__any_of=external_ids).values_list(
                "external_id", "group_order_id", "number", "pk"
            )
        )
        others = [
            pk for _, group_order_id, _, pk in existing if group_order_id != self.group_order.pk
        ]
        # the uploader learns the number of an order they may see, not another client's
        seen = (
            set(
                orders_of_callers_clients(
                    Order.objects.filter(pk__in=others), self.group_order.uploader
                ).values_list("pk", flat=True)
            )
            if others
            else set()
        )
        for external_id, group_order_id, number, pk in existing:
            if group_order_id == self.group_order.pk:
                clashes[external_id] = (
                    f"external_id: '{external_id}' is also on an earlier row of this file "
                    f"(order {number})."
                )
            else:
                which = f" (order {number})" if pk in seen else ""
                clashes[external_id] = (
                    f"external_id: an order with external_id '{external_id}' already exists{which}."
                )
        return clashes

    def run(self, batch: CheckedBatch) -> CommittedBatch | None:
        """Commit one checked batch; None when another runner committed it already.

        The external ids are checked against the database inside the batch's transaction.
        A row the orders service still refuses, or whose external id a concurrent import
        took first, is rejected with that reason and the batch committed again without it.
        """
        refused: dict[int, str] = {}  # row number -> why the database refused it
        # on PostgreSQL the first try leaves finding an external id an order has to the
        # unique index (a file seldom repeats one): the query that names the order runs on
        # the retry (elsewhere the orders service would refuse one row per try)
        look_up_orders = connection.vendor != "postgresql"
        for _attempt in range(MAX_BATCH_RETRIES):
            started = time.perf_counter()
            accepted: list[_Accepted] = []
            try:
                with transaction.atomic():
                    if self._committed_already(batch.index):
                        return None
                    accepted, rejected = self._classify(batch, refused, orders=look_up_orders)
                    prepared, batch.prepared = batch.prepared, None  # written at most once
                    if len(accepted) != len(batch.candidates) or prepared is None:
                        prepared = self._prepare(accepted)  # some were refused: without them
                    numbers = self._write(batch, prepared, accepted, rejected)
            except InvalidParam as exc:
                # the orders service refused a row our checks let through: reject that row
                refused.update(self._named_rows(exc, accepted))
                continue
            except IntegrityError:
                # an external id was taken by a concurrent import between check and insert;
                # the next try's check sees it
                taken = self._external_id_clashes(
                    [item.values["external_id"] for item in accepted if item.values["external_id"]]
                )
                if not taken:
                    raise
                look_up_orders = True
                continue
            finally:
                self.insert_seconds += time.perf_counter() - started
            return CommittedBatch(numbers, accepted, rejected, rows=len(batch.rows))
        raise RuntimeError(
            f"Batch {batch.index} could not be committed after {MAX_BATCH_RETRIES} tries."
        )

    def _committed_already(self, index: int) -> bool:
        """Lock the group order (one committer at a time) and look for the checkpoint."""
        if connection.vendor == "postgresql":
            # COMMIT need not wait for the disk: a batch a server crash loses is lost with
            # its checkpoint, so the job's next run imports it again
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        GroupOrder.objects.select_for_update().only("pk").get(pk=self.group_order.pk)
        return ImportBatch.objects.filter(group_order=self.group_order, index=index).exists()

    def _write(
        self,
        batch: CheckedBatch,
        prepared: PreparedOrders | None,
        accepted: list[_Accepted],
        rejected: list[_Rejected],
    ) -> list[str]:
        """The batch's orders, rejected rows, checkpoint and counts (in the caller's
        transaction); the new orders' numbers."""
        group_order = self.group_order
        index = batch.index
        orders = orders_bulk_write(prepared) if prepared is not None else []
        RejectedRow.objects.bulk_create(
            [
                RejectedRow(
                    group_order=group_order,
                    batch_index=index,
                    row_number=item.row.number,
                    external_id=item.external_id[:120],
                    cells=[_json_cell(cell) for cell in item.row.cells],
                    reasons=item.reasons,
                )
                for item in rejected
            ]
        )
        numbers = [order.number for order in orders]
        rows = batch.rows
        ImportBatch.objects.create(
            group_order=group_order,
            index=index,
            first_row=rows[0].number,
            last_row=rows[-1].number,
            rows=len(rows),
            accepted=len(accepted),
            rejected=len(rejected),
            order_numbers=numbers,
        )
        GroupOrder.objects.filter(pk=group_order.pk).update(
            total_orders=F("total_orders") + len(rows),
            successful_orders=F("successful_orders") + len(accepted),
            rejected_orders=F("rejected_orders") + len(rejected),
            processed_rows=rows[-1].number,
            progress=batch.percent,
            updated_at=timezone.now(),
        )
        return numbers

    @staticmethod
    def _named_rows(exc: InvalidParam, accepted: list[_Accepted]) -> dict[int, str]:
        """Row number -> reason, for the rows (`rows.<position>.<field>`) an error names."""
        named = {}
        for param, messages in exc.errors.items():
            match = _ROW_PARAM.match(param)
            if match and int(match.group(1)) < len(accepted):
                field_name = param[match.end() :]
                row = accepted[int(match.group(1))].row
                named[row.number] = f"{field_name}: {' '.join(messages)}"
        if not named:
            raise exc
        return named


def _rejected_report_row(item: _Rejected) -> list[Any]:
    # str(): an UnreadableCell goes to the report as the blank it reads as
    cells = [storable(str(cell)) if isinstance(cell, str) else cell for cell in item.row.cells]
    return [reasons_text(item.reasons), item.row.number, *cells]


def _replay(
    *, group_order: GroupOrder, checkpoint: ImportBatch, batch: CheckedBatch
) -> CommittedBatch:
    """A batch committed by an earlier run, from the file and the checkpoint (which rows
    were rejected and why, which order numbers the others got)."""
    rows = batch.rows
    if (checkpoint.first_row, checkpoint.last_row, checkpoint.rows) != (
        rows[0].number,
        rows[-1].number,
        len(rows),
    ):
        raise PermanentJobError(
            f"The file no longer matches the checkpoint of batch {checkpoint.index}: "
            "it changed since the import began."
        )
    reasons = dict(
        RejectedRow.objects.filter(
            group_order=group_order, batch_index=checkpoint.index
        ).values_list("row_number", "reasons")
    )
    numbers = iter(
        ImportBatch.objects.filter(pk=checkpoint.pk).values_list("order_numbers", flat=True).get()
    )
    accepted: list[_Accepted] = []
    rejected: list[_Rejected] = []
    for row, values, _ in batch.checked:
        if row.number in reasons:
            rejected.append(_Rejected(row, reasons[row.number]))
        else:
            accepted.append(_Accepted(row, values))
    numbers_of_accepted = [next(numbers, "") for _ in accepted]
    return CommittedBatch(numbers_of_accepted, accepted, rejected, rows=len(rows))


class BatchPipeline:
    """Hands checked batches, in order, to `commit`: on PostgreSQL outside a transaction in
    one writer thread with its own connection (the database inserts batch N while this
    thread reads and checks batch N+1), at most `depth` batches ahead; elsewhere inline.
    What `commit` returns goes to `committed`, in file order, in the thread that submits:
    the writer thread does nothing but write.

    One writer keeps the batches committing in file order, which the duplicate checks
    against earlier batches and the report files rely on; after a batch fails, the batches
    queued behind it are not written (a later run resumes at the failed one).
    """

    def __init__(
        self,
        commit: Callable[[CheckedBatch], CommittedBatch],
        committed: Callable[[CommittedBatch], None],
        *,
        depth: int = 2,
    ) -> None:
        self.commit = commit
        self.committed = committed
        self.depth = depth
        threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.executor = ThreadPoolExecutor(max_workers=1) if threaded else None
        self.pending: deque[Future] = deque()
        self.failed = False

    def _commit_in_order(self, batch: CheckedBatch) -> CommittedBatch:
        if self.failed:
            raise RuntimeError(f"Batch {batch.index} not written: an earlier batch failed.")
        try:
            return self.commit(batch)
        except BaseException:
            self.failed = True
            raise

    def submit(self, batch: CheckedBatch) -> None:
        if self.executor is None:
            self.committed(self.commit(batch))
            return
        while len(self.pending) >= self.depth:
            self._collect()
        self.pending.append(self.executor.submit(self._commit_in_order, batch))

    def _collect(self) -> None:
        self.committed(self.pending.popleft().result())  # re-raises the writer's error here

    def finish(self) -> None:
        """Wait for every batch; the writer's first error is raised here."""
        try:
            while self.pending:
                self._collect()
        finally:
            self.close()

    def close(self) -> None:
        if self.executor is None:
            return
        for future in self.pending:
            future.cancel()
        # the writer thread's connection: nothing else would close it
        self.executor.submit(connections.close_all).result()
        self.executor.shutdown()
        self.executor = None


# --------------------------------------------------------------------------- the run


def _mark_started(group_order: GroupOrder, ctx: JobContext | None) -> GroupOrder:
    with transaction.atomic():
        locked = GroupOrder.objects.select_for_update().get(pk=group_order.pk)
        locked.status = GroupOrder.Status.PROCESSING
        locked.started_at = locked.started_at or timezone.now()
        locked.error = ""
        fields = ["status", "started_at", "error", "updated_at"]
        if ctx is not None and locked.job_id != ctx.job.pk:
            locked.job_id = ctx.job.pk
            fields.append("job")
        locked.save(update_fields=fields)
    return locked


def _store_reports(group_order: GroupOrder, paths: dict[str, Path]) -> dict[str, str]:
    """Copy the report files into the storage; the names to set on the group order."""
    stored: dict[str, str] = {}
    suffix = {
        "normalized_csv": "normalized.csv",
        "accepted_orders_xlsx": "accepted-orders.xlsx",
        "rejected_orders_xlsx": "rejected-orders.xlsx",
    }
    for name, path in paths.items():
        file_field = getattr(group_order, name)
        with open(path, "rb") as handle:
            file_field.save(f"{group_order.public_id}-{suffix[name]}", File(handle), save=False)
        stored[name] = file_field.name
    return stored


def _complete(
    group_order: GroupOrder, stored: dict[str, str], timings: dict[str, Any], actor: Actor
) -> GroupOrder:
    with transaction.atomic():
        locked = GroupOrder.objects.select_for_update().get(pk=group_order.pk)
        old_files = [
            getattr(locked, name).name
            for name in stored
            if getattr(locked, name).name and getattr(locked, name).name != stored[name]
        ]
        totals = ImportBatch.objects.filter(group_order=locked).aggregate(
            rows=Sum("rows"), accepted=Sum("accepted"), rejected=Sum("rejected")
        )
        locked.total_orders = totals["rows"] or 0
        locked.successful_orders = totals["accepted"] or 0
        locked.rejected_orders = totals["rejected"] or 0
        for name, value in stored.items():
            setattr(locked, name, value)
        locked.status = GroupOrder.Status.COMPLETE
        locked.progress = 100
        locked.finished_at = timezone.now()
        locked.timings = timings
        locked.email_owed()  # this completion is announced, whatever was announced before
        locked.version += 1
        locked._change_reason = f"Import complete ({actor.display})"[:100]
        locked.save()
        storage = locked.normalized_csv.storage
        transaction.on_commit(lambda: [storage.delete(name) for name in old_files])
    return locked


@contextmanager
def _tuned_for_bulk_work() -> Iterator[None]:
    """While an import runs in this process: the interpreter hands the GIL to the writer
    thread soon after its database call returns (0.5 ms instead of 5: the database would
    otherwise wait on the reading thread's turn), and the cyclic garbage collector runs
    every 50,000 new objects instead of 2,000 (an import makes millions and holds no
    cycles; the collector's passes cost a third of building its rows). Both restored after."""
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(0.0005)
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)


def group_order_import_run(*, group_order_id: int, ctx: JobContext | None = None) -> dict:
    """Import (or resume importing) a group order's file; see the module docstring.

    Returns a summary (counts, timings) that the job tracker stores as the job's result.
    """
    with _tuned_for_bulk_work():
        return _import_run(group_order_id=group_order_id, ctx=ctx)


def _completed_by_an_earlier_attempt(group_order: GroupOrder, ctx: JobContext | None) -> bool:
    """This job's previous attempt completed the import and its worker died before the job
    was marked done: nothing is left to do but the e-mail, if it was not sent. (A re-run is
    a new job; an admin's retry of a finished job starts again at attempt 1.)"""
    return (
        ctx is not None
        and ctx.job.attempts > 1
        and group_order.job_id == ctx.job.pk
        and group_order.status == GroupOrder.Status.COMPLETE
    )


def _summary(group_order: GroupOrder) -> dict:
    return {
        "group_order": str(group_order.public_id),
        "total_orders": group_order.total_orders,
        "successful_orders": group_order.successful_orders,
        "rejected_orders": group_order.rejected_orders,
        "timings": group_order.timings,
    }


def _import_run(*, group_order_id: int, ctx: JobContext | None) -> dict:
    started = time.perf_counter()
    group_order = GroupOrder.objects.select_related("uploader", "application", "client").get(
        pk=group_order_id
    )
    if _completed_by_an_earlier_attempt(group_order, ctx):
        group_order_completed_notify(group_order_id=group_order.pk)
        return _summary(group_order)
    group_order = _mark_started(group_order, ctx)
    actor = import_actor(group_order)
    normaliser = RowNormaliser(
        columns=group_order.columns, catalogue=Catalogue.load(), today=timezone.localdate()
    )
    importer = BatchImporter(group_order=group_order, normaliser=normaliser, actor=actor)
    done = {
        checkpoint.index: checkpoint
        for checkpoint in ImportBatch.objects.filter(group_order=group_order).defer("order_numbers")
    }
    reader = FileReader(group_order)
    rows = reader.rows()
    first = next(rows, None)  # reads the header too
    writer = ReportWriterProcess(columns=list(COLUMN_NAMES), rejected_header=reader.header)
    counts = {"replayed": 0, "imported": 0}

    def commit(batch: CheckedBatch) -> CommittedBatch:
        checkpoint = done.get(batch.index)
        if checkpoint is not None:
            committed = _replay(group_order=group_order, checkpoint=checkpoint, batch=batch)
            counts["replayed"] += 1
        else:
            committed = importer.run(batch)
            if committed is None:  # another runner holds this import: let it finish
                raise LeaseLost(f"Batch {batch.index} was committed by another runner.")
            counts["imported"] += 1
        reset_queries()  # DEBUG keeps every query; an import would fill memory with them
        return committed

    def report(committed: CommittedBatch) -> None:
        outcome = committed.outcome()
        writer.write(outcome.accepted, outcome.rejected)

    pipeline = BatchPipeline(commit, report)
    try:
        pending = [first] if first is not None else []
        size = group_order.batch_size or batch_size_setting()
        for index, batch in enumerate(_batches(_chain(pending, rows), size)):
            if ctx is not None and index not in done:
                ctx.heartbeat()
            pipeline.submit(importer.check(index, batch, reader.percent))
        pipeline.finish()
        rows_seconds = time.perf_counter() - started
        waited = time.perf_counter()
        report = writer.finish()
        reports_wait = time.perf_counter() - waited
        store_started = time.perf_counter()
        stored = _store_reports(group_order, report["paths"])
        store_seconds = time.perf_counter() - store_started
    except BaseException:
        pipeline.close()
        writer.abort()
        raise
    writer.cleanup()
    total_seconds = time.perf_counter() - started
    totals = ImportBatch.objects.filter(group_order=group_order).aggregate(rows=Sum("rows"))
    timings = {
        "seconds": round(total_seconds, 3),
        "read_validate_insert_seconds": round(rows_seconds, 3),
        "insert_seconds": round(importer.insert_seconds, 3),
        "reports_wait_seconds": round(reports_wait, 3),
        "reports_writer_seconds": report.get("seconds"),
        "reports_writer_peak_mb": round(report.get("peak_rss_kb", 0) / 1024, 1),
        "store_seconds": round(store_seconds, 3),
        "rows_per_second": round((totals["rows"] or 0) / total_seconds) if total_seconds else 0,
        "batches_imported": counts["imported"],
        "batches_replayed": counts["replayed"],
        "attempt": ctx.job.attempts if ctx is not None else None,
    }
    group_order = _complete(group_order, stored, timings, actor)
    transaction.on_commit(lambda: group_order_completed_notify(group_order_id=group_order.pk))
    return _summary(group_order)


def _chain(first: list[SourceRow], rest: Iterator[SourceRow]) -> Iterator[SourceRow]:
    yield from first
    yield from rest


def group_order_import_given_up(job) -> None:
    """The import job failed for good: the group order cannot be imported."""
    group_order_id = int(job.subject_id)
    with transaction.atomic():
        group_order = GroupOrder.objects.select_for_update().filter(pk=group_order_id).first()
        if group_order is None or group_order.status == GroupOrder.Status.COMPLETE:
            return
        group_order.status = GroupOrder.Status.FAILED
        group_order.error = (job.last_error or "").split("\n\n")[0][:2000]
        group_order.finished_at = timezone.now()
        group_order.version += 1
        group_order._change_reason = "Import failed (job reaper or worker)"
        group_order.save(update_fields=["status", "error", "finished_at", "version", "updated_at"])


@dataclass
class DryRunReport:
    total: int = 0
    accepted: int = 0
    rejected: int = 0
    examples: list[tuple[int, list[str]]] = field(default_factory=list)


def group_order_dry_run(*, file, checked, examples: int = 20) -> DryRunReport:
    """Check every row of a file as the import would, creating nothing (import_orders
    --dry-run). Duplicate external ids are tracked in memory over the whole file."""
    from group_orders.services.uploads import CheckedFile

    assert isinstance(checked, CheckedFile)
    file.seek(0)
    if checked.format == "xlsx":
        records = xlsx_rows(file, stream_above=xlsx_stream_above())
    else:
        records = csv_rows(
            file,
            encoding=checked.encoding,
            delimiter=checked.delimiter,
            field_size_limit=max_upload_bytes(),
        )
    normaliser = RowNormaliser(
        columns=checked.header.columns, catalogue=Catalogue.load(), today=timezone.localdate()
    )
    report = DryRunReport()
    seen: dict[str, int] = {}
    header_seen = False
    batch: list[tuple[int, list[Any]]] = []

    def flush() -> None:
        checked = []
        for (number, _), (values, errors) in zip(
            batch, normaliser.normalise_many([cells for _, cells in batch]), strict=True
        ):
            external_id = values.get("external_id")
            if external_id:
                if external_id in seen:
                    errors.append(
                        f"external_id: '{external_id}' is also on row {seen[external_id]}."
                    )
                else:
                    seen[external_id] = number
            checked.append((number, values, errors))
        ids = [values["external_id"] for _, values, _ in checked if values.get("external_id")]
        taken = set(
            Order.objects.filter(external_id__any_of=ids).values_list("external_id", flat=True)
        )
        for number, values, errors in checked:
            if values.get("external_id") in taken:
                errors.append(
                    f"external_id: an order with external_id '{values['external_id']}' "
                    "already exists."
                )
            report.total += 1
            if errors:
                report.rejected += 1
                if len(report.examples) < examples:
                    report.examples.append((number, errors))
            else:
                report.accepted += 1
        batch.clear()

    for number, cells in records:
        if is_blank(cells):
            continue
        if not header_seen:
            header_seen = True
            continue
        batch.append((number, cells))
        if len(batch) >= 2000:
            flush()
    flush()
    return report


def progress_eta(group_order: GroupOrder) -> timedelta | None:
    """A rough time left, from the progress so far (for the admin and the command)."""
    if not group_order.started_at or not group_order.progress:
        return None
    elapsed = timezone.now() - group_order.started_at
    return elapsed * (100 - group_order.progress) / group_order.progress

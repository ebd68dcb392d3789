"""Import an order file from the command line: the same checks and import job as an upload."""

import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.actors import Actor
from accounts.models import Client, User
from config.api.errors import ApiError
from group_orders.models import GroupOrder
from group_orders.services.group_orders import group_order_submit
from group_orders.services.imports import group_order_dry_run
from group_orders.services.jobs import job_execute
from group_orders.services.uploads import upload_check

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of orders, exactly like an upload (same checks, same job, "
        "same report files). Shows a progress bar on a terminal. --dry-run checks every row "
        "and reports what would happen, creating nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Path of the CSV or XLSX file.")
        parser.add_argument("--client", type=int, help="Id of the client the orders are for.")
        parser.add_argument(
            "--uploader", help="E-mail of the user to import as (gets the e-mail); else system."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row; create nothing."
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="Only queue the import for the db_worker and print its _id.",
        )

    def handle(self, *args, file: str, client: int | None, uploader: str | None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        client_obj = None
        if client is not None:
            client_obj = Client.objects.filter(pk=client).first()
            if client_obj is None:
                raise CommandError(f"No client with id {client}.")
        actor = Actor.system("manage.py import_orders")
        if uploader:
            user = User.objects.filter(email=uploader.strip().lower()).first()
            if user is None:
                raise CommandError(f"No user with e-mail {uploader}.")
            actor = Actor.for_user(user)
        with path.open("rb") as stream:
            try:
                checked = upload_check(file=stream)
                if options["dry_run"]:
                    return self._dry_run(stream, checked)
                group_order = group_order_submit(
                    file=stream, filename=path.name, actor=actor, client=client_obj, checked=checked
                )
            except ApiError as exc:
                raise CommandError(exc.message) from None
        self.stdout.write(
            f"Group order {group_order.public_id}: {checked.format.upper()}"
            f"{', ' + checked.encoding if checked.encoding else ''}"
            f"{', delimiter ' + repr(checked.delimiter) if checked.delimiter else ''}; "
            f"job {group_order.queue_job_id}."
        )
        if checked.header.ignored:
            self.stdout.write(f"Ignored columns: {', '.join(checked.header.ignored)}")
        if options["background"]:
            self.stdout.write("Queued; a db_worker will import it.")
            return None
        return self._run_and_follow(group_order)

    def _dry_run(self, stream, checked) -> None:
        report = group_order_dry_run(file=stream, checked=checked)
        self.stdout.write(
            f"Dry run: {report.total} rows; {report.accepted} would become orders, "
            f"{report.rejected} would be rejected. Nothing was created."
        )
        for row_number, reasons in report.examples:
            self.stdout.write(f"  row {row_number}: {'; '.join(reasons)}")
        if report.rejected > len(report.examples):
            self.stdout.write(f"  ... and {report.rejected - len(report.examples)} more.")

    def _run_and_follow(self, group_order: GroupOrder) -> None:
        """Run the import job here (a db_worker that took it first is followed instead)."""
        tty = sys.stdout.isatty() and self.stdout._out is sys.stdout
        job_id = int(group_order.queue_job_id)
        outcome: dict[str, object] = {}
        if not tty:
            outcome["status"] = job_execute(job_id=job_id)
            self._follow(group_order, outcome, alive=lambda: False, tty=False)
            return None

        def run() -> None:
            from django.db import connection

            try:
                outcome["status"] = job_execute(job_id=job_id)
            except BaseException as exc:  # shown below; the job tracker recorded it
                outcome["error"] = exc
            finally:
                connection.close()

        worker = threading.Thread(target=run, name="import", daemon=True)
        worker.start()
        self._follow(group_order, outcome, alive=worker.is_alive, tty=True)
        return None

    def _follow(self, group_order: GroupOrder, outcome: dict, *, alive, tty: bool) -> None:
        milestones = [25, 50, 75]
        started = time.monotonic()
        while True:
            current = GroupOrder.objects.get(pk=group_order.pk)
            finished = current.status != GroupOrder.Status.PROCESSING or (
                not alive() and outcome.get("status") not in ("skipped", "lease-lost")
            )
            if tty:
                self._draw(current, started)
            else:
                while milestones and current.progress >= milestones[0]:
                    self.stdout.write(f"{milestones.pop(0)}% ({current.total_orders:,} rows)")
            if finished:
                break
            time.sleep(0.5)
        if tty:
            self.stdout.write("")
        current = GroupOrder.objects.get(pk=group_order.pk)
        if current.status != GroupOrder.Status.COMPLETE:
            error = (
                outcome.get("error") or current.error or (current.job and current.job.last_error)
            )
            raise CommandError(f"The import did not complete: {error}")
        self._summary(current)

    def _draw(self, group_order: GroupOrder, started: float) -> None:
        done = int(BAR_WIDTH * group_order.progress / 100)
        elapsed = max(time.monotonic() - started, 0.001)
        rate = group_order.total_orders / elapsed
        self.stdout.write(
            f"\r[{'#' * done}{'.' * (BAR_WIDTH - done)}] {group_order.progress:3d}%  "
            f"{group_order.total_orders:,} rows  {rate:,.0f} rows/s",
            ending="",
        )
        self.stdout.flush()

    def _summary(self, group_order: GroupOrder) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {group_order.total_orders:,} rows: "
                f"{group_order.successful_orders:,} orders created, "
                f"{group_order.rejected_orders:,} rejected "
                f"({group_order.timings.get('rows_per_second', 0):,} rows/s)."
            )
        )
        for name in ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx"):
            field = getattr(group_order, name)
            try:
                where = field.path
            except NotImplementedError:  # a remote storage: its name there
                where = field.name
            self.stdout.write(f"  {name}: {where}")
        reasons = Counter(
            reason.split(":")[0] if ":" in reason else reason
            for reasons in group_order.rejected_rows.values_list("reasons", flat=True)[:10000]
            for reason in reasons
        )
        for what, count in reasons.most_common(5):
            self.stdout.write(f"  rejected for {what}: {count}")

"""Group order import benchmark (make bench; ROWS=1000000 make bench for the big file).

On one PostgreSQL database and one generated file of realistic order rows, in one run:
1. end to end: the file is checked and accepted (group_order_submit), a real `db_worker`
   process imports it (validation, orders with status and stage rows, rejected rows, the three
   report files), until the group order is `complete`;
2. raw PostgreSQL COPY of the same file into a plain table of text columns;
3. django-import-export importing the same rows into Order with its bulk settings.
Prints rows/s for each, the ratios, and the worker's peak memory (VmHWM of the process).

Usage: python bench/import_bench.py [--rows N] [--database-url URL] [--skip-import-export]
       [--keep DIR]

`--keep DIR` copies the three report files into DIR and dumps what the import wrote (the
orders, their status and stage rows, the rejected rows) without ids, numbers, hashes and
timestamps, so that two runs of the same file can be compared byte for byte (`diff -r`).
"""

import argparse
import csv
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

FIRST = (
    "Ada Grace Alan Edsger Barbara Linus Margaret Donald Ken Dennis Frances Radia Sophie Jean"
).split()
LAST = (
    "Lovelace Hopper Turing Dijkstra Liskov Torvalds Hamilton Knuth Thompson Ritchie Allen "
    "Perlman Wilson Sammet"
).split()
SERVICES = ["portrait", "framing", "Restoration", "passport-photo", "canvas"]
PHONES = ["(604) 555-{:04d}", "+44 20 7946 {:04d}", "604.555.{:04d}", "1-604-555-{:04d}"]
HEADER = [
    "External ID", "First Name", "Last Name", "Email", "Phone", "Service", "Order Type",
    "Order Date", "Due Date", "Rush", "Notify", "Total", "Location", "Add-ons", "Notes",
]  # fmt: skip


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic order file: mixed formats, ~2% of rows with a problem."""
    rng = random.Random(seed)
    today = datetime.now(tz=UTC).date()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            due = today + timedelta(days=rng.randint(1, 90))
            row = [
                f"B-{n:08d}",
                f" {first} ",
                last,
                f"{first}.{last}.{n}@Example.com",
                rng.choice(PHONES).format(n % 10000),
                rng.choice(SERVICES),
                rng.choice(["delivery", "collection", "ship", "pickup", ""]),
                (today - timedelta(days=rng.randint(0, 30))).isoformat(),
                due.isoformat() if n % 3 else due.strftime("%m/%d/%Y"),
                rng.choice(["yes", "no", "", "1", "0"]),
                rng.choice(["true", "false", ""]),
                f"{rng.randint(5, 2000)}.{rng.randint(0, 99):02d}",
                rng.choice(["downtown", "uptown", ""]),
                rng.choice(["", "retouch", "retouch; frame", "gift wrap|rush"]),
                rng.choice(["", "", "Leave at the door", "Call before delivery"]),
            ]
            problem = rng.random()
            if problem < 0.005:
                row[3] = "not-an-email"
            elif problem < 0.01:
                row[8] = "2001-01-01"
            elif problem < 0.015:
                row[5] = "knitting"
            elif problem < 0.02:
                row[0] = f"B-{max(n - 1, 1):08d}"  # duplicate external id
            writer.writerow(row)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fresh_database(database_url: str) -> None:
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": database_url, "DEBUG": "0"},
    )


def catalogue():
    from accounts.models import User
    from orders.models import Location, ServiceType

    for slug in ["portrait", "framing", "restoration", "passport-photo", "canvas"]:
        ServiceType.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    for code in ["downtown", "uptown"]:
        Location.objects.get_or_create(code=code, defaults={"name": code.title()})
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"first_name": "B"})
    return user


def truncate_orders() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE orders_order, order_statuses, order_stages, orders_historicalorder, "
            "group_orders_rejectedrow, group_orders_importbatch CASCADE"
        )


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# columns that differ between two imports of the same file (keys, random or clock values)
_VARYING = re.compile(r"^(id|order_id|number|hash|date_added|date_modified)$|_at$")
_DUMPS = {
    "orders_order": "SELECT * FROM orders_order WHERE group_order_id = %s ORDER BY id",
    "order_statuses": "SELECT s.* FROM order_statuses s JOIN orders_order o ON o.id = s.order_id "
    "WHERE o.group_order_id = %s ORDER BY o.id",
    "order_stages": "SELECT s.* FROM order_stages s JOIN orders_order o ON o.id = s.order_id "
    "WHERE o.group_order_id = %s ORDER BY o.id, s.id",
    "group_orders_rejectedrow": "SELECT * FROM group_orders_rejectedrow "
    "WHERE group_order_id = %s ORDER BY row_number",
}


def keep_outcome(group_order, directory: Path) -> None:
    """The report files and the rows the import wrote, minus what differs between runs."""
    import shutil

    from django.db import connection

    directory.mkdir(parents=True, exist_ok=True)
    for name in ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx"):
        with getattr(group_order, name).open("rb") as source:
            suffix = "csv" if name.endswith("csv") else "xlsx"
            with (directory / f"{name}.{suffix}").open("wb") as target:
                shutil.copyfileobj(source, target)
    with connection.cursor() as cursor:
        for table, sql in _DUMPS.items():
            cursor.execute(sql, [group_order.pk])
            names = [column.name for column in cursor.description]
            kept = [i for i, name in enumerate(names) if not _VARYING.search(name)]
            with (directory / f"{table}.tsv").open("w", encoding="utf-8") as out:
                out.write("\t".join(names[i] for i in kept) + "\n")
                for row in cursor:
                    out.write("\t".join(repr(row[i]) for i in kept) + "\n")


def end_to_end(path: Path, user, keep: Path | None = None) -> dict:
    from django.db import connection

    from accounts.actors import Actor
    from group_orders.models import GroupOrder
    from group_orders.services.group_orders import group_order_submit

    # the completion e-mail is sent, to nowhere (the console backend would flood the output)
    env = {
        **os.environ,
        "DEBUG": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.05",
            "--no-reload",
            "--no-startup-delay",
            "-v0",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(2)  # the worker is up and polling
        started_at = time.time()
        started = time.perf_counter()
        with path.open("rb") as stream:
            group_order = group_order_submit(
                file=stream, filename=path.name, actor=Actor.for_user(user)
            )
        accepted = time.perf_counter() - started
        # The end is the group order's finished_at (the worker's clock is this machine's), so
        # the poll can be slow: this process shares the two cores with the import (polling
        # every 20 ms took 0.8 s of CPU over a 13 s import, 2026-12-07, perf).
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT g.status, j.last_error FROM group_orders_grouporder g "
                    "LEFT JOIN group_orders_job j ON j.id = g.job_id WHERE g.id = %s",
                    [group_order.pk],
                )
                status, last_error = cursor.fetchone()
                if status != GroupOrder.Status.PROCESSING:
                    break
                if last_error:  # a failed try: the job would wait and retry, the run is void
                    raise RuntimeError(f"the import failed: {last_error[-2000:]}")
                if worker.poll() is not None:
                    raise RuntimeError("the worker died")
                time.sleep(0.25)
        group_order.refresh_from_db()
        seconds = group_order.finished_at.timestamp() - started_at
        peak_kb = vm_hwm_kb(worker.pid)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert group_order.status == GroupOrder.Status.COMPLETE, group_order.error
    for name in ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx"):
        assert getattr(group_order, name).name, name
    from orders.models import Order

    assert Order.objects.filter(group_order=group_order).count() == group_order.successful_orders
    if keep is not None:
        keep_outcome(group_order, keep)
    return {
        "seconds": seconds,
        "accepted_seconds": accepted,
        "rows": group_order.total_orders,
        "orders": group_order.successful_orders,
        "rejected": group_order.rejected_orders,
        "timings": group_order.timings,
        "worker_peak_mb": peak_kb / 1024,
        "files": {
            name: getattr(group_order, name).size
            for name in ("normalized_csv", "accepted_orders_xlsx", "rejected_orders_xlsx")
        },
    }


def database_floor(rows: int) -> dict:
    """What the database alone needs to store `rows` imported orders: each imported order is
    cloned server-side (INSERT ... SELECT, no client work at all) into the three tables an
    import writes, with all their indexes, in one transaction with the foreign-key triggers
    off as the import has them (when the role may). No import can be faster than this."""
    from django.db import connection, transaction

    from config.bulk_rows import foreign_keys_checked_once

    def columns(table: str, skip: str) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                [table],
            )
            return [name for (name,) in cursor.fetchall() if name != skip]

    unique = {"number": "'F' || g", "hash": "md5('f' || g)", "external_id": "'F-' || g"}
    seconds = {}
    tables = ("orders_order", "order_statuses", "order_stages")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = ANY(%s)", [list(tables)])
        indexes = cursor.fetchone()[0]
        with foreign_keys_checked_once({}) as triggers_off:
            names = columns("orders_order", "id")
            values = ", ".join(unique.get(name, f"o.{name}") for name in names)
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO orders_order ({', '.join(names)}) SELECT {values} "
                f"FROM orders_order o, generate_series(1, {rows}) g "
                "WHERE o.id = (SELECT min(id) FROM orders_order)"
            )
            seconds["orders_order"] = time.perf_counter() - started
            for table in ("order_statuses", "order_stages"):
                names = columns(table, "id")
                values = ", ".join("x.id" if name == "order_id" else f"s.{name}" for name in names)
                started = time.perf_counter()
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM {table} s, "
                    f"(SELECT id FROM orders_order WHERE number LIKE 'F%%') x "
                    f"WHERE s.id = (SELECT min(id) FROM {table})"
                )
                seconds[table] = time.perf_counter() - started
        transaction.set_rollback(True)  # measured: nothing of it is kept
    return {
        "seconds": sum(seconds.values()),
        "rows": rows,
        "tables": seconds,
        "indexes": indexes,
        "triggers_off": triggers_off,
    }


def raw_copy(path: Path) -> dict:
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(f"CREATE TABLE bench_copy ({columns})")
    started = time.perf_counter()
    with connection.cursor() as cursor, path.open("rb") as handle:
        with cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        cursor.execute("SELECT count(*) FROM bench_copy")
        rows = cursor.fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows}


def import_export(path: Path, rows_limit: int | None) -> dict:
    import tablib
    from import_export import fields, resources, widgets

    from orders.models import Location, Order, ServiceType

    counter = iter(range(10_000_000, 99_999_999))

    class OrderResource(resources.ModelResource):
        external_id = fields.Field(attribute="external_id", column_name="External ID")
        first_name = fields.Field(attribute="first_name", column_name="First Name")
        last_name = fields.Field(attribute="last_name", column_name="Last Name")
        email = fields.Field(attribute="email", column_name="Email")
        telephone = fields.Field(attribute="telephone", column_name="Phone")
        service_type = fields.Field(
            attribute="service_type",
            column_name="Service",
            widget=widgets.ForeignKeyWidget(ServiceType, "slug__iexact"),
        )
        order_total = fields.Field(
            attribute="order_total", column_name="Total", widget=widgets.DecimalWidget()
        )
        location = fields.Field(
            attribute="location",
            column_name="Location",
            widget=widgets.ForeignKeyWidget(Location, "code"),
        )
        notes = fields.Field(attribute="notes", column_name="Notes")

        class Meta:
            model = Order
            fields = (
                "external_id",
                "first_name",
                "last_name",
                "email",
                "telephone",
                "service_type",
                "order_total",
                "location",
                "notes",
            )
            import_id_fields: list[str] = []
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            skip_unchanged = False
            force_init_instance = True
            use_transactions = False  # with True it rolls everything back on one bad row
            clean_model_instances = False

        def before_save_instance(self, instance, row, **kwargs):
            instance.number = f"IE{next(counter)}"
            instance.hash = Order.new_hash()
            instance.external_id = f"IE-{instance.external_id}-{instance.number}"

    with path.open(encoding="utf-8") as handle:
        text = handle.read()
    dataset = tablib.Dataset().load(text, format="csv")
    if rows_limit:
        dataset = dataset[:rows_limit] if hasattr(dataset, "__getitem__") else dataset
        dataset = tablib.Dataset(*dataset, headers=HEADER) if isinstance(dataset, list) else dataset
    started = time.perf_counter()
    result = OrderResource().import_data(dataset, dry_run=False, raise_errors=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(dataset),
        "errors": len(result.row_errors()) + len(result.invalid_rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 100_000)))
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/orderdesk_bench"
        ),
    )
    parser.add_argument("--skip-import-export", action="store_true")
    parser.add_argument(
        "--import-export-rows", type=int, default=None, help="Limit for the slow path."
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="Keep the reports and a dump of the rows here."
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"orders-{args.rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} ({path.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    fresh_database(args.database_url)
    setup_django(args.database_url)
    user = catalogue()

    e2e = end_to_end(path, user, args.keep)
    floor = database_floor(min(args.rows, 100_000))
    copy = raw_copy(path)
    truncate_orders()
    ie = None
    if not args.skip_import_export:
        ie = import_export(path, args.import_export_rows)

    e2e_rate = e2e["rows"] / e2e["seconds"]
    copy_rate = copy["rows"] / copy["seconds"]
    print()
    print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    print(
        f"end to end (upload check -> db_worker -> complete with 3 files): "
        f"{e2e['seconds']:.2f} s, {e2e_rate:,.0f} rows/s "
        f"({e2e['orders']:,} orders, {e2e['rejected']:,} rejected; accepted in "
        f"{e2e['accepted_seconds']:.2f} s)"
    )
    print(f"  job timings: {e2e['timings']}")
    print(f"  report files (bytes): {e2e['files']}")
    print(f"  worker peak memory (VmHWM): {e2e['worker_peak_mb']:.0f} MB")
    print(f"raw COPY into a plain table: {copy['seconds']:.2f} s, {copy_rate:,.0f} rows/s")
    floor_rate = floor["rows"] / floor["seconds"]
    tables = ", ".join(f"{name} {sec:.1f} s" for name, sec in floor["tables"].items())
    triggers = "off" if floor["triggers_off"] else "on"
    print(
        f"database floor (server-side INSERT..SELECT of {floor['rows']:,} orders into the three "
        f"tables an import writes, {floor['indexes']} indexes, foreign-key triggers {triggers}): "
        f"{floor_rate:,.0f} rows/s ({tables})"
    )
    print(f"ratio end to end / database floor: {e2e_rate / floor_rate:.2f}")
    if ie:
        ie_rate = ie["rows"] / ie["seconds"]
        print(
            f"django-import-export (use_bulk, batch_size=1000): {ie['seconds']:.2f} s, "
            f"{ie_rate:,.0f} rows/s ({ie['rows']:,} rows, {ie['errors']} errors)"
        )
        print(f"ratio end to end / import-export: {e2e_rate / ie_rate:.1f}x")
    print(f"ratio raw COPY / end to end: {copy_rate / e2e_rate:.1f}x")


if __name__ == "__main__":
    main()

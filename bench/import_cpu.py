"""The import's Python cost per row in instructions: what a worker does for each row but write.

The end-to-end benchmark (import_bench.py) is noisy on this shared 2-core machine (runs
differ by a third). This one counts the instructions (valgrind's callgrind: the same count
whatever else the machine does) that the import's own code runs per row of the benchmark
file, stage by stage, each stage including the ones before it:

- read: the CSV records, blank rows skipped, batched (`FileReader`, `_batches`);
- check: every row normalised and checked (`BatchImporter.check` without preparing);
- prepare: the accepted rows made into COPY text (`orders_bulk_prepare`: ids and numbers
  from the sequences, orders, status and stage rows), as the reading thread does;
- report: the committed batch's report rows, encoded for the report writer process
  (`CommittedBatch.outcome`, `report_message_dump`), as the reading thread does;
- writer: the report writer process's side: the message decoded and the three files
  written (`ReportFileWriter`).

The database writes (COPY, the checkpoint, the counts) are left out: they are PostgreSQL's
work and the same whatever the Python does. Each stage runs the first batch as a warm-up
and then ROWS rows; the per-row figure is the difference of two runs (warm-up only, and
warm-up + ROWS) divided by ROWS.

Usage: python bench/import_cpu.py [--rows N] [--stages read,check,...] [--database-url URL]
       (the database of import_bench.py; made and filled with its catalogue if missing)
"""

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import ensure_tool  # noqa: E402
from callgrind import instructions_per_unit  # noqa: E402
from import_bench import OUT, catalogue, fresh_database, generate, setup_django  # noqa: E402

STAGES = ("read", "check", "prepare", "report", "writer")
FILE_ROWS = 100_000
WARMUP_ROWS = 2000  # one batch


def run_stage(path: Path, stage: str, rows: int) -> None:
    """In this process: the first batch and then `rows` more rows through `stage`."""
    from django.core.files import File
    from django.utils import timezone

    from accounts.actors import Actor
    from group_orders.models import GroupOrder
    from group_orders.services.columns import COLUMN_NAMES, header_check
    from group_orders.services.imports import (
        BatchImporter,
        CommittedBatch,
        FileReader,
        _batches,
    )
    from group_orders.services.rows import Catalogue, RowNormaliser
    from group_orders.spreadsheets import (
        ReportFileWriter,
        report_message_dump,
        report_message_load,
    )

    user = catalogue()
    group_order = GroupOrder(
        pk=1, file_format="csv", encoding="utf-8", delimiter=",", file_size=path.stat().st_size
    )
    handle = path.open("rb")
    group_order.file = File(handle, name=path.name)
    reader = FileReader(group_order)
    records = reader.rows()
    first = next(records)
    columns = header_check(reader.header).columns
    normaliser = RowNormaliser(
        columns=columns, catalogue=Catalogue.load(), today=timezone.localdate()
    )
    importer = BatchImporter(
        group_order=group_order, normaliser=normaliser, actor=Actor.for_user(user)
    )
    if stage == "check":
        importer._prepare = lambda accepted: None
    outdir = Path(tempfile.mkdtemp(prefix="import-cpu-"))
    writer = ReportFileWriter(outdir, columns=list(COLUMN_NAMES), rejected_header=reader.header)
    done = 0

    def rows_wanted():
        nonlocal done
        yield first
        done = 1
        for row in records:
            if done >= WARMUP_ROWS + rows:
                return
            done += 1
            yield row

    try:
        for index, batch in enumerate(_batches(rows_wanted(), WARMUP_ROWS)):
            if stage == "read":
                continue
            checked = importer.check(index, batch, reader.percent)
            if stage in ("check", "prepare"):
                continue
            prepared = checked.prepared
            numbers = [order.number for order in prepared.created] if prepared else []
            committed = CommittedBatch(numbers, checked.candidates, checked.rejected, len(batch))
            outcome = committed.outcome()
            pipe = io.BytesIO()
            report_message_dump(("rows", outcome.accepted, outcome.rejected), pipe)
            if stage == "report":
                continue
            pipe.seek(0)
            message = report_message_load(pipe)
            writer.write(message[1], message[2])
    finally:
        writer.close()
        shutil.rmtree(outdir, ignore_errors=True)
        handle.close()


def instructions(valgrind: str, stage: str, rows: int, env: dict) -> float:
    return instructions_per_unit(
        valgrind,
        lambda count: [sys.executable, __file__, "--inner", stage, "--rows", str(count)],
        low=0,
        high=rows,
        env=env,
        label=stage,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/orderdesk_bench"
        ),
    )
    parser.add_argument("--inner", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = OUT / f"orders-{FILE_ROWS}.csv"
    if args.inner:
        setup_django(args.database_url)
        run_stage(path, args.inner, args.rows)
        return
    valgrind = ensure_tool("valgrind")
    OUT.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generate(path, FILE_ROWS)
    env = {**os.environ, "DATABASE_URL": args.database_url, "DEBUG": "0"}
    import psycopg

    base, _, name = args.database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        fresh_database(args.database_url)
    previous = 0.0
    print(f"instructions per row ({args.rows:,} rows after a {WARMUP_ROWS:,}-row warm-up):")
    for stage in args.stages.split(","):
        per_row = instructions(valgrind, stage, args.rows, env)
        print(f"  {stage:8} {per_row:10,.0f}  (+{per_row - previous:,.0f})", flush=True)
        previous = per_row


if __name__ == "__main__":
    main()

"""Admin at scale (make bench-admin): the order changelist and change page on the benchmark
database (1,000,000 orders; build it with `make bench-api` or seed_demo first).

Runs in-process under production settings (DEBUG off, templates cached, the psycopg pool)
with Django's test client, logged in as the demo superuser. For each page: one warm-up
request, then RUNS timed requests; reports the median and worst server time (the whole
request through middleware, view and template), the query count (CaptureQueriesContext),
and whether any query counted rows without a bound (a full COUNT(*)).

Usage: python bench/admin_bench.py [--database-url URL] [--runs N]
"""

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import DEFAULT_URL, ROOT, write_report  # noqa: E402  (the same database)

FULL_COUNT = re.compile(r"COUNT\(\*\)", re.I)


def _setup(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DATABASE_URL=url,
        SECURE_SSL_REDIRECT="false",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # production serves hashed static files from a manifest: collect them once
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)


def _unbounded_counts(statements: list[str]) -> list[str]:
    """COUNT(*) statements that read every matching row: no LIMIT inside."""
    return [s for s in statements if FULL_COUNT.search(s) and " LIMIT " not in s.upper()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_API_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    _setup(args.database_url)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from orders.models import Order
    from stages.models import Stage

    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(admin)
    total = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample = Order.objects.filter(pk__lte=max(1, total * 6 // 10)).order_by("-id").first()
    in_production = Stage.objects.get(slug="in-production").pk
    deep = max(1, min(200, total // 100))
    deeper = max(1, min(1000, total // 60))
    pages = [
        ("changelist, default", "/admin/orders/order/"),
        ("filtered: stage", f"/admin/orders/order/?stage={in_production}"),
        (
            "filtered: location + type",
            "/admin/orders/order/?location__id__exact=2&order_type__exact=delivery",
        ),
        ("filtered: completed", "/admin/orders/order/?completed=yes"),
        (
            "date drill-down: year",
            f"/admin/orders/order/?date_added__year={sample.date_added.year}",
        ),
        ("searched: number", f"/admin/orders/order/?q={sample.number}"),
        ("searched: e-mail", f"/admin/orders/order/?q={sample.email}"),
        ("searched: last name prefix", "/admin/orders/order/?q=Okaf"),
        (f"page {deep} of the default list", f"/admin/orders/order/?p={deep}"),
        (f"page {deeper} of the default list", f"/admin/orders/order/?p={deeper}"),
        ("change page", f"/admin/orders/order/{sample.pk}/change/"),
    ]
    rows = []
    for title, path in pages:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        times, queries = [], []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            queries = [q["sql"] for q in captured.captured_queries]
        slow = max(captured.captured_queries, key=lambda q: float(q["time"]))
        rows.append(
            {
                "title": title,
                "path": path,
                "median": statistics.median(times),
                "worst": max(times),
                "queries": len(queries),
                "full_counts": len(_unbounded_counts(queries)),
                "slowest": f"{float(slow['time']) * 1000:.0f} ms: {slow['sql'][:90]}",
            }
        )
        print(
            f"{title:32} median {rows[-1]['median']:7.1f} ms  worst {rows[-1]['worst']:7.1f} ms"
            f"  queries {rows[-1]['queries']:3}  full COUNT(*) {rows[-1]['full_counts']}",
            flush=True,
        )

    orders = Order.objects.order_by("-id").values_list("id", flat=True).first()
    lines = [
        f"# Admin benchmark, {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Orders up to id {orders:,}; production settings in-process (test client, logged in "
        f"as a superuser); {args.runs} timed requests per page after one warm-up.",
        "",
        "| page | median ms | worst ms | queries | full COUNT(*) | slowest query |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['title']} (`{row['path']}`) | {row['median']:.1f} | {row['worst']:.1f} | "
            f"{row['queries']} | {row['full_counts']} | {row['slowest'].replace('|', '/')} |"
        )
    write_report("admin", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

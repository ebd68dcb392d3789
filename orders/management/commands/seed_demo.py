import sys

from django.core.management.base import BaseCommand

from accounts.demo import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, seed_people
from orders.demo import RICH_ORDERS, seed_orders


class Command(BaseCommand):
    help = (
        "Load believable demo data (safe to run again): people, locations, plans, and "
        f"--orders demo orders (the first {RICH_ORDERS} through the services with stage "
        "moves and shipments, the rest through the bulk path)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument(
            "--orders",
            type=int,
            default=RICH_ORDERS,
            help=f"How many demo orders should exist (default {RICH_ORDERS}; 1000000 works).",
        )

    def handle(self, *args, clients, orders, **options):
        people = seed_people(clients=clients)
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if interactive:
                self.stdout.write(f"\r  orders: {done:,} / {total:,}", ending="")
                self.stdout.flush()

        report = seed_orders(people, orders=orders, progress=progress)
        if interactive and report.bulk:
            self.stdout.write("")
        rate = report.rows / report.seconds if report.seconds else 0
        bulk = ", ".join(f"{kind} {count:,}" for kind, count in report.bulk.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(people.clients)} clients; orders made now: "
                f"{report.rich:,} through the services"
                + (f", bulk rows: {bulk}" if bulk else "")
                + f" in {report.seconds:.1f}s ({rate:,.0f} rows/s).\n"
                f"  Admin:    http://127.0.0.1:8000/admin/  {STAFF_EMAIL} / {STAFF_PASSWORD}\n"
                f"  Customer: {people.clients[0].email} / {CUSTOMER_PASSWORD}\n"
                f"  API docs: http://127.0.0.1:8000/api/docs"
            )
        )

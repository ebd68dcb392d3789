from django.core.management.base import BaseCommand

from accounts.demo import CUSTOMER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, seed_people


class Command(BaseCommand):
    help = "Load believable demo data (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=8)

    def handle(self, *args, clients, **options):
        people = seed_people(clients=clients)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(people.clients)} clients.\n"
                f"  Admin:    http://127.0.0.1:8000/admin/  {STAFF_EMAIL} / {STAFF_PASSWORD}\n"
                f"  Customer: {people.clients[0].email} / {CUSTOMER_PASSWORD}\n"
                f"  API docs: http://127.0.0.1:8000/api/docs"
            )
        )

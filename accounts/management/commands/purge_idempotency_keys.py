from django.core.management.base import BaseCommand

from accounts.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than 24 hours (the job worker also does this)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {idempotency_keys_purge()} expired idempotency key(s).")

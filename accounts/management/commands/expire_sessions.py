from django.core.management.base import BaseCommand

from accounts.services import sessions_expire


class Command(BaseCommand):
    help = "Delete expired and revoked login sessions."

    def handle(self, *args, **options):
        deleted = sessions_expire()
        self.stdout.write(f"Deleted {deleted} expired session(s).")

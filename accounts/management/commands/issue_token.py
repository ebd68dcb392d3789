from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import abilities
from accounts.models import User
from accounts.services import application_get, token_issue
from config.api.errors import ApiError


class Command(BaseCommand):
    help = "Issue an application token for a user; prints the raw token as the only stdout line."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--abilities",
            required=True,
            help=f"Comma-separated, from: {', '.join(abilities.ALL_ABILITIES)}",
        )
        parser.add_argument("--application", default="planoauth", help="Application slug.")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args, email, abilities, application, name, expires_in_days, **options):
        try:
            user = User.objects.get(email=email.strip().lower())
        except User.DoesNotExist:
            raise CommandError(f"No user with e-mail {email}.") from None
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be a positive number of days.")
        wanted = [a.strip() for a in abilities.split(",") if a.strip()]
        if not wanted:
            raise CommandError("--abilities needs at least one ability.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            issued = token_issue(
                user=user,
                application=application_get(slug=application),
                token_abilities=wanted,
                name=name,
                expires_at=expires_at,
            )
        except ApiError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(issued.raw)

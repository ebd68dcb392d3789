from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS
from accounts.services import application_get, role_grant
from config.api.errors import ApiError


class Command(BaseCommand):
    help = "Grant a user a role within one application."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("role", help=f"One of: {', '.join(ROLE_PERMISSIONS)}")
        parser.add_argument("--application", default="planoauth")

    def handle(self, *args, email, role, application, **options):
        try:
            user = User.objects.get(email=email.strip().lower())
            grant = role_grant(
                user=user, application=application_get(slug=application), role_name=role
            )
        except User.DoesNotExist:
            raise CommandError(f"No user with e-mail {email}.") from None
        except ApiError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{grant}.")

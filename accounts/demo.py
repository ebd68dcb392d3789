"""Demo people for `manage.py seed_demo`: a staff user, an integrator, customers, a liaison."""

from dataclasses import dataclass

from django.db import transaction

from accounts import roles
from accounts.models import Application, Client, Employee, Liaison, User
from accounts.services import role_grant

STAFF_EMAIL = "admin@orderdesk.local"
STAFF_PASSWORD = "orderdesk-admin"
CUSTOMER_PASSWORD = "orderdesk-customer"


@dataclass
class DemoPeople:
    staff: User
    integrator: User
    clients: list[Client]
    liaison: User


def _user(email: str, first: str, last: str, password: str, **extra) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first, "last_name": last, **extra}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_people(*, clients: int = 8) -> DemoPeople:
    """Create (or find) the demo people; safe to run again."""
    staff = _user(STAFF_EMAIL, "Ada", "Admin", STAFF_PASSWORD, is_staff=True, is_superuser=True)
    Employee.objects.get_or_create(user=staff, defaults={"job_title": "Operations lead"})
    integrator = _user("integrator@orderdesk.local", "Ivan", "Integrator", STAFF_PASSWORD)
    Employee.objects.get_or_create(user=integrator, defaults={"job_title": "Integration"})
    for application in Application.objects.all():
        role_grant(user=integrator, application=application, role_name=roles.ORDER_MANAGER)
        role_grant(user=staff, application=application, role_name=roles.ORDER_MANAGER)

    names = [
        ("Tucker", "Vega"), ("Naveen", "Jain"), ("Joe", "Jackson"), ("Maya", "Lopez"),
        ("Priya", "Shah"), ("Liam", "Okafor"), ("Sofia", "Rossi"), ("Chen", "Wei"),
        ("Amara", "Diallo"), ("Noah", "Fischer"), ("Emma", "Novak"), ("Omar", "Haddad"),
    ]  # fmt: skip
    demo_clients = []
    for index in range(clients):
        first, last = names[index % len(names)]
        email = f"{first.lower()}.{last.lower()}{index or ''}@example.com"
        user = _user(email, first, last, CUSTOMER_PASSWORD)
        client, _ = Client.objects.get_or_create(
            user=user,
            defaults={
                "name": f"{first} {last}",
                "email": email,
                "telephone": f"+1 (604) 555-{1000 + index:04d}",
                "billing_postal_code": f"9{4600 + index:04d}",
            },
        )
        for application in Application.objects.all():
            role_grant(user=user, application=application, role_name=roles.CUSTOMER)
        demo_clients.append(client)

    liaison_user = _user("liaison@orderdesk.local", "Lia", "Ison", CUSTOMER_PASSWORD)
    liaison, _ = Liaison.objects.get_or_create(user=liaison_user)
    liaison.clients.add(*demo_clients[:3])
    for application in Application.objects.all():
        role_grant(user=liaison_user, application=application, role_name=roles.LIAISON)
    return DemoPeople(
        staff=staff, integrator=integrator, clients=demo_clients, liaison=liaison_user
    )

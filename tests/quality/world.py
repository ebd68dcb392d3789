"""A small, realistic world for the quality gates: two clients with orders in several stages,
completed orders for the customer API, a group order imported end to end (with a rejected-rows
report), and the callers the gates need — each with a raw token.

Built through the services and the factories, inside the caller's test database.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from accounts import abilities as ab
from accounts.actors import Actor
from accounts.models import ApiToken, Application, Client, User
from accounts.services import role_grant, token_issue
from group_orders.models import GroupOrder
from orders.models import Order
from tests.factories import ClientFactory, EmployeeFactory, UserFactory
from tests.factories.group_orders import catalogue, fixture_bytes
from tests.factories.orders import (
    OrderFactory,
    OrderTotalFactory,
    PlanFactory,
    ShipmentFactory,
    ShipmentItemFactory,
)

COMPLETED_AT = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)


@dataclass
class Caller:
    user: User
    raw: str
    client: Client | None = None

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw}"}


@dataclass
class World:
    staff: Caller  # an employee, "order manager" in every application
    processor: Caller  # an employee, "group processor"
    customer: Caller  # a client user, "customer" role
    other_customer: Caller  # a client user of another client, "customer" role
    uploader: Caller  # a client user of a third client, "group uploader"
    client: Client  # the customer's client
    other_client: Client
    orders: list[Order] = field(default_factory=list)  # staff-visible orders, several stages
    customer_orders: list[Order] = field(default_factory=list)  # completed, of `client`
    other_orders: list[Order] = field(default_factory=list)  # completed, of `other_client`
    group_order: GroupOrder | None = None  # imported, complete, of `client`
    other_group_order: GroupOrder | None = None  # uploaded by another client's user

    # ids as they were when the world was built: a generator that draws from them must see
    # the same choices on every draw (Hypothesis replays), even after a DELETE removed one
    order_pks: list[int] = field(default_factory=list)
    order_numbers: list[str] = field(default_factory=list)
    group_order_public_ids: list[str] = field(default_factory=list)

    def snapshot(self) -> "World":
        orders = Order.objects.filter(is_deleted=False).order_by("id")
        self.order_pks = list(orders.values_list("id", flat=True))
        self.order_numbers = list(orders.values_list("number", flat=True))
        self.group_order_public_ids = [
            str(g) for g in GroupOrder.objects.order_by("id").values_list("public_id", flat=True)
        ]
        return self


def grant(user: User, role_name: str) -> None:
    for application in Application.objects.all():
        role_grant(user=user, application=application, role_name=role_name)


def token_for(
    user: User, *, abilities=ab.ALL_ABILITIES, kind: str = ApiToken.Kind.APPLICATION, **kwargs
) -> str:
    application = Application.objects.get(slug="planoauth")
    return token_issue(
        user=user, application=application, kind=kind, token_abilities=abilities, **kwargs
    ).raw


def employee(role_name: str) -> Caller:
    user = EmployeeFactory().user
    grant(user, role_name)
    return Caller(user=user, raw=token_for(user))


def client_user(role_name: str, client: Client | None = None) -> Caller:
    client = client or ClientFactory()
    grant(client.user, role_name)
    return Caller(user=client.user, raw=token_for(client.user), client=client)


def completed_order(customer: Client, **kwargs) -> Order:
    order = OrderFactory(
        customer=customer,
        completed_at=COMPLETED_AT,
        paid_at=COMPLETED_AT,
        stage="complete",
        plan=PlanFactory(),
        **kwargs,
    )
    for priority, (code, value) in enumerate(
        {"subtotal": "50", "shipping": "10", "discount": "5", "total": "55"}.items()
    ):
        OrderTotalFactory(order=order, code=code, value=Decimal(value), priority=priority)
    shipment = ShipmentFactory(order=order)
    ShipmentItemFactory(shipment=shipment)
    return order


def import_group_order(*, uploader: User, client: Client | None, name: str) -> GroupOrder:
    """Upload a fixture file and run its import in-process (the on-commit job runs at once)."""
    from group_orders.services.group_orders import group_order_submit

    upload = SimpleUploadedFile(name, fixture_bytes(name), content_type="text/csv")
    with TestCase.captureOnCommitCallbacks(execute=True):
        group_order = group_order_submit(
            file=upload, filename=name, actor=Actor.for_user(uploader), client=client
        )
    group_order.refresh_from_db()
    return group_order


def build_world(*, group_orders: bool = True) -> World:
    catalogue()
    client = ClientFactory()
    other_client = ClientFactory()
    world = World(
        staff=employee("order manager"),
        processor=employee("group processor"),
        customer=client_user("customer", client),
        other_customer=client_user("customer", other_client),
        uploader=client_user("group uploader", ClientFactory(user=UserFactory())),
        client=client,
        other_client=other_client,
    )
    for stage in ("received", "in-production", "quality-check", "shipped", "on-hold"):
        world.orders.append(OrderFactory(customer=client, stage=stage))
    world.orders.append(OrderFactory(customer=other_client, stage="received"))
    world.customer_orders = [completed_order(client), completed_order(client)]
    world.other_orders = [completed_order(other_client)]
    if group_orders:
        world.group_order = import_group_order(
            uploader=world.staff.user, client=client, name="orders_mixed.csv"
        )
        world.other_group_order = import_group_order(
            uploader=world.uploader.user, client=world.uploader.client, name="orders_valid.csv"
        )
    return world.snapshot()

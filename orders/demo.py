"""Demo orders for `manage.py seed_demo`: catalogue, a rich set through the services, and
any number more through the bulk path.

Every demo order has external_id `demo-<n>`; a run creates only the numbers that do not
exist yet, so running it again changes nothing. Choices are drawn from a random generator
seeded with the order's number, so a number always gets the same kind of order.

- The first RICH_ORDERS orders go through `order_create`, move along the lifecycle with
  `stage_record`, and get shipments through `order_part_save` (some with issues).
- The rest are written in batches, never a save per row: orders, lines, totals, one
  shipment (with an item) for shipped and completed orders, and each order's first status in
  its stage through `stages.services.order_statuses_start_bulk`. On PostgreSQL the rows of
  the orders tables go in with COPY (ids and numbers taken from their sequences first);
  elsewhere through `orders_create_bulk` (bulk_create). Neither writes simple-history rows:
  demo data has no editor.
"""

import random
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts import roles
from accounts.actors import Actor
from accounts.demo import DemoPeople
from accounts.models import Application, Client, Employee
from accounts.services import role_grant
from orders.models import (
    Address,
    Location,
    Order,
    OrderLine,
    OrderTotal,
    Package,
    Plan,
    ServiceType,
    Shipment,
    ShipmentItem,
)
from orders.services import (
    LineDraft,
    OrderDraft,
    TotalDraft,
    order_create,
    order_numbers_allocate,
    order_part_save,
    orders_create_bulk,
)
from stages.services import order_statuses_start_bulk, stage_record

ACTOR = Actor.system("seed_demo")
RICH_ORDERS = 300
BATCH = 5000
CENT = Decimal("0.01")

LOCATIONS = [
    ("oakland", "Oakland studio", "2201 Broadway", "Oakland", "CA", "94612"),
    ("denver", "Denver lab", "1600 Champa St", "Denver", "CO", "80202"),
    ("austin", "Austin shop", "500 E 7th St", "Austin", "TX", "78701"),
    ("vancouver", "Vancouver counter", "800 Robson St", "Vancouver", "WA", "98660"),
]
SERVICE_TYPES = [
    ("photo-restoration", "Photo restoration"),
    ("scanning", "Scanning"),
    ("framing", "Framing"),
    ("printing", "Printing"),
    ("video-transfer", "Video transfer"),
]
PACKAGES = [
    ("Starter box", "Prints in a keepsake box", "5.00", "11.00", ""),
    ("Frame kit", "Framed prints; choose a size", "8.00", "19.00", "size"),
    ("Archive drive", "Everything on a USB drive", "5.00", "11.00", ""),
]
PLANS = [
    ("Free", "0", "", None),
    ("Standard", "50", "Starter box", "30"),
    ("Premium", "120", "Frame kit", None),
    ("Archive", "250", "Archive drive", None),
]
ITEMS = [
    ("4x6 print", "2.50"),
    ("8x10 print", "7.00"),
    ("Photo scan", "0.75"),
    ("Restoration", "35.00"),
    ("Frame 11x14", "45.00"),
    ("Tape transfer", "25.00"),
]
# (stage, weight): where demo orders are now
STAGE_WEIGHTS = [
    ("received", 12),
    ("in-production", 14),
    ("quality-check", 8),
    ("shipped", 10),
    ("complete", 44),
    ("on-hold", 5),
    ("cancelled", 7),
]
# how an order got to its stage
PATHS = {
    "received": [],
    "in-production": ["in-production"],
    "quality-check": ["in-production", "quality-check"],
    "shipped": ["in-production", "quality-check", "shipped"],
    "complete": ["in-production", "quality-check", "shipped", "complete"],
    "on-hold": ["in-production", "on-hold"],
    "cancelled": ["cancelled"],
}
FIRST = ["Tucker", "Naveen", "Joe", "Maya", "Priya", "Liam", "Sofia", "Chen", "Amara", "Noah"]
LAST = ["Vega", "Jain", "Jackson", "Lopez", "Shah", "Okafor", "Rossi", "Wei", "Diallo", "Novak"]


@dataclass
class Catalogue:
    locations: list[Location]
    service_types: list[ServiceType]
    plans: list[Plan]
    clients: list[Client]
    assignees: list


@transaction.atomic
def seed_catalogue(people: DemoPeople) -> Catalogue:
    """Locations, service types, packages, plans, client addresses (safe to run again)."""
    locations = []
    for code, name, address, city, state, postal in LOCATIONS:
        location, _ = Location.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "address": address,
                "city": city,
                "state": state,
                "postal_code": postal,
            },
        )
        locations.append(location)
    service_types = [
        ServiceType.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in SERVICE_TYPES
    ]
    packages = {}
    for name, description, domestic, international, option in PACKAGES:
        packages[name], _ = Package.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "shipping_domestic": Decimal(domestic),
                "shipping_international": Decimal(international),
                "required_option": option,
            },
        )
    plans = []
    for name, price, package, upgrade in PLANS:
        plan, _ = Plan.objects.get_or_create(
            name=name,
            defaults={
                "css_class": f"plan-{name.lower()}",
                "description": f"<p>The {name} plan.</p>",
                "online_benefits": "<p>Order tracking online.</p>",
                "price": Decimal(price),
                "upgrade_price": Decimal(upgrade) if upgrade else None,
                "package": packages.get(package),
            },
        )
        plans.append(plan)
    # every other client keeps a primary shipping address; the others show the issue
    for index, client in enumerate(people.clients):
        if index % 2 == 0 and not client.addresses.filter(is_primary_shipping=True).exists():
            first, _, last = client.name.partition(" ")
            Address.objects.create(
                client=client,
                first_name=first,
                last_name=last,
                address=f"{100 + index} Market St",
                city="Oakland",
                state="CA",
                postal_code="94612",
                is_primary_shipping=True,
            )
    # the liaison reads their clients' orders through the customer API
    for application in Application.objects.all():
        role_grant(user=people.liaison, application=application, role_name=roles.CUSTOMER)
    assignees = [employee.user for employee in Employee.objects.select_related("user")]
    return Catalogue(locations, service_types, plans, list(people.clients), assignees)


def _external_id(number: int) -> str:
    return f"demo-{number}"


def _draw(number: int, catalogue: Catalogue, now: datetime) -> tuple[OrderDraft, str]:
    """The demo order with this number, and the stage it is in (same every run)."""
    rng = random.Random(number)
    stage = rng.choices([s for s, _ in STAGE_WEIGHTS], [w for _, w in STAGE_WEIGHTS])[0]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    added = now - timedelta(days=rng.randint(0, 720), minutes=rng.randint(0, 1440))
    lines = []
    for _ in range(rng.randint(1, 3)):
        name, price = rng.choice(ITEMS)
        lines.append(LineDraft(name=name, quantity=rng.randint(1, 4), price=Decimal(price)))
    subtotal = sum((line.price * line.quantity for line in lines), Decimal(0))
    shipping = Decimal(rng.choice(["0", "5", "10"]))
    discount = Decimal(rng.choice(["0", "0", "5"])).min(subtotal)
    totals = [
        TotalDraft(code="subtotal", value=subtotal),
        TotalDraft(code="shipping", value=shipping),
        TotalDraft(code="discount", value=discount),
        TotalDraft(code="total", value=subtotal + shipping - discount),
    ]
    completed = added + timedelta(days=rng.randint(2, 20)) if stage == "complete" else None
    draft = OrderDraft(
        first_name=first,
        last_name=last,
        email=f"{first.lower()}.{last.lower()}{number}@example.com",
        telephone=f"+1 (604) 555-{number % 10000:04d}",
        order_type=rng.choice(["delivery", "collection"]),
        order_date=(added + timedelta(days=rng.randint(1, 14))).date(),
        order_time=datetime.min.time().replace(hour=rng.randint(9, 17)),
        processed=stage != "received",
        payment=rng.choice(["card", "cod", "invoice"]),
        invoice_prefix=f"INV-{added.year}-00",
        invoice_date=added if stage != "received" else None,
        customer=rng.choice(catalogue.clients) if catalogue.clients else None,
        location=rng.choice(catalogue.locations),
        plan=rng.choice(catalogue.plans),
        service_type=rng.choice(catalogue.service_types),
        services_addons=rng.sample(["rush-scan", "gift-wrap", "cloud-backup"], rng.randint(0, 2)),
        delivery_rush=rng.random() < 0.1,
        due_date=(added + timedelta(days=21)).date(),
        external_id=_external_id(number),
        assignee=rng.choice(catalogue.assignees) if catalogue.assignees else None,
        paid_at=added if stage not in ("received", "cancelled") else None,
        completed_at=completed,
        date_added=added,
        ip_address=f"192.168.{number % 250}.{number % 200 + 1}",
        user_agent="Mozilla/5.0 (demo)",
        lines=lines,
        totals=totals,
    )
    return draft, stage


def _missing(numbers: list[int]) -> list[int]:
    wanted = {_external_id(n): n for n in numbers}
    existing = set(
        Order.objects.filter(external_id__in=list(wanted)).values_list("external_id", flat=True)
    )
    return [number for external_id, number in wanted.items() if external_id not in existing]


def _rich_shipments(order: Order, number: int, stage: str) -> None:
    rng = random.Random(-number)
    if stage in ("shipped", "complete"):
        shipment = order_part_save(
            part=Shipment(
                order=order,
                status="shipped",
                ship_date=(order.date_added + timedelta(days=3)).date(),
                tracking_url=f"https://tools.usps.com/id={9269000 + number}",
            ),
            actor=ACTOR,
        )
        for index in range(rng.randint(1, 3)):
            order_part_save(
                part=ShipmentItem(shipment=shipment, name=f"Item {index + 1}", option="8x10"),
                actor=ACTOR,
            )
    if stage == "complete" and rng.random() < 0.35:
        # a second, queued shipment; without an option it shows missing_required_option,
        # and for clients without a primary address missing_shipment_address
        shipment = order_part_save(part=Shipment(order=order, status="queued"), actor=ACTOR)
        order_part_save(
            part=ShipmentItem(shipment=shipment, name="Bonus print", option=""), actor=ACTOR
        )


def seed_rich_orders(catalogue: Catalogue, *, count: int, now: datetime) -> int:
    """Orders through the services, moved along the lifecycle; returns how many were made."""
    made = 0
    for number in _missing(list(range(1, count + 1))):
        draft, stage = _draw(number, catalogue, now)
        with transaction.atomic():
            order = order_create(draft=draft, actor=ACTOR, stage_trigger="seed-demo")
            at = draft.date_added
            for step in PATHS[stage]:
                at += timedelta(hours=random.Random(number + len(step)).randint(2, 60))
                stage_record(
                    order=order,
                    stage=step,
                    actor=ACTOR,
                    stage_at=min(at, now),
                    stage_trigger="seed-demo",
                )
            _rich_shipments(order, number, stage)
        made += 1
    return made


def _bulk_shipments(orders: list[Order], stages: dict[int, str]) -> tuple[int, int]:
    shipments = [
        Shipment(
            order=order,
            status="shipped",
            ship_date=(order.date_added + timedelta(days=3)).date(),
            tracking_url=f"https://tools.usps.com/id={9269000 + order.pk}",
        )
        for order in orders
        if stages[order.pk] in ("shipped", "complete")
    ]
    Shipment.objects.bulk_create(shipments, batch_size=BATCH)
    items = [ShipmentItem(shipment=s, name="Prints", option="8x10") for s in shipments]
    ShipmentItem.objects.bulk_create(items, batch_size=BATCH)
    return len(shipments), len(items)


def _batch_bulk_create(drafts: list[tuple[OrderDraft, str]]) -> dict[str, int]:
    """One batch through orders_create_bulk (any database)."""
    by_stage: dict[str, list[OrderDraft]] = {}
    for draft, stage in drafts:
        by_stage.setdefault(stage, []).append(draft)
    created, stages = [], {}
    for stage, rows in by_stage.items():
        orders = orders_create_bulk(
            rows=rows,
            actor=ACTOR,
            stage=stage,
            stage_trigger="seed-demo",
            batch_size=BATCH,
            record_history=False,
        )
        created += orders
        stages.update({order.pk: stage for order in orders})
    shipments, items = _bulk_shipments(created, stages)
    return {
        "orders": len(created),
        "lines": sum(len(d.lines) for d, _ in drafts),
        "totals": sum(len(d.totals) for d, _ in drafts),
        "shipments": shipments + items,
    }


# ---------------------------------------------------------------------------- PostgreSQL COPY


class _CopyTable:
    """COPY rows into a model's table: values by attname, the field default for the rest."""

    def __init__(self, model, *, with_ids: bool = False) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.json = {f.attname for f in self.fields if isinstance(f, models.JSONField)}
        self.columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)

    def ids(self, count: int) -> list[int]:
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def write(self, rows: list[dict]) -> int:
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({self.columns}) FROM STDIN") as copy:
                for row in rows:
                    values = []
                    for field in self.fields:
                        value = row.get(field.attname, self.defaults[field.attname])
                        values.append(Jsonb(value) if field.attname in self.json else value)
                    copy.write_row(values)
        return len(rows)


def _order_row(pk: int, number: str, draft: OrderDraft, now: datetime) -> dict:
    return {
        "id": pk,
        "number": number,
        "hash": Order.new_hash(),
        "external_id": draft.external_id,
        "customer_id": draft.customer.pk if draft.customer else None,
        "location_id": draft.location.pk if draft.location else None,
        "plan_id": draft.plan.pk if draft.plan else None,
        "service_type_id": draft.service_type.pk if draft.service_type else None,
        "assignee_id": draft.assignee.pk if draft.assignee else None,
        "assignee_updated_at": draft.date_added if draft.assignee else None,
        "first_name": draft.first_name,
        "last_name": draft.last_name,
        "email": draft.email,
        "telephone": draft.telephone,
        "order_type": draft.order_type,
        "order_date": draft.order_date,
        "order_time": draft.order_time,
        "processed": draft.processed,
        "payment": draft.payment,
        "invoice_prefix": draft.invoice_prefix,
        "invoice_date": draft.invoice_date,
        "services_addons": draft.services_addons,
        "delivery_rush": draft.delivery_rush,
        "due_date": draft.due_date,
        "ip_address": draft.ip_address,
        "user_agent": draft.user_agent,
        "paid_at": draft.paid_at,
        "completed_at": draft.completed_at,
        "total_items": sum(line.quantity for line in draft.lines),
        "order_total": next(t.value for t in draft.totals if t.code == "total"),
        "date_added": draft.date_added,
        "date_modified": now,
    }


def _batch_copy(drafts: list[tuple[OrderDraft, str]], now: datetime) -> dict[str, int]:
    """One batch on PostgreSQL: COPY into the orders tables, statuses through the service."""
    orders_table = _CopyTable(Order, with_ids=True)
    lines_table, totals_table = _CopyTable(OrderLine), _CopyTable(OrderTotal)
    shipments_table = _CopyTable(Shipment, with_ids=True)
    items_table = _CopyTable(ShipmentItem)
    ids = orders_table.ids(len(drafts))
    numbers = order_numbers_allocate(count=len(drafts))
    order_rows, line_rows, total_rows, shipped = [], [], [], []
    for pk, number, (draft, stage) in zip(ids, numbers, drafts, strict=True):
        order_rows.append(_order_row(pk, number, draft, now))
        line_rows += [
            {
                "order_id": pk,
                "name": line.name,
                "quantity": line.quantity,
                "price": line.price,
                "subtotal": line.price * line.quantity,
            }
            for line in draft.lines
        ]
        total_rows += [
            {
                "order_id": pk,
                "code": total.code,
                "title": total.code.capitalize(),
                "value": total.value,
                "priority": index,
            }
            for index, total in enumerate(draft.totals)
        ]
        if stage in ("shipped", "complete"):
            shipped.append((pk, draft.date_added))
    written = {
        "orders": orders_table.write(order_rows),
        "lines": lines_table.write(line_rows),
        "totals": totals_table.write(total_rows),
    }
    shipment_ids = shipments_table.ids(len(shipped))
    shipments_table.write(
        [
            {
                "id": shipment_id,
                "order_id": pk,
                "status": "shipped",
                "ship_date": (added + timedelta(days=3)).date(),
                "tracking_url": f"https://tools.usps.com/id={9269000 + pk}",
            }
            for shipment_id, (pk, added) in zip(shipment_ids, shipped, strict=True)
        ]
    )
    items_table.write(
        [{"shipment_id": sid, "name": "Prints", "option": "8x10"} for sid in shipment_ids]
    )
    written["shipments"] = 2 * len(shipped)
    # each order's first status and history row, in its stage, through the stages service
    by_stage: dict[str, list[Order]] = {}
    for row, (draft, stage) in zip(order_rows, drafts, strict=True):
        order = Order(
            id=row["id"],
            customer=draft.customer,
            external_id=draft.external_id,
            delivery_rush=draft.delivery_rush,
            due_date=draft.due_date,
            notes=draft.notes,
        )
        by_stage.setdefault(stage, []).append(order)
    for stage, orders in by_stage.items():
        order_statuses_start_bulk(
            orders=orders, actor=ACTOR, stage_trigger="seed-demo", stage=stage
        )
    return written


def seed_bulk_orders(
    catalogue: Catalogue,
    *,
    first: int,
    last: int,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Demo orders `first`..`last` in batches, a transaction per batch; rows written per kind."""
    written = {"orders": 0, "lines": 0, "totals": 0, "statuses": 0, "shipments": 0}
    fast = connection.vendor == "postgresql"
    for start in range(first, last + 1, BATCH):
        numbers = _missing(list(range(start, min(start + BATCH, last + 1))))
        drafts = [_draw(number, catalogue, now) for number in numbers]
        if drafts:
            with transaction.atomic():
                batch = _batch_copy(drafts, now) if fast else _batch_bulk_create(drafts)
            for kind, count in batch.items():
                written[kind] += count
            written["statuses"] += 2 * batch["orders"]  # current status + history row
        if progress:
            progress(min(start + BATCH - 1, last), last)
    return written


@dataclass
class SeedReport:
    rich: int
    bulk: dict[str, int]
    seconds: float

    @property
    def rows(self) -> int:
        return self.rich + sum(self.bulk.values())


def seed_orders(
    people: DemoPeople, *, orders: int, progress: Callable[[int, int], None] | None = None
) -> SeedReport:
    """Make sure demo orders 1..`orders` exist (see the module docstring)."""
    started = clock.perf_counter()
    catalogue = seed_catalogue(people)
    now = timezone.now().replace(microsecond=0)
    rich = seed_rich_orders(catalogue, count=min(orders, RICH_ORDERS), now=now)
    bulk = {}
    if orders > RICH_ORDERS:
        bulk = seed_bulk_orders(
            catalogue, first=RICH_ORDERS + 1, last=orders, now=now, progress=progress
        )
    return SeedReport(rich=rich, bulk=bulk, seconds=clock.perf_counter() - started)

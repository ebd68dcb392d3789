"""Demo orders for `manage.py seed_demo`: catalogue, a rich set through the services, and
any number more through the bulk path.

Every demo order has external_id `demo-<n>`; a run creates only the numbers that do not
exist yet, so running it again changes nothing. Choices are drawn from a random generator
seeded with the order's number, so a number always gets the same kind of order.

- The first RICH_ORDERS orders go through `order_create`, move along the lifecycle with
  `stage_record`, and get shipments through `order_part_save` (some with issues).
- The rest are written in batches, one statement per table and batch (COPY on PostgreSQL,
  bulk_create elsewhere; `config.bulk_rows`), never a save per row: orders, lines, totals,
  one shipment (with an item) for shipped and completed orders, and each order's whole stage
  history (~5 rows: rework after a quality check, holds, late duplicate reports) with its
  current status through `stages.services.order_stage_histories_bulk`. They belong to a
  pool of clients without logins, about ten orders each. Ids and numbers are taken from
  their sequences first. No simple-history rows: demo data has no editor.
"""

import random
import time as clock
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.demo import DemoPeople
from accounts.models import Client, Employee
from config.bulk_rows import BulkRows, foreign_keys_checked_once
from orders.models import (
    Address,
    JobFlowRule,
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
)
from stages.services import BulkHistory, StageStep, order_stage_histories_bulk, stage_record

ACTOR = Actor.system("seed_demo")
RICH_ORDERS = 300
BATCH = 10000
WRITERS = 2  # PostgreSQL: batches written at the same time, each on its own connection
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
# job-flow rules (service type slug or None for every order, stage, message, position):
# what must have happened before an order may complete (docs/completion.md)
JOB_FLOW_RULES = [
    (None, "quality-check", "Needs quality check!", 10),
    ("video-transfer", "shipped", "Needs shipping: the original tapes go back first!", 20),
]
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
    assignees = [employee.user for employee in Employee.objects.select_related("user")]
    return Catalogue(locations, service_types, plans, list(people.clients), assignees)


def seed_job_flow_rules() -> int:
    """The demo's job-flow rules, when missing (staff may have edited them); how many made."""
    from stages.models import Stage

    made = 0
    for service_slug, stage_slug, message, position in JOB_FLOW_RULES:
        stage = Stage.objects.filter(slug=stage_slug).first()
        service_type = ServiceType.objects.filter(slug=service_slug).first()
        if stage is None or (service_slug and service_type is None):
            continue
        _, created = JobFlowRule.objects.get_or_create(
            service_type=service_type,
            stage=stage,
            defaults={"message": message, "position": position},
        )
        made += created
    return made


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


# ---------------------------------------------------------------------------- bulk orders

CLIENTS_PER_BLOCK = 10  # bulk orders n in one block of ORDERS_PER_BLOCK share these clients
ORDERS_PER_BLOCK = 100
POOL_EMAIL = "customer{}@clients.demo.example"


def _pool_key(number: int) -> int:
    """The pool client of bulk order `number` (~10 orders per client, same every run)."""
    block = (number - 1) // ORDERS_PER_BLOCK
    return block * CLIENTS_PER_BLOCK + random.Random(~number).randrange(CLIENTS_PER_BLOCK) + 1


def _pool_clients(first: int, last: int) -> dict[int, Client]:
    """The pool clients that bulk orders `first`..`last` buy as (created where missing).

    A million orders from eight people would be no customer list at all: bulk orders belong
    to a pool of clients without logins, about ten orders each.
    """
    keys = range(_pool_key_floor(first), _pool_key_ceiling(last) + 1)
    wanted = {POOL_EMAIL.format(key): key for key in keys}
    found = _pool_found()
    missing = [key for email, key in wanted.items() if email not in found]
    if missing:
        rows = BulkRows(
            Client,
            ["name", "email", "telephone", "billing_postal_code"],
            constants={"user_id": None},
            now=timezone.now(),
        )
        for key in missing:
            rng = random.Random(-key)
            rows.add(
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                POOL_EMAIL.format(key),
                f"+1 (503) 555-{key % 10000:04d}",
                f"9{7000 + key % 3000:04d}",
            )
        with transaction.atomic():
            rows.write()
        found = _pool_found()
    return {
        key: Client(pk=found[email][0], billing_postal_code=found[email][1])
        for email, key in wanted.items()
    }


def _pool_found() -> dict[str, tuple[int, str]]:
    rows = Client.objects.filter(email__endswith=POOL_EMAIL.format("").removeprefix("customer"))
    return {
        email: (pk, postal)
        for email, pk, postal in rows.values_list("email", "pk", "billing_postal_code")
    }


def _pool_key_floor(number: int) -> int:
    return (number - 1) // ORDERS_PER_BLOCK * CLIENTS_PER_BLOCK + 1


def _pool_key_ceiling(number: int) -> int:
    return ((number - 1) // ORDERS_PER_BLOCK + 1) * CLIENTS_PER_BLOCK


def _history(number: int, stage: str, added: datetime, now: datetime) -> list[StageStep]:
    """How bulk order `number` got to `stage`: ~5 steps on average (rework after a quality
    check, a hold on the way, a late duplicate report from the shop floor)."""
    rng = random.Random(number * 7919 + 1)
    path = ["received", *PATHS[stage]]
    if "quality-check" in path and rng.random() < 0.5:
        at = path.index("quality-check") + 1
        path[at:at] = ["in-production", "quality-check"]  # sent back once
    if len(path) > 1 and stage != "on-hold" and rng.random() < 0.3:
        at = rng.randrange(1, len(path))
        path[at:at] = ["on-hold", path[at - 1]]  # held, released to where it was
    steps, at = [], added
    for index, slug in enumerate(path):
        if index:
            at += timedelta(hours=rng.randint(2, 60), minutes=rng.randint(0, 59))
        steps.append(StageStep(slug, min(at, now)))
        if slug == "in-production" and rng.random() < 0.4:
            # the shop floor reports the same stage again, later: history only
            late = min(at + timedelta(minutes=rng.randint(5, 90)), now)
            steps.append(StageStep(slug, late, False, "shop-floor-sync"))
    return steps


@dataclass
class _Batch:
    """One batch of bulk orders, ready to write: rows per table and the stage histories."""

    tables: dict[str, list[BulkRows]]
    histories: list[BulkHistory]


def _batch_prepare(drafts: list[tuple[int, OrderDraft, str]], now: datetime) -> _Batch:
    """The rows of one batch (ids and numbers from their sequences; nothing written yet)."""
    orders = BulkRows(Order, ORDER_COLUMNS, now=now)
    lines = BulkRows(OrderLine, ["order_id", "name", "quantity", "price", "subtotal"], now=now)
    totals = BulkRows(OrderTotal, ["order_id", "code", "title", "value", "priority"], now=now)
    shipments = BulkRows(
        Shipment, ["id", "order_id", "status", "ship_date", "tracking_url"], now=now
    )
    items = BulkRows(ShipmentItem, ["shipment_id", "name", "option"], now=now)
    ids = orders.ids(len(drafts))
    numbers = order_numbers_allocate(count=len(drafts))
    histories, shipped = [], []
    for pk, number, (n, draft, stage) in zip(ids, numbers, drafts, strict=True):
        steps = _history(n, stage, draft.date_added, now)
        if stage == "complete":
            draft.completed_at = steps[-1].at
        orders.add(*_order_values(pk, number, draft, now))
        for line in draft.lines:
            lines.add(pk, line.name, line.quantity, line.price, line.price * line.quantity)
        for index, total in enumerate(draft.totals):
            totals.add(pk, total.code, TOTAL_TITLES[total.code], total.value, index)
        if stage in ("shipped", "complete"):
            shipped.append((pk, draft.date_added))
        customer = draft.customer
        histories.append(
            BulkHistory(
                order_id=pk,
                steps=steps,
                client_id=customer.pk if customer else None,
                client_billing_postal_code=customer.billing_postal_code if customer else "",
                external_id=draft.external_id or "",
                delivery_rush=draft.delivery_rush,
                due_date=draft.due_date,
                service_type=draft.service_type.slug if draft.service_type else "",
                services_addons=draft.services_addons,
            )
        )
    shipment_ids = shipments.ids(len(shipped))
    for shipment_id, (pk, added) in zip(shipment_ids, shipped, strict=True):
        shipments.add(
            shipment_id,
            pk,
            "shipped",
            (added + timedelta(days=3)).date(),
            f"https://tools.usps.com/id={9269000 + pk}",
        )
        items.add(shipment_id, "Prints", "8x10")
    return _Batch(
        tables={
            "orders": [orders],
            "lines": [lines],
            "totals": [totals],
            "shipments": [shipments, items],
        },
        histories=histories,
    )


def _batch_write(batch: _Batch) -> dict[str, int]:
    """Write one batch in one transaction; rows written per kind."""
    written: dict[str, int] = {}
    # every row names parents that exist by construction (ids from the sequences, the
    # catalogue, the pool clients): no parent to lock
    with transaction.atomic(), foreign_keys_checked_once({}):
        for kind, tables in batch.tables.items():
            written[kind] = sum(rows.write() for rows in tables)
        stage_rows = order_stage_histories_bulk(
            histories=batch.histories, actor=ACTOR, stage_trigger="seed-demo"
        )
    written["stages"] = stage_rows["order_stages"]
    written["statuses"] = stage_rows["order_statuses"]
    return written


def _write_in_thread(batch: _Batch) -> dict[str, int]:
    try:
        return _batch_write(batch)
    finally:
        connections.close_all()  # this thread's connection: nothing else would close it


TOTAL_TITLES = {code: code.capitalize() for code in ("subtotal", "shipping", "discount", "total")}
ORDER_COLUMNS = [
    "id",
    "number",
    "hash",
    "external_id",
    "customer_id",
    "location_id",
    "plan_id",
    "service_type_id",
    "assignee_id",
    "assignee_updated_at",
    "first_name",
    "last_name",
    "email",
    "telephone",
    "order_type",
    "order_date",
    "order_time",
    "processed",
    "payment",
    "invoice_prefix",
    "invoice_date",
    "services_addons",
    "delivery_rush",
    "due_date",
    "ip_address",
    "user_agent",
    "paid_at",
    "completed_at",
    "total_items",
    "order_total",
    "date_added",
    "date_modified",
]


def _order_values(pk: int, number: str, draft: OrderDraft, now: datetime) -> tuple:
    """The ORDER_COLUMNS of one bulk order."""
    return (
        pk,
        number,
        Order.new_hash(),
        draft.external_id,
        draft.customer.pk if draft.customer else None,
        draft.location.pk if draft.location else None,
        draft.plan.pk if draft.plan else None,
        draft.service_type.pk if draft.service_type else None,
        draft.assignee.pk if draft.assignee else None,
        draft.date_added if draft.assignee else None,
        draft.first_name,
        draft.last_name,
        draft.email,
        draft.telephone,
        draft.order_type,
        draft.order_date,
        draft.order_time,
        draft.processed,
        draft.payment,
        draft.invoice_prefix,
        draft.invoice_date,
        draft.services_addons,
        draft.delivery_rush,
        draft.due_date,
        draft.ip_address,
        draft.user_agent,
        draft.paid_at,
        draft.completed_at,
        sum(line.quantity for line in draft.lines),
        next(t.value for t in draft.totals if t.code == "total"),
        draft.date_added,
        now,
    )


def seed_bulk_orders(
    catalogue: Catalogue,
    *,
    first: int,
    last: int,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Demo orders `first`..`last` in batches, a transaction per batch; rows written per kind."""
    written = dict.fromkeys(
        ("clients", "orders", "lines", "totals", "shipments", "statuses", "stages"), 0
    )
    clients_before = Client.objects.count()
    pool = _pool_clients(first, last)
    written["clients"] = Client.objects.count() - clients_before
    # PostgreSQL outside a transaction: writer threads (each its own connection) write the
    # previous batches while this one draws the next, so Python and the database (two
    # backends: index upkeep is its biggest cost) work at the same time
    pipelined = connection.vendor == "postgresql" and not connection.in_atomic_block
    writer = ThreadPoolExecutor(max_workers=WRITERS) if pipelined else None
    pending: deque[Future] = deque()

    def collect(done: dict[str, int]) -> None:
        for kind, count in done.items():
            written[kind] += count

    try:
        for start in range(first, last + 1, BATCH):
            numbers = _missing(list(range(start, min(start + BATCH, last + 1))))
            drafts = []
            for number in numbers:
                draft, stage = _draw(number, catalogue, now)
                draft.customer = pool[_pool_key(number)]
                drafts.append((number, draft, stage))
            if drafts:
                if writer is None:
                    with transaction.atomic():  # SQLite takes ids above MAX(id): one transaction
                        collect(_batch_write(_batch_prepare(drafts, now)))
                else:
                    batch = _batch_prepare(drafts, now)
                    while len(pending) >= WRITERS:
                        collect(pending.popleft().result())
                    pending.append(writer.submit(_write_in_thread, batch))
            if progress:
                progress(min(start + BATCH - 1, last), last)
        while pending:
            collect(pending.popleft().result())
    finally:
        if writer is not None:
            writer.shutdown()
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
    seed_job_flow_rules()
    now = timezone.now().replace(microsecond=0)
    rich = seed_rich_orders(catalogue, count=min(orders, RICH_ORDERS), now=now)
    bulk = {}
    if orders > RICH_ORDERS:
        bulk = seed_bulk_orders(
            catalogue, first=RICH_ORDERS + 1, last=orders, now=now, progress=progress
        )
    return SeedReport(rich=rich, bulk=bulk, seconds=clock.perf_counter() - started)

"""Factories and helpers for group orders: upload files, group orders, jobs."""

import io
from pathlib import Path

import factory
from django.core.files.base import ContentFile

from accounts.actors import Actor
from group_orders.models import GroupOrder, Job
from group_orders.services.columns import COLUMN_NAMES
from tests.factories.orders import LocationFactory, ServiceTypeFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "group_orders"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_file(name: str) -> io.BytesIO:
    stream = io.BytesIO(fixture_bytes(name))
    stream.name = name
    return stream


def catalogue() -> None:
    """The service types and location the fixture files refer to."""
    ServiceTypeFactory(slug="portrait", name="Portrait")
    ServiceTypeFactory(slug="framing", name="Framing")
    LocationFactory(code="downtown", name="Downtown")


def csv_bytes(rows: list[dict], columns: tuple[str, ...] = COLUMN_NAMES) -> bytes:
    """A CSV order file; missing values are empty."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return out.getvalue().encode()


def order_row(n: int, **overrides) -> dict:
    row = {
        "external_id": f"E-{n}",
        "first_name": f"First{n}",
        "last_name": f"Last{n}",
        "email": f"person{n}@example.com",
        "telephone": f"604555{n % 10000:04d}",
        "service_type": "portrait",
        "order_total": "12.50",
    }
    row.update(overrides)
    return row


class GroupOrderFactory(factory.django.DjangoModelFactory):
    """A group order as an upload leaves it (checked, not yet imported)."""

    class Meta:
        model = GroupOrder

    public_id = factory.Faker("uuid4")
    file = factory.LazyAttribute(
        lambda o: ContentFile(csv_bytes([order_row(1)]), name=f"{o.public_id}.csv")
    )
    original_filename = "orders.csv"
    file_format = "csv"
    file_size = factory.LazyAttribute(lambda o: o.file.size)
    encoding = "utf-8"
    delimiter = ","
    columns = factory.LazyFunction(lambda: list(COLUMN_NAMES))
    uploader = factory.SubFactory("tests.factories.accounts.UserFactory")
    status = GroupOrder.Status.PROCESSING
    batch_size = 2000


def job_for(kind: str = "group_orders.import", **fields) -> Job:
    from group_orders.services.jobs import job_enqueue

    return job_enqueue(kind=kind, actor=Actor.system("test"), **fields)

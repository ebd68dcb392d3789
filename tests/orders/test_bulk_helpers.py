"""The small pieces bulk imports lean on: hashes, drafts, the e-mail rule, any_of, numbers."""

import uuid
from dataclasses import fields

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from orders.models import Order
from orders.services import OrderDraft, order_drafts_many, order_numbers_allocate
from orders.services.drafts import email_is_valid
from tests.factories.orders import LocationFactory, OrderFactory


def test_new_hashes_are_distinct_uuid4_hex_like_new_hash():
    hashes = Order.new_hashes(500)
    assert len(set(hashes)) == 500
    for value in hashes:
        parsed = uuid.UUID(value)
        assert (parsed.hex, parsed.version) == (value, 4)
        assert parsed.variant == uuid.RFC_4122
    assert len(Order.new_hash()) == len(hashes[0])


@pytest.mark.django_db
def test_order_drafts_many_equals_the_dataclass_made_draft_by_draft():
    location = LocationFactory()
    common = {"location": location, "payment": "card"}
    rows = [{"first_name": "Ada", "email": "ada@example.com"}, {"first_name": "Alan"}]
    made = order_drafts_many(common, rows)
    expected = [OrderDraft(**common, **row) for row in rows]
    names = [f.name for f in fields(OrderDraft)]
    assert [[getattr(d, n) for n in names] for d in made] == [
        [getattr(d, n) for n in names] for d in expected
    ]
    assert isinstance(made[0], OrderDraft)
    made[0].lines.append("x")  # every draft has lists of its own
    assert made[1].lines == [] and made[1].services_addons == []


ADDRESSES = [
    "ada.lovelace.12@example.com",
    "A_B+tag@Sub.Example.co.uk",
    "x@y.z",  # one-letter top-level domain: Django refuses
    "a..b@example.com",
    ".a@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@example.c0m",
    "a@example.com.",
    "a@[127.0.0.1]",
    '"quoted name"@example.com',
    "name@xn--bcher-kva.example",
    "üñí@example.com",
    "a@" + "b" * 64 + ".com",
    "a" * 250 + "@example.com",
    "no-at-sign",
    "two@@example.com",
    "a@b@example.com",
    "",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_email_is_valid_agrees_with_django_validate_email(address):
    try:
        validate_email(address)
        django_says = True
    except ValidationError:
        django_says = False
    assert email_is_valid(address) is django_says


@pytest.mark.django_db
def test_any_of_finds_what_in_finds():
    odd = ['A"1\\x', "Zürich-é/ü", "tab\there", "{x,y}", "NULL"]
    for external_id in ["A-1", "A-2", *odd]:
        OrderFactory(external_id=external_id)
    OrderFactory(external_id=None)
    wanted = ["A-1", "A-3", "A-2", *odd, "a-1", "A"]
    by_any = set(Order.objects.filter(external_id__any_of=wanted).values_list("pk", flat=True))
    by_in = set(Order.objects.filter(external_id__in=wanted).values_list("pk", flat=True))
    assert by_any == by_in and len(by_any) == 2 + len(odd)
    assert not Order.objects.filter(external_id__any_of=[]).exists()


@pytest.mark.django_db
def test_fresh_numbers_skip_numbers_orders_already_have_in_their_range():
    upcoming = int(order_numbers_allocate(count=1)[0])
    OrderFactory(number=str(upcoming + 2))
    OrderFactory(number=str(upcoming + 4))
    numbers = order_numbers_allocate(count=5)
    assert len(set(numbers)) == 5
    assert str(upcoming + 2) not in numbers and str(upcoming + 4) not in numbers
    assert not Order.objects.filter(number__in=numbers).exists()

"""config.api.compiled: a compiled representation gives what the serializer gives, field
for field, DRF's edge cases included (the stage post's own rows: test_order_stages_api)."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from rest_framework import serializers

from config.api.compiled import CompiledRepresentation


class Inner(serializers.Serializer):
    code = serializers.CharField()
    amount = serializers.DecimalField(max_digits=8, decimal_places=2)


class Row(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="person.name", allow_null=True)
    city = serializers.CharField(source="person.address.city", default="nowhere")
    nickname = serializers.CharField(required=False)
    shout = serializers.CharField(source="loud")  # a method: DRF calls it
    when = serializers.DateTimeField()
    flag = serializers.BooleanField()
    inner = Inner(source="*")
    price = Inner(source="price_row", allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    extra = serializers.JSONField()
    label = serializers.SerializerMethodField()
    secret = serializers.CharField(write_only=True)

    def get_label(self, row) -> str:
        return f"#{row['id'] if isinstance(row, dict) else row.id}"


class Item:
    def __init__(self, **values):
        self.__dict__.update(values)

    def loud(self) -> str:
        return self.code.upper()


def _item(**changes) -> Item:
    values = {
        "id": 7,
        "person": SimpleNamespace(name="Ann", address=SimpleNamespace(city="Boise")),
        "nickname": "annie",
        "when": datetime(2026, 3, 8, 14, 5, tzinfo=UTC),
        "flag": 1,
        "code": "ab",
        "amount": Decimal("3.5"),
        "price_row": SimpleNamespace(code="p", amount=Decimal("1")),
        "tags": ["a", 2],
        "extra": {"k": [1, None]},
        "secret": "s",
    }
    values.update(changes)
    return Item(**values)


@pytest.mark.parametrize(
    "instance",
    [
        _item(),
        _item(person=None),  # None on the path: null (allow_null)
        _item(person=SimpleNamespace(name=None, address=None)),  # the default
        _item(nickname=None, price_row=None, when=None, tags=[], extra=None),
        {  # a mapping: read DRF's way
            "id": "8",
            "person": {"name": "Bo", "address": {"city": "Reno"}},
            "loud": "LOUD",
            "when": datetime(2026, 1, 1, tzinfo=UTC),
            "flag": "true",
            "code": 5,
            "amount": 2,
            "price_row": None,
            "tags": (),
            "extra": [],
        },
    ],
)
def test_the_output_is_drfs(instance):
    if isinstance(instance, Item):
        del instance.__dict__["nickname"]  # missing and not required: the key is left out
    assert CompiledRepresentation(Row())(instance) == Row().to_representation(instance)


def test_a_missing_required_attribute_fails_as_in_drf():
    instance = _item()
    del instance.__dict__["flag"]
    with pytest.raises(AttributeError) as drf:
        Row().to_representation(instance)
    with pytest.raises(AttributeError) as compiled:
        CompiledRepresentation(Row())(instance)
    assert str(compiled.value) == str(drf.value)


def test_a_serializer_with_its_own_representation_is_refused():
    class Own(serializers.Serializer):
        def to_representation(self, instance):
            return {}

    with pytest.raises(TypeError, match="Own has its own to_representation"):
        CompiledRepresentation(Own())


def test_related_fields_are_read_drfs_way():
    class WithRelated(serializers.Serializer):
        user = serializers.PrimaryKeyRelatedField(read_only=True)

    users = SimpleNamespace(pk=3)
    for instance in (SimpleNamespace(user=users), SimpleNamespace(user=None)):
        assert CompiledRepresentation(WithRelated())(instance) == WithRelated().to_representation(
            instance
        )

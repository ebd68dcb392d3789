"""config.api.field_copies: shallow field copies, and absent fields passed over, validate as
DRF does, and each serializer instance's fields are its own."""

import pytest
from django.http import QueryDict
from rest_framework import serializers

from config.api.field_copies import ShallowFieldsMixin
from stages.api.serializers import StageRecordInputSerializer

pytestmark = pytest.mark.django_db


class Tags(ShallowFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=5)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)
    nested = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), required=False
    )


class DrfWay:
    """DRF's deep copies, and every field run for every input."""

    def get_fields(self):
        return serializers.Serializer.get_fields(self)

    _writable_fields = serializers.Serializer._writable_fields


def assert_validates_alike(ours: serializers.Serializer, drfs: serializers.Serializer) -> None:
    assert ours.is_valid() == drfs.is_valid()
    assert ours.errors == drfs.errors
    if drfs.is_valid():
        assert ours.validated_data == drfs.validated_data


class DeepTags(DrfWay, Tags):
    pass


class Hash(ShallowFieldsMixin, serializers.Serializer):
    code = serializers.CharField()
    note = serializers.CharField(required=False, allow_null=True)


class Sparse(ShallowFieldsMixin, serializers.Serializer):
    """Required, optional, defaulted and nested fields, as an input serializer has them."""

    id = serializers.IntegerField()
    flag = serializers.BooleanField(required=False)
    mode = serializers.CharField(default="plain")
    note = serializers.CharField(required=False, allow_null=True)
    items = serializers.ListField(child=serializers.IntegerField(), required=False)
    hash = Hash(required=False, allow_null=True)
    seen = serializers.ListField(child=serializers.CharField(), required=False)

    def validate_note(self, value):
        raise serializers.ValidationError("validate_note ran")  # only for a given note


class DrfSparse(DrfWay, Sparse):
    pass


@pytest.mark.parametrize(
    "data",
    [
        {"id": 1},
        {},
        {"id": "x", "note": "n"},
        {"id": 2, "note": None, "flag": "yes", "hash": {"code": "c"}},
        {"id": 3, "hash": {}, "items": ["a"]},
        {"id": 4, "hash": None, "mode": "fast", "seen": []},
        QueryDict("id=5&items=1&items=2"),  # form data: an absent checkbox is False, DRF's way
        QueryDict("id=6&flag=true&hash.code=c"),
        [("id", 1)],
    ],
)
def test_absent_fields_validate_as_in_drf(data):
    assert_validates_alike(Sparse(data=data), DrfSparse(data=data))


def test_only_given_or_needed_fields_are_run():
    sparse, ran = Sparse(data={"id": 1, "items": [2]}), []
    for field in sparse.fields.values():
        original = field.run_validation

        def spy(data=serializers.empty, _original=original, _name=field.field_name):
            ran.append(_name)
            return _original(data)

        field.run_validation = spy
    assert sparse.is_valid(), sparse.errors
    assert sorted(ran) == ["id", "items", "mode"]  # mode: for its default
    assert sparse.validated_data == {"id": 1, "items": [2], "mode": "plain"}


@pytest.mark.parametrize(
    "data",
    [
        {"name": "ann", "tags": ["a", "bb"], "nested": [[1, 2], [3]]},
        {"name": "too long", "tags": ["long"], "nested": [["x"]]},
        {"tags": "not a list"},
        {},
    ],
)
def test_validation_is_drfs(data):
    assert_validates_alike(Tags(data=data), DeepTags(data=data))


def test_each_instance_has_its_own_bound_fields():
    first, second = Tags(context={"who": 1}), Tags(context={"who": 2})
    for name in ("name", "tags", "nested"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert Tags._declared_fields[name] is not first.fields[name]
    inner = first.fields["nested"].child.child
    assert inner is not second.fields["nested"].child.child
    assert inner.context == {"who": 1} and second.fields["nested"].child.child.context == {"who": 2}
    first.fields["name"].max_length = 99  # one instance's change stays its own
    assert second.fields["name"].max_length == 5 == Tags().fields["name"].max_length


@pytest.mark.parametrize(
    "data",
    [
        {"order_id": 5, "stage": "on-hold", "update_status": True},
        {"order_id": "5", "stage": "", "order": {"services_addon_array": [1, "x", True]}},
        {"order_request_id": 3, "stage": "on-hold", "appointment": {"appt_id": "x"}},
        {"stage": "nope", "client": {"client_billing_postal_code": 12345, "extra": 1}},
    ],
)
def test_the_stage_post_validates_as_with_deep_copies(data):
    class Deep(DrfWay, StageRecordInputSerializer):
        pass

    assert_validates_alike(StageRecordInputSerializer(data=data), Deep(data=data))

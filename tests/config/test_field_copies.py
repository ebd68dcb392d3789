"""config.api.field_copies: shallow field copies validate as DRF's deep copies do, and each
serializer instance's fields are its own."""

import pytest
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


class DeepTags(Tags):
    def get_fields(self):
        return serializers.Serializer.get_fields(self)  # DRF's deep copies


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
    shallow, deep = Tags(data=data), DeepTags(data=data)
    assert shallow.is_valid() == deep.is_valid()
    assert shallow.errors == deep.errors
    if deep.is_valid():
        assert shallow.validated_data == deep.validated_data


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
    class Deep(StageRecordInputSerializer):
        def get_fields(self):
            return serializers.Serializer.get_fields(self)

    shallow, deep = StageRecordInputSerializer(data=data), Deep(data=data)
    assert shallow.is_valid() == deep.is_valid()
    assert shallow.errors == deep.errors

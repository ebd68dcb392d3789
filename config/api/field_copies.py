"""Cheaper field copies for the input serializers of hot endpoints.

DRF gives every serializer instance its own copy of the declared fields with
`copy.deepcopy`, which re-runs each field's `__init__` with deep-copied arguments: for the
stage post's 21 fields and their nested hashes that was an eighth of the request. A field
keeps no per-request state while it validates; what is its own per serializer is what
`bind()` sets on it (name, parent, source), and that lands on a shallow copy as well. So
`ShallowFieldsMixin` hands each instance shallow copies: a list or dict field's child is
copied and bound to the copy (its parent chain, and so `context`, reaches this instance),
and a nested serializer builds its own fields on first use, as before.

It also passes over the fields a JSON body leaves out. DRF runs every field for every
input: a left-out field that is optional and has no default ends in a `SkipField`
exception (a stage post sends 3 of its 21 parameters). `ShallowFieldsMixin` leaves such a
field out of the loop before it starts, for a plain mapping (not form data, whose absent
checkboxes and lists DRF reads its own way) and for fields whose `get_value` is DRF's own
(each reads a plain mapping's absent key as `empty`). What is validated, and how, and the
errors, are DRF's.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import fields, relations, serializers
from rest_framework.fields import empty
from rest_framework.utils import html

# DRF's own get_value methods: each gives `empty` for a key a plain mapping does not have
_DRF_GET_VALUES = frozenset(
    {
        fields.Field.get_value,
        fields.ListField.get_value,
        fields.MultipleChoiceField.get_value,
        fields.DictField.get_value,
        fields.JSONField.get_value,
        relations.ManyRelatedField.get_value,
        serializers.Serializer.get_value,
        serializers.ListSerializer.get_value,
    }
)


def _skipped_when_absent(field: serializers.Field) -> bool:
    """Whether DRF raises SkipField for this field when a plain mapping leaves it out."""
    return (
        not field.required and field.default is empty and type(field).get_value in _DRF_GET_VALUES
    )


def field_copy(field: serializers.Field) -> serializers.Field:
    """A shallow copy of an unbound declared field, ready for `bind()`: `copy.copy` without
    its `__reduce_ex__` round (a field keeps all its state in its `__dict__`)."""
    clone = object.__new__(type(field))
    clone.__dict__ = field.__dict__.copy()
    clone.__dict__.pop("fields", None)  # a nested serializer's cached fields: its own
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        clone.child = field_copy(child)
        clone.child.parent = clone  # bound already (name and source ""): only the parent
    return clone


class ShallowFieldsMixin:
    """Each instance gets `field_copy`s of the declared fields instead of deep copies (a
    ModelSerializer, which builds fields from its Meta per instance, keeps DRF's way)."""

    _given: Mapping[str, Any] | None = None  # the input being validated, when a plain mapping

    def get_fields(self) -> dict[str, serializers.Field]:
        if isinstance(self, serializers.ModelSerializer):
            return super().get_fields()
        return {name: field_copy(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data):
        plain = isinstance(data, Mapping) and not html.is_html_input(data)
        self._given = data if plain else None
        try:
            return super().to_internal_value(data)
        finally:
            self._given = None

    @property
    def _writable_fields(self):
        given = self._given
        for field in self.fields.values():
            if field.read_only:
                continue
            if given is not None and field.field_name not in given and _skipped_when_absent(field):
                continue
            yield field

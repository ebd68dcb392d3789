"""Cheaper field copies for the input serializers of hot endpoints.

DRF gives every serializer instance its own copy of the declared fields with
`copy.deepcopy`, which re-runs each field's `__init__` with deep-copied arguments: for the
stage post's 21 fields and their nested hashes that was an eighth of the request. A field
keeps no per-request state while it validates; what is its own per serializer is what
`bind()` sets on it (name, parent, source), and that lands on a shallow copy as well. So
`ShallowFieldsMixin` hands each instance shallow copies: a list or dict field's child is
copied and bound to the copy (its parent chain, and so `context`, reaches this instance),
and a nested serializer builds its own fields on first use, as before.
"""

import copy

from rest_framework import serializers


def field_copy(field: serializers.Field) -> serializers.Field:
    """A shallow copy of an unbound declared field, ready for `bind()`."""
    clone = copy.copy(field)
    clone.__dict__.pop("fields", None)  # a nested serializer's cached fields: its own
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        clone.child = field_copy(child)
        clone.child.parent = clone  # bound already (name and source ""): only the parent
    return clone


class ShallowFieldsMixin:
    """Each instance gets `field_copy`s of the declared fields instead of deep copies (a
    ModelSerializer, which builds fields from its Meta per instance, keeps DRF's way)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        if isinstance(self, serializers.ModelSerializer):
            return super().get_fields()
        return {name: field_copy(field) for name, field in self._declared_fields.items()}

"""A read-only serializer's output without DRF's per-field machinery, for hot responses.

`Serializer.to_representation` asks every field for its attribute through
`Field.get_attribute`: a method call, a module function looping over the source path, an
`isinstance(..., Mapping)` (an ABC check) and `is_simple_callable` for each step, and an
`isinstance(..., PKOnlyObject)` per value. For a stage post's two rows (about sixty fields
with their nested hashes) that was an eighth of the request.

`CompiledRepresentation(serializer)` reads the serializer's readable fields once and gives
a function with the same output: each field's value is read by plain `getattr` along its
source path, and is handed to the field's own `to_representation` (or to the compiled
nested serializer for a nested one). Wherever DRF's own rules could give something else —
a mapping on the path, a callable value (DRF calls it), a missing attribute or a missing
related object (DRF's default, null or skipped field), a field with its own `get_attribute`
(related fields), a serializer with its own `to_representation` — that field is read DRF's
way, so the output is always DRF's.

    _HISTORY_ROW = CompiledRepresentation(StageHistoryRowSerializer())
    body = {"order_stage": _HISTORY_ROW(history_row)}

Like a serializer instance kept for the process, the compiled function has no request
context: use it for serializers whose fields do not read `context`.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework.fields import Field, SkipField
from rest_framework.relations import PKOnlyObject

_PLAIN_GET_ATTRIBUTE = Field.get_attribute
_PLAIN_REPRESENTATION = serializers.Serializer.to_representation
_MAPPING_TYPES: dict[type, bool] = {}


class _DrfWay(Exception):
    """The fast read does not apply to this value: read the field DRF's way."""


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    known = _MAPPING_TYPES.get(kind)
    if known is None:
        known = _MAPPING_TYPES[kind] = isinstance(value, Mapping)
    return known


def _drf_value(field: Field, instance: Any) -> Any:
    """What `Serializer.to_representation` puts under the field's name (SkipField: none)."""
    attribute = field.get_attribute(instance)
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    return None if check_for_none is None else field.to_representation(attribute)


def _represents_plainly(serializer: serializers.BaseSerializer) -> bool:
    return (
        isinstance(serializer, serializers.Serializer)
        and type(serializer).to_representation is _PLAIN_REPRESENTATION
    )


class CompiledRepresentation:
    """`serializer.to_representation`, compiled (see the module)."""

    def __init__(self, serializer: serializers.Serializer) -> None:
        if not _represents_plainly(serializer):
            raise TypeError(
                f"{type(serializer).__name__} has its own to_representation; call it instead."
            )
        self.steps: list[tuple[str, tuple[str, ...], Callable[[Any], Any], Field, bool]] = []
        for field in serializer._readable_fields:
            represent = field.to_representation
            if _represents_plainly(field):
                represent = CompiledRepresentation(field)
            drf_way = type(field).get_attribute is not _PLAIN_GET_ATTRIBUTE
            self.steps.append(
                (field.field_name, tuple(field.source_attrs), represent, field, drf_way)
            )

    def __call__(self, instance: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, attrs, represent, field, drf_way in self.steps:
            try:
                if drf_way:
                    raise _DrfWay
                value = instance
                for attr in attrs:
                    if _is_mapping(value):
                        raise _DrfWay
                    value = getattr(value, attr)
                    if callable(value):
                        raise _DrfWay
            except (_DrfWay, AttributeError, ObjectDoesNotExist):
                try:
                    out[name] = _drf_value(field, instance)
                except SkipField:
                    pass
                continue
            out[name] = None if value is None else represent(value)
        return out
